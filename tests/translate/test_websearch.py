"""The web search server tool, pure: finding it, what the upstream gets instead, the domain
filters, and the events the client sees (translate/websearch.py)."""

import json

import pytest

from freeclaude.translate import websearch
from freeclaude.translate.stream import StreamTranslator
from freeclaude.translate.validate import InvalidRequest
from freeclaude.translate.websearch import Hit, Relay, SearchError, Tool

SERVER_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 8}
# Claude Code 2.1.330's search sub-request (its WebSearch tool), as the binary builds it.
CLAUDE_CODE = {"model": "claude-opus-5-5", "max_tokens": 128000, "stream": True,
               "system": [{"type": "text", "text": "You run a web search for another Claude model ..."}],
               "messages": [{"role": "user", "content": "Perform a web search for the query: freeclaude"}],
               "tools": [SERVER_TOOL], "tool_choice": {"type": "tool", "name": "web_search"},
               "thinking": {"type": "disabled"}}


@pytest.mark.parametrize("tool, expected", [
    (SERVER_TOOL, Tool("web_search", max_uses=8)),
    ({"type": "web_search_20260209", "name": "web_search"}, Tool("web_search")),
    ({"type": "web_search_20250305", "name": "web_search", "allowed_domains": ["a.com"],
      "user_location": {"type": "approximate", "country": "FR"}}, Tool("web_search", allowed=("a.com",), country="FR")),
    ({"type": "web_search_20250305", "name": "web_search", "max_uses": 0}, Tool("web_search")),
    ({"name": "Read", "input_schema": {"type": "object"}}, None),
    ({"type": "custom", "name": "web_search", "input_schema": {"type": "object"}}, None),
])
def test_the_server_tool_is_found_in_any_version(tool, expected):
    assert websearch.find({"tools": [tool]}) == expected


@pytest.mark.parametrize("tool, field", [
    ({**SERVER_TOOL, "allowed_domains": ["a.com"], "blocked_domains": ["b.com"]}, "not both"),
    ({**SERVER_TOOL, "allowed_domains": "a.com"}, "allowed_domains"),
])
def test_a_tool_that_cannot_run_is_refused(tool, field):
    with pytest.raises(InvalidRequest, match=field):
        websearch.find({"tools": [tool]})


def test_the_upstream_gets_a_plain_tool_of_the_same_name_and_a_stream():
    out = websearch.for_upstream(dict(CLAUDE_CODE, stream=False), websearch.find(CLAUDE_CODE))
    assert out["tools"] == [{"name": "web_search", "description": websearch.DESCRIPTION, "input_schema": websearch.SCHEMA}]
    assert out["stream"] is True and out["tool_choice"] == {"type": "tool", "name": "web_search"}
    assert out["messages"] == CLAUDE_CODE["messages"]


