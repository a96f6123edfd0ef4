"""Keys the profile names never leave the gateway: not in answers (in-band errors of both
kinds included), not in its log, not in the ledger or the statusline's files."""

import json
import logging

import anthropic
import pytest

from freeclaude.gateway.logs import BURST, WINDOW_S, Filter
from freeclaude.gateway.redact import MARK, Redactor
from tests.conftest import KEY, rows
from tests.support.fakes import Json, Raw, Stream, chunk, completion, profile

BODY = dict(model="claude-opus-5-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
REVOKED = f"key {KEY} is revoked"
SESSION = {"X-Claude-Code-Session-Id": "sess-1"}


@pytest.fixture
def log_file(tmp_path):
    """The gateway's log, as `run` keeps it: a file handler on the freeclaude and aiohttp loggers."""
    path = tmp_path / "server.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    loggers = [logging.getLogger(name) for name in ("freeclaude", "aiohttp")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield path
    for logger, level in zip(loggers, levels):
        logger.removeHandler(handler)
        logger.setLevel(level)
    handler.close()


def left_the_gateway(server, tmp_path) -> bytes:
    """What the gateway wrote to disk: its ledger (WAL included), its log, the statusline's files."""
    server.flush()
    return b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


async def raw_stream(server, headers=SESSION) -> bytes:
    client = anthropic.AsyncAnthropic(base_url=server.base_url, api_key="test-token", max_retries=0)
    try:
        resp = await client.messages.with_raw_response.create(**BODY, stream=True, extra_headers=headers)
        return await resp.http_response.aread()
    finally:
        await client.close()


async def test_an_error_inside_a_200_stream_openai_kind(fake, gateway, tmp_path, log_file):
    fake.queue(Stream([chunk({"content": "Hel"}), {"error": {"message": REVOKED, "code": 401}}], delay=0.05))
    server = await gateway(profile(fake.url), state_dir=tmp_path / "sessions")
    raw = await raw_stream(server)
    assert b"event: error" in raw and MARK.encode() in raw and KEY.encode() not in raw
    [row] = rows(server)
    assert row["error"] == f"fake:up-model answered 401: key {MARK} is revoked"
    assert KEY.encode() not in left_the_gateway(server, tmp_path)
    assert MARK in log_file.read_text()


async def test_an_error_inside_a_200_stream_before_any_answer_openai_kind(fake, gateway, tmp_path, log_file, sdk):
    fake.queue(Stream([{"error": {"message": REVOKED, "code": 401}}]))
    server = await gateway(profile(fake.url))
    with pytest.raises(anthropic.AuthenticationError) as caught:
        await sdk(server).messages.create(**BODY, stream=True)
    assert KEY not in str(caught.value.body) and MARK in str(caught.value.body)
    assert KEY.encode() not in left_the_gateway(server, tmp_path)


async def test_an_error_event_of_the_messages_kind_cut_in_the_middle_of_the_key(fake, gateway, tmp_path, log_file):
    """Passed through as the upstream sent it, but for the key, although the upstream's writes
    (so the gateway's reads) cut the key in two."""
    error = {"type": "error", "error": {"type": "authentication_error", "message": REVOKED}}
    event = f"event: error\ndata: {json.dumps(error)}\n\n".encode()
    half = event.index(KEY.encode()) + 6
    start = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                                                   "content": [], "stop_reason": None, "stop_sequence": None,
                                                   "usage": {"input_tokens": 9, "output_tokens": 1}}}
    fake.queue(Raw([f"event: message_start\ndata: {json.dumps(start)}\n\n".encode(), event[:half], event[half:]],
                   pause=0.05))
    server = await gateway(profile(fake.url.removesuffix("/v1"), kind="anthropic"), state_dir=tmp_path / "sessions")
    raw = await raw_stream(server)
    assert b"event: error" in raw and MARK.encode() in raw and KEY.encode() not in raw
    assert raw.count(b"event: ") == 2  # nothing else changed: the two events as they came
    assert [r["outcome"] for r in rows(server)] == ["authentication_error"]
    assert KEY.encode() not in left_the_gateway(server, tmp_path)


async def test_an_answer_that_quotes_the_key(fake, gateway, tmp_path, sdk):
    fake.queue(Json(completion({"content": f"your key is {KEY}"})))
    server = await gateway(profile(fake.url))
    message = await sdk(server).messages.create(**BODY)
    assert message.content[0].text == f"your key is {MARK}"


async def test_the_search_key_is_redacted_too(fake, gateway, tmp_path, sdk):
    search = {"kind": "brave", "api_key_env": "BRAVE_KEY"}
    fake.queue(Json(completion({"content": "brave-secret-456"})))
    server = await gateway(profile(fake.url, search=search), env={"FAKE_KEY": KEY, "BRAVE_KEY": "brave-secret-456"})
    message = await sdk(server).messages.create(**BODY)
    assert message.content[0].text == MARK


def test_what_the_redactor_leaves_alone():
    r = Redactor([KEY, None, "", "EMPTY", "sk-longer-" + KEY])
    assert r.keys == ("sk-longer-" + KEY, KEY)  # placeholders are no secrets; the longest first
    assert r.text(f"a sk-longer-{KEY} b {KEY} EMPTY") == f"a {MARK} b {MARK} EMPTY"
    assert r.bytes(KEY.encode() + b"\xff") == MARK.encode() + b"\xff"
    assert not Redactor([None, "ollama"])


def record(message: str, *args, exc=None) -> logging.LogRecord:
    return logging.LogRecord("freeclaude", logging.WARNING, __file__, 1, message, args, exc)


def test_log_lines_and_tracebacks_are_redacted():
    f = Filter(Redactor([KEY]))
    r = record("upstream said %s", REVOKED)
    assert f.filter(r) and r.getMessage() == f"upstream said key {MARK} is revoked"
    try:
        raise ValueError(REVOKED)
    except ValueError as e:
        r = record("failed", exc=(type(e), e, e.__traceback__))
    assert f.filter(r) and KEY not in logging.Formatter().format(r) and MARK in r.exc_text


def test_a_line_repeated_word_for_word_is_held_to_a_few_a_minute():
    now = [0.0]
    f = Filter(Redactor([]), clock=lambda: now[0])
    passed = []
    for _ in range(1000):
        r = record("401 for %s", "the same")
        passed.append(f.filter(r))
        assert f.filter(r) == passed[-1]  # the same record on its way to a second handler: counted once
    assert sum(passed) == BURST
    assert f.filter(record("another line"))  # others are not held up
    now[0] = WINDOW_S
    r = record("401 for %s", "the same")
    assert f.filter(r) and r.getMessage() == f"401 for the same (and {1000 - BURST} more like it in the 60 s before, not logged)"
