"""Web search on models that have none, through the gateway: the official SDK as the client, a
scripted upstream (Chat Completions, or a strict Messages endpoint that cannot run server
tools), and a strict SearXNG fake behind it (searchloop.py)."""

import json
import re

import anthropic
import pytest

from tests.conftest import rows
from tests.emulators.brain import Call, Turn
from tests.emulators.moonshot import MoonshotAnthropic
from tests.support import search_fakes
from tests.support.fakes import Json, Stream, call, chunk, profile, usage
from tests.support.search_fakes import Page

PAGES = [Page("Freeclaude 3 released", "https://news.example.org/freeclaude-3", "Freeclaude 3 adds web search.", "2026-11-30"),
         Page("Freeclaude source", "https://github.com/example/freeclaude", "The freeclaude repository.")]
SEARCH_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 8}
# What Claude Code 2.1.330 sends for its WebSearch tool (read from its binary): one user turn, the
# server tool forced, thinking off.
ASK = {"model": "claude-opus-5-5", "max_tokens": 128000, "tools": [SEARCH_TOOL],
       "tool_choice": {"type": "tool", "name": "web_search"}, "thinking": {"type": "disabled"},
       "system": "You run a web search for another Claude model, which is waiting on the result and can search again. "
                 "Search once, then reply with a brief summary of the results.",
       "messages": [{"role": "user", "content": "Perform a web search for the query: freeclaude release"}]}
WHOLE = dict(ASK, max_tokens=4096)  # unstreamed: the SDK refuses Claude Code's 128000 without a stream


class Searcher:
    """A Chat Completions model: asked with a web_search tool and no result yet, it searches
    (`queries`, one call a turn); with results, it answers with the first URL it was given."""

    def __init__(self, *queries: str) -> None:
        self.queries = list(queries or ["freeclaude release"])
        self.bodies: list[dict] = []

    def __call__(self, body: dict):
        self.bodies.append(body)
        n = len(self.bodies)
        results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
        tools = [t["function"]["name"] for t in body.get("tools") or ()]
        if "web_search" in tools and len(results) < len(self.queries):
            args = json.dumps({"query": self.queries[len(results)]})
            chunks = [chunk({"role": "assistant", "content": ""}),
                      chunk({"tool_calls": [call(0, f"call_{n}", "web_search", "")]})]
            chunks += [chunk({"tool_calls": [call(0, args=args[i:i + 7])]}) for i in range(0, len(args), 7)]
            return Stream(chunks + [chunk(finish="tool_calls"), chunk(usage=usage(100 * n, 10 * n))])
        urls = re.findall(r"URL: (\S+)", "\n".join(results))
        text = f"Freeclaude 3 is out: {urls[0]}" if urls else "No luck: " + " | ".join(results)
        return Stream([chunk({"content": text[:9]}), chunk({"content": text[9:]}), chunk(finish="stop"),
                       chunk(usage=usage(100 * n, 10 * n))])


async def started(gateway, fake, search_fake, *, search: bool = True, searxng=None, **kw):
    searxng = await search_fake(searxng or search_fakes.SearXNG(pages=PAGES))
    table = {"kind": "searxng", "base_url": searxng.url} if search else None
    url = fake.url.removesuffix("/v1") if kw.get("kind") == "anthropic" else fake.url
    return await gateway(profile(url, search=table, **kw)), searxng


async def test_the_sdk_sees_anthropics_block_sequence_ids_and_usage(gateway, fake, sdk, search_fake):
    fake.default = Searcher()
    server, searxng = await started(gateway, fake, search_fake)
    client = sdk(server)
    events = []
    async with client.messages.stream(**ASK) as stream:
        async for event in stream:
            events.append(event)
        message = await stream.get_final_message()
    assert [b.type for b in message.content] == ["server_tool_use", "web_search_tool_result", "text"]
    use, result, text = message.content
    assert re.fullmatch(r"srvtoolu_\w+", use.id) and use.name == "web_search" and use.input == {"query": "freeclaude release"}
    assert result.tool_use_id == use.id
    assert [(r.type, r.title, r.url, r.page_age) for r in result.content] == [
        ("web_search_result", p.title, p.url, p.published) for p in PAGES]
    assert text.text == f"Freeclaude 3 is out: {PAGES[0].url}"
    assert message.stop_reason == "end_turn"
    assert message.usage.server_tool_use.web_search_requests == 1
    assert (message.usage.input_tokens, message.usage.output_tokens) == (100 + 200, 10 + 20)
    raw = [e.type for e in events if e.type in ("message_start", "content_block_start", "content_block_stop",
                                               "message_delta", "message_stop")]
    assert raw == ["message_start", "content_block_start", "content_block_stop", "content_block_start",
                   "content_block_stop", "content_block_start", "content_block_stop", "message_delta", "message_stop"]
    # searxng was asked what the model asked for
    assert searxng.last.query == {"q": "freeclaude release", "format": "json"}
    # the model got a plain tool, forced on the first round only, and the results with their text
    first, second = fake.received[0].body, fake.received[1].body
    assert [t["function"]["name"] for t in first["tools"]] == ["web_search"]
    assert first["tool_choice"] == {"type": "function", "function": {"name": "web_search"}}
    assert second["tool_choice"] == "auto"
    tool_message = next(m for m in second["messages"] if m["role"] == "tool")
    assert tool_message["tool_call_id"] == "call_1" and "Freeclaude 3 adds web search." in tool_message["content"]
    # one ledger row: both upstream calls, summed, and the search
    assert rows(server, "input_tokens, output_tokens, web_searches, outcome") == [
        {"input_tokens": 300, "output_tokens": 30, "web_searches": 1, "outcome": "ok"}]