def test_the_next_round_carries_the_answer_and_results_and_forces_nothing():
    tool = websearch.find(CLAUDE_CODE)
    body = websearch.for_upstream(CLAUDE_CODE, tool)
    content = [{"type": "tool_use", "id": "call_1", "name": "web_search", "input": {"query": "q"}}]
    results = [{"type": "tool_result", "tool_use_id": "call_1", "content": "results"}]
    nxt = websearch.continuation(dict(body, tool_choice={"type": "any", "disable_parallel_tool_use": True}), content, results)
    assert nxt["messages"][-2:] == [{"role": "assistant", "content": content}, {"role": "user", "content": results}]
    assert nxt["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert websearch.continuation(dict(body, tool_choice={"type": "auto"}), content, results)["tool_choice"] == {"type": "auto"}


def test_earlier_searches_in_the_history_become_calls_and_results():
    history = [
        {"role": "user", "content": "What is new in freeclaude?"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Searching."},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "freeclaude"}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
                {"type": "web_search_result", "title": "Notes", "url": "https://x.org/n", "page_age": "May 1, 2026",
                 "encrypted_content": "EqgfCioI..."}]},
            {"type": "server_tool_use", "id": "srvtoolu_2", "name": "web_search", "input": {"query": "again"}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_2",
             "content": {"type": "web_search_tool_result_error", "error_code": "too_many_requests"}},
            {"type": "text", "text": "Version 3 [x.org]."}]},
        {"role": "user", "content": "Thanks"},
    ]
    out = websearch.for_upstream(dict(CLAUDE_CODE, messages=history), Tool("web_search"))["messages"]
    assert [m["role"] for m in out] == ["user", "assistant", "user", "assistant", "user", "assistant", "user"]
    assert out[1]["content"] == [{"type": "text", "text": "Searching."},
                                 {"type": "tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "freeclaude"}}]
    first = out[2]["content"][0]
    assert first["tool_use_id"] == "srvtoolu_1" and "https://x.org/n" in first["content"] and "Notes" in first["content"]
    assert out[4]["content"][0] == {"type": "tool_result", "tool_use_id": "srvtoolu_2", "is_error": True,
                                    "content": "The web search failed (too_many_requests)."}
    assert out[5] == {"role": "assistant", "content": [{"type": "text", "text": "Version 3 [x.org]."}]}


def test_a_search_split_turn_merges_into_the_next_user_turn():
    history = [{"role": "user", "content": "q"},
               {"role": "assistant", "content": [
                   {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"query": "q"}},
                   {"type": "web_search_tool_result", "tool_use_id": "s1", "content": []}]},
               {"role": "user", "content": "and then?"}]
    out = websearch.for_upstream(dict(CLAUDE_CODE, messages=history), Tool("web_search"))["messages"]
    assert [m["role"] for m in out] == ["user", "assistant", "user"]
    assert out[2]["content"][0]["tool_use_id"] == "s1" and out[2]["content"][1] == {"type": "text", "text": "and then?"}


@pytest.mark.parametrize("rule, url, matches", [
    ("example.com", "https://example.com/a", True),
    ("example.com", "https://docs.example.com/a", True),
    ("example.com", "https://notexample.com/a", False),
    ("docs.example.com", "https://example.com/a", False),
    ("docs.example.com", "https://docs.example.com/a", True),
    ("https://example.com", "https://example.com/", True),
    ("example.com/blog", "https://example.com/blog/post-1", True),
    ("example.com/blog", "https://example.com/blog", True),
    ("example.com/blog", "https://example.com/blogger", False),
    ("example.com/blog", "https://example.com/news", False),
    ("example.com/*/articles", "https://example.com/2026/articles/x", True),
    ("example.com/*/articles", "https://example.com/2026/news/x", False),
    ("example.com/*", "https://example.com/anything", True),
])
def test_domain_filters_follow_anthropics_rules(rule, url, matches):
    hits = [Hit("t", url)]
    assert (websearch.kept(Tool("w", allowed=(rule,)), hits, 5) == hits) is matches
    assert (websearch.kept(Tool("w", blocked=(rule,)), hits, 5) == []) is matches


@pytest.mark.parametrize("rule", ["*.example.com", "ex*.com", "example.com/*/news/*", ""])
def test_domain_filters_anthropic_refuses_are_invalid_input(rule):
    with pytest.raises(SearchError) as e:
        websearch.query_of(Tool("w", allowed=(rule,) if rule else ()), {"query": " "}, 0)
    assert e.value.code == "invalid_tool_input"
    if rule:
        with pytest.raises(SearchError):
            websearch.query_of(Tool("w", allowed=(rule,)), {"query": "fine"}, 0)


def test_kept_drops_repeats_and_non_web_urls_and_stops_at_the_limit():
    hits = [Hit("a", "https://a.org"), Hit("a again", "https://a.org"), Hit("ftp", "ftp://b.org"),
            Hit("c", "https://c.org"), Hit("d", "https://d.org")]
    assert [h.url for h in websearch.kept(Tool("w"), hits, 2)] == ["https://a.org", "https://c.org"]


def test_max_uses_counts_every_call_before():
    tool = Tool("w", max_uses=2)
    assert websearch.query_of(tool, {"query": " q "}, 1) == "q"
    with pytest.raises(SearchError) as e:
        websearch.query_of(tool, {"query": "q"}, 2)
    assert e.value.code == "max_uses_exceeded"


def test_results_read_as_numbered_sources_for_the_model():
    text = websearch.result_text("free models", [Hit("Notes", "https://x.org/n", "Version 3.", "2026-11-30"),
                                                  Hit("", "https://y.org")])
    assert text.startswith('Web search results for "free models":')
    assert "[1] Notes\nURL: https://x.org/n\nPublished: 2026-11-30\nVersion 3." in text
    assert "[2] https://y.org\nURL: https://y.org" in text
    assert websearch.result_text("q", []) == 'The web search for "q" found no results.'


# ---------------------------------------------------------------- the relay


def upstream_events(text: str = "", query: str | None = "freeclaude", finish: str = "tool_calls", call_id="call_9"):
    """What the gateway's own translator makes of a Chat Completions answer."""
    tr = StreamTranslator(model="claude-opus-5-5", input_estimate=50, text_tool_calls=False)
    delta: dict = {"content": text} if text else {}
    if query is not None:
        delta["tool_calls"] = [{"index": 0, "id": call_id, "type": "function",
                                "function": {"name": "web_search", "arguments": json.dumps({"query": query})}}]
    return tr.feed({"choices": [{"delta": delta, "finish_reason": finish}],
                    "usage": {"prompt_tokens": 50, "completion_tokens": 7}}) + tr.finish(done=True)


def relay_all(relay: Relay, events, hits) -> list:
    out = []
    for name, data in events:
        out += relay.feed(name, data)
        for call in list(relay.waiting):
            out += relay.resolve(call, hits, "freeclaude")
    return out


def test_a_search_round_then_an_answer_is_one_message_in_anthropics_order():
    relay = Relay(Tool("web_search", max_uses=8))
    hits = [Hit("Notes", "https://x.org/n", "Version 3.", "2026-11-30")]
    first = relay_all(relay, upstream_events("Let me look."), hits)
    body = relay.next_body(websearch.for_upstream(CLAUDE_CODE, Tool("web_search")))
    assert body is not None
    second = relay_all(relay, upstream_events("Version 3 is out: https://x.org/n", query=None, finish="stop"), hits)
    assert relay.next_body(body) is None
    end = relay.finish({"input_tokens": 100, "output_tokens": 14})
    events = first + second + end
    starts = [(d["index"], d["content_block"]["type"]) for n, d in events if n == "content_block_start"]
    assert starts == [(0, "text"), (1, "server_tool_use"), (2, "web_search_tool_result"), (3, "text")]
    assert [n for n, _ in events].count("message_start") == 1
    use = next(d["content_block"] for n, d in events if n == "content_block_start" and d["index"] == 1)
    result = next(d["content_block"] for n, d in events if n == "content_block_start" and d["index"] == 2)
    assert use["id"].startswith("srvtoolu_") and use == {"type": "server_tool_use", "id": use["id"], "name": "web_search",
                                                         "input": {}}
    assert result == {"type": "web_search_tool_result", "tool_use_id": use["id"], "content": [
        {"type": "web_search_result", "title": "Notes", "url": "https://x.org/n", "page_age": "2026-11-30"}]}
    query = "".join(d["delta"]["partial_json"] for n, d in events if n == "content_block_delta" and d["index"] == 1)
    assert json.loads(query) == {"query": "freeclaude"}
    assert end[0][1] == {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                         "usage": {"input_tokens": 100, "output_tokens": 14,
                                   "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0}}}
    # the second round asked with the first round's answer and the results, the model's own call id kept
    assistant, user = body["messages"][-2:]
    assert assistant["content"][-1] == {"type": "tool_use", "id": "call_9", "name": "web_search",
                                        "input": {"query": "freeclaude"}}
    assert user["content"][0]["tool_use_id"] == "call_9" and "Version 3." in user["content"][0]["content"]


def test_a_failed_search_is_an_error_block_and_an_error_result_for_the_model():
    relay = Relay(Tool("web_search"))
    events = relay_all(relay, upstream_events(), SearchError("too_many_requests", "slow down"))
    result = next(d["content_block"] for n, d in events if n == "content_block_start"
                  and d["content_block"]["type"] == "web_search_tool_result")
    assert result["content"] == {"type": "web_search_tool_result_error", "error_code": "too_many_requests"}
    body = relay.next_body(websearch.for_upstream(CLAUDE_CODE, Tool("web_search")))
    assert body["messages"][-1]["content"][0] == {"type": "tool_result", "tool_use_id": "call_9", "is_error": True,
                                                  "content": "The web search failed (too_many_requests): slow down"}
    assert relay.finish({})[0][1]["usage"]["server_tool_use"]["web_search_requests"] == 0


def test_a_search_next_to_a_client_tool_call_ends_the_message_for_the_client():
    relay = Relay(Tool("web_search"))
    tr = StreamTranslator(model="m", input_estimate=5, text_tool_calls=False)
    calls = [{"index": 0, "id": "c1", "type": "function", "function": {"name": "web_search", "arguments": '{"query": "q"}'}},
             {"index": 1, "id": "c2", "type": "function", "function": {"name": "Read", "arguments": '{"file_path": "/a"}'}}]
    events = tr.feed({"choices": [{"delta": {"tool_calls": calls}, "finish_reason": "tool_calls"}]}) + tr.finish(done=True)
    out = relay_all(relay, events, [Hit("t", "https://t.org")])
    kinds = [d["content_block"]["type"] for n, d in out if n == "content_block_start"]
    assert kinds == ["server_tool_use", "web_search_tool_result", "tool_use"]
    assert relay.next_body(CLAUDE_CODE) is None
    assert relay.finish({})[0][1]["delta"]["stop_reason"] == "tool_use"


def test_rounds_that_run_out_pause_the_turn():
    relay = Relay(Tool("web_search"))
    relay_all(relay, upstream_events(), [])
    assert relay.finish({}, paused=True)[0][1]["delta"]["stop_reason"] == "pause_turn"


def test_an_upstream_error_event_passes_and_pings_do_not():
    relay = Relay(Tool("web_search"))
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    assert relay.feed("ping", {"type": "ping"}) == []
    assert relay.feed("error", error) == [("error", error)]


def test_block_events_of_no_block_the_upstream_opened_are_dropped():
    # a Messages upstream's events come as it sent them: one naming no opened block has nothing to show
    relay = Relay(Tool("web_search"))
    events = upstream_events("Let me look.")
    delta = {"type": "text_delta", "text": "x"}
    for name, data in [("content_block_delta", {"type": "content_block_delta", "delta": delta}),
                       ("content_block_delta", {"type": "content_block_delta", "index": 7, "delta": delta}),
                       ("content_block_stop", {"type": "content_block_stop", "index": "0"}),
                       ("content_block_start", {"type": "content_block_start", "index": 5})]:
        assert relay.feed(name, data) == []
    out = relay_all(relay, events, [Hit("t", "https://t.org")])
    assert [(n, d["index"]) for n, d in out if n.startswith("content_block_")][:3] == [
        ("content_block_start", 0), ("content_block_delta", 0), ("content_block_stop", 0)]
    assert relay.next_body(websearch.for_upstream(CLAUDE_CODE, Tool("web_search"))) is not None
