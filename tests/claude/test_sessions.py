"""The per-session state the statusline reads, on the gateway's side: which Claude Code session a
request belongs to, and what one finished attempt adds to that session's file."""

import json

import pytest

from freeclaude.claude.sessions import Board, client_session, read, session_file
from freeclaude.usage.ledger import Row


@pytest.mark.parametrize("headers, body, sid", [
    ({"X-Claude-Code-Session-Id": "from-header"}, {"metadata": {"user_id": '{"session_id": "from-body"}'}}, "from-header"),
    ({"X-Claude-Code-Session-Id": "h" * 150}, {}, "h" * 100),
    ({}, {"metadata": {"user_id": json.dumps({"session_id": "b" * 150})}}, "b" * 100),
    ({}, {"metadata": "not a table"}, None),
    ({}, {"metadata": {"user_id": '{"session_id": 7}'}}, None),
    ({}, {"metadata": {"user_id": '{"session_id": ""}'}}, None),
    ({}, {"metadata": {"user_id": '{"device_id": "d"}'}}, None),
    ({"X-Claude-Code-Session-Id": ""}, {}, None),
])
def test_the_session_a_request_names(headers, body, sid):
    assert client_session(headers, body) == sid


def row(**kw) -> Row:
    fields = dict(session="g", request_id="req_1", profile="p", tier="opus", requested_model="claude-opus-5-5",
                  provider="fake", upstream_model="a", stream=True, position=0, attempt=0, input_tokens=100,
                  output_tokens=5, cost_usd=0.001, list_price_usd=0.01, client_session="cc-1")
    return Row(**fields | kw)


def test_an_attempt_adds_its_tokens_and_a_request_counts_once(tmp_path):
    now = [1000.0]
    board = Board(str(tmp_path), clock=lambda: now[0])
    board.record(row(outcome="rate_limit_error", status=429, input_tokens=0, output_tokens=0, list_price_usd=0.0), {})
    now[0] = 1002.0
    board.record(row(attempt=1, position=1, upstream_model="b", cost_usd=0.002), {"fake:a": 30.0})
    state = read(str(tmp_path), "cc-1")
    assert state["requests"] == 1  # the fallback's attempt is the same request
    assert (state["input_tokens"], state["output_tokens"]) == (100, 5)
    assert state["cost_usd"] == pytest.approx(0.003) and state["list_price_usd"] == pytest.approx(0.01)
    assert state["routes"] == {"claude-opus-5-5": {"tier": "opus", "model": "fake:b", "position": 1, "outcome": "ok",
                                                   "at": 1002.0}}
    assert state["cooling"] == {"fake:a": 1032.0}  # when it ends, not how long it has left
    assert state["updated"] == 1002.0 and state["profile"] == "p"


def test_a_model_that_answers_waits_no_more_and_the_others_still_do(tmp_path):
    board = Board(str(tmp_path), clock=lambda: 500.0)
    board.hold("cc-1", "fake:a", "tpm", 20)
    board.hold("cc-1", "fake:b", "rpm", 3)
    assert read(str(tmp_path), "cc-1")["waiting"] == {"fake:a": {"limit": "tpm", "until": 520.0},
                                                      "fake:b": {"limit": "rpm", "until": 503.0}}
    board.record(row(upstream_model="a"), {})
    assert read(str(tmp_path), "cc-1")["waiting"] == {"fake:b": {"limit": "rpm", "until": 503.0}}
    board.hold("../escape", "fake:a", "tpm", 20)  # no file for an id that cannot be a file name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cc-1.json"]


def test_a_state_file_that_is_not_an_object_reads_as_none(tmp_path):
    (tmp_path / "cc-1.json").write_text("[1, 2]")
    assert read(str(tmp_path), "cc-1") is None
    assert session_file(str(tmp_path), "x" * 100) == str(tmp_path / ("x" * 100 + ".json"))
    Board(str(tmp_path)).record(row(), {})  # a state it cannot read starts afresh
    assert read(str(tmp_path), "cc-1")["requests"] == 1