async def test_a_request_that_does_not_stream_gets_the_same_message(gateway, fake, sdk, search_fake):
    fake.default = Searcher()
    server, _ = await started(gateway, fake, search_fake)
    message = await sdk(server).messages.create(**WHOLE)
    assert [b.type for b in message.content] == ["server_tool_use", "web_search_tool_result", "text"]
    assert message.content[1].tool_use_id == message.content[0].id
    assert message.usage.server_tool_use.web_search_requests == 1
    assert PAGES[0].url in message.content[2].text


async def test_without_a_search_backend_the_model_is_told_to_say_so(gateway, fake, sdk, search_fake):
    fake.default = Searcher()
    server, _ = await started(gateway, fake, search_fake, search=False)
    message = await sdk(server).messages.create(**WHOLE)
    assert message.content[1].content.type == "web_search_tool_result_error"
    assert message.content[1].content.error_code == "unavailable"
    told = next(m for m in fake.received[1].body["messages"] if m["role"] == "tool")["content"]
    assert "not set up" in told and "[search] table" in told and "Tell the user" in told
    assert message.usage.server_tool_use.web_search_requests == 0
    assert rows(server, "web_searches, outcome") == [{"web_searches": 0, "outcome": "ok"}]


async def test_a_failing_search_service_is_an_error_block_not_a_failed_request(gateway, fake, sdk, search_fake):
    fake.default = Searcher()
    busy = search_fakes.SearXNG(pages=PAGES, refuse=(429, "Too Many Requests"))
    server, _ = await started(gateway, fake, search_fake, searxng=busy)
    message = await sdk(server).messages.create(**WHOLE)
    assert message.content[1].content.error_code == "too_many_requests"
    assert message.content[2].type == "text" and message.stop_reason == "end_turn"


async def test_max_uses_caps_the_searches_and_says_so(gateway, fake, sdk, search_fake):
    fake.default = Searcher("freeclaude release", "freeclaude source")
    server, searxng = await started(gateway, fake, search_fake)
    message = await sdk(server).messages.create(**dict(WHOLE, tools=[dict(SEARCH_TOOL, max_uses=1)]))
    kinds = [b.type for b in message.content]
    assert kinds == ["server_tool_use", "web_search_tool_result", "server_tool_use", "web_search_tool_result", "text"]
    assert isinstance(message.content[1].content, list)
    assert message.content[3].content.error_code == "max_uses_exceeded"
    assert len(searxng.received) == 1 and message.usage.server_tool_use.web_search_requests == 1


async def test_allowed_domains_filter_what_the_model_and_the_client_see(gateway, fake, sdk, search_fake):
    fake.default = Searcher()
    server, searxng = await started(gateway, fake, search_fake)
    message = await sdk(server).messages.create(**dict(WHOLE, tools=[dict(SEARCH_TOOL, allowed_domains=["github.com"])]))
    assert [r.url for r in message.content[1].content] == [PAGES[1].url]
    assert searxng.last.query["q"] == "freeclaude release site:github.com"
    assert PAGES[0].url not in json.dumps(fake.received[1].body)


async def test_both_domain_lists_at_once_is_a_bad_request(gateway, fake, sdk, search_fake):
    server, _ = await started(gateway, fake, search_fake)
    with pytest.raises(anthropic.BadRequestError, match="not both"):
        await sdk(server).messages.create(**dict(WHOLE, tools=[dict(SEARCH_TOOL, allowed_domains=["a.com"],
                                                                   blocked_domains=["b.com"])]))
    assert fake.received == []


async def test_a_first_round_that_fails_falls_back_to_the_next_model(gateway, fake, sdk, search_fake):
    searcher = Searcher()
    fake.queue(Json({"error": {"message": "rate limited"}}, status=429))
    fake.default = searcher
    server, _ = await started(gateway, fake, search_fake, extra_models={"second": {"context_window": 32768}},
                              tiers={"opus": ["fake:up-model", "fake:second"]})
    message = await sdk(server).messages.create(**WHOLE)
    assert [b.type for b in message.content] == ["server_tool_use", "web_search_tool_result", "text"]
    assert [r["upstream_model"] for r in rows(server, "upstream_model")] == ["up-model", "second"]


async def test_a_later_round_that_fails_ends_the_stream_with_an_error_event(gateway, fake, sdk, search_fake):
    searcher = Searcher()
    fake.queue(lambda body: searcher(body), Json({"error": {"message": "upstream broke"}}, status=500))
    server, _ = await started(gateway, fake, search_fake)
    with pytest.raises(anthropic.APIStatusError):
        async with sdk(server).messages.stream(**ASK) as stream:
            async for _ in stream:
                pass
    assert rows(server, "outcome, web_searches") == [{"outcome": "api_error", "web_searches": 1}]


async def test_a_messages_upstream_without_server_tools_gets_the_plain_tool(gateway, sdk, search_fake, aiohttp_server):
    """Moonshot's Anthropic endpoint (strict: tool_use / tool_result pairing, its thinking
    signatures checked when they come back): the gateway runs the search between two Messages
    calls, the first round's thinking and call carried back as they came."""
    def brain(view):
        if not view.results:
            return Turn(reasoning="The user wants news: search.", calls=[Call("web_search", {"query": "freeclaude release"})])
        return Turn(text="Found " + re.findall(r"URL: (\S+)", view.results[-1])[0])

    moonshot = MoonshotAnthropic(brain)
    server = await aiohttp_server(moonshot.app(), host="127.0.0.1")
    searxng = await search_fake(search_fakes.SearXNG(pages=PAGES))
    gw = await gateway(profile(str(server.make_url("/anthropic")), kind="anthropic", model="kimi-k3",
                               search={"kind": "searxng", "base_url": searxng.url}),
                       env={"FAKE_KEY": moonshot.key})
    message = await sdk(gw).messages.create(**WHOLE)
    assert [b.type for b in message.content] == ["thinking", "server_tool_use", "web_search_tool_result", "text"]
    assert message.content[3].text == f"Found {PAGES[0].url}" and moonshot.rejected == []
    sent = moonshot.received[0].body
    assert sent["tools"][0]["name"] == "web_search" and "type" not in sent["tools"][0]
    replayed = moonshot.received[1].body["messages"][-2]["content"]
    assert [b["type"] for b in replayed] == ["thinking", "tool_use"] and replayed[0]["signature"] in moonshot.signed
    assert message.usage.server_tool_use.web_search_requests == 1


async def test_an_upstream_that_runs_the_server_tool_gets_it_unchanged(gateway, fake, sdk, search_fake):
    answer = [("message_start", {"type": "message_start", "message": {
                  "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
                  "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 1}}}),
              ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
              ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
              ("content_block_stop", {"type": "content_block_stop", "index": 0}),
              ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                 "usage": {"output_tokens": 2, "server_tool_use": {"web_search_requests": 1}}}),
              ("message_stop", {"type": "message_stop"})]
    fake.default = Stream(answer, events=True)
    server, searxng = await started(gateway, fake, search_fake, kind="anthropic", quirks={"server_web_search": True})
    async with sdk(server).messages.stream(**ASK) as stream:
        message = await stream.get_final_message()
    assert fake.last.body["tools"] == [SEARCH_TOOL] and searxng.received == []
    assert message.usage.server_tool_use.web_search_requests == 1


async def test_each_round_counts_against_the_providers_budgets(gateway, fake, sdk, search_fake):
    """A loop's second upstream call is a request like any: with one request a minute allowed and
    no waiting, it is refused as the rate limit it would trip (after the first bytes: in-band)."""
    fake.default = Searcher()
    searxng = await search_fake(search_fakes.SearXNG(pages=PAGES))
    server = await gateway(profile(fake.url, rpm=1, search={"kind": "searxng", "base_url": searxng.url}), max_wait=0.0)
    with pytest.raises(anthropic.APIStatusError, match="requests per minute"):
        async with sdk(server).messages.stream(**ASK) as stream:
            async for _ in stream:
                pass
    assert len(fake.received) == 1 and rows(server, "outcome") == [{"outcome": "rate_limit_error"}]
