"""Bounded answers on providers that reserve max_tokens: the first ask is a share of the minute,
an answer the bound cut off is asked again with more room, and the client only ever gets a whole
answer, streamed or not, translated or passed through."""

import json
import logging

import aiohttp
import pytest

from freeclaude.translate import sse
from tests.conftest import rows
from tests.gateway.test_server import AUTH
from tests.support.fakes import Json, Stream, chunk, completion, profile, usage

WHOLE = "The whole answer, every word of it."


def reserving(url: str, kind: str = "openai"):
    return profile(url, kind=kind, context_window=131072, max_output_tokens=32768, quirks={"reserves_max_tokens": True},
                   tpm=30000)


def openai_model(body: dict):
    """Cut off at max_tokens below 10,000, whole above: as a long answer on a small bound."""
    cut = body["max_tokens"] < 10000
    text, finish = (WHOLE[:8], "length") if cut else (WHOLE, "stop")
    if body.get("stream"):
        return Stream([chunk({"role": "assistant", "content": text}), chunk(finish=finish),
                       chunk(usage=usage(1000, body["max_tokens"] if cut else 40, cached=600))])
    reply = completion({"content": text}, finish=finish, prompt=1000, completion_tokens=40)
    return Json(reply)


def anthropic_model(body: dict):
    cut = body["max_tokens"] < 10000
    text, stop = (WHOLE[:8], "max_tokens") if cut else (WHOLE, "end_turn")
    start = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "up",
                                                   "content": [], "stop_reason": None,
                                                   "usage": {"input_tokens": 1000, "output_tokens": 1}}}
    return Stream([("message_start", start),
                   ("content_block_start", {"type": "content_block_start", "index": 0,
                                            "content_block": {"type": "text", "text": ""}}),
                   ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "text_delta", "text": text}}),
                   ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 40}}),
                   ("message_stop", {"type": "message_stop"})], events=True)


async def post(server, body: dict) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as s:
        async with s.post(server.base_url + "/v1/messages", json=body, headers=AUTH) as r:
            return r.status, await r.read()


def read_sse(raw: bytes) -> list[tuple[str, dict]]:
    return [(name, json.loads(data)) for name, data in sse.Decoder().feed(raw)]


def request(stream: bool, max_tokens: int = 32000) -> dict:
    return {"model": "claude-sonnet-5", "max_tokens": max_tokens, "stream": stream,
            "messages": [{"role": "user", "content": "Write it all."}]}


@pytest.mark.parametrize("stream", [True, False])
async def test_a_cut_answer_is_asked_again_and_only_the_whole_one_reaches_the_client(fake, gateway, stream, caplog):
    caplog.set_level(logging.INFO, "freeclaude")
    fake.default = openai_model
    server = await gateway(reserving(fake.url))
    status, raw = await post(server, request(stream))
    assert status == 200, raw
    if stream:
        events = read_sse(raw)
        text = "".join(d["delta"].get("text", "") for n, d in events if n == "content_block_delta")
        stops = [d["delta"]["stop_reason"] for n, d in events if n == "message_delta"]
        assert [n for n, _ in events].count("message_start") == 1
    else:
        message = json.loads(raw)
        text, stops = message["content"][0]["text"], [message["stop_reason"]]
    assert text == WHOLE and stops == ["end_turn"]
    assert [r.body["max_tokens"] for r in fake.received] == [30000 // 8, 30000 // 8 * 4]
    [row] = rows(server)
    assert row["outcome"] == "ok" and row["output_tokens"] == (30000 // 8 if stream else 40) + 40  # both answers billed
    assert "the answer reached max_tokens 3,750: asked again with 15,000" in caplog.text


async def test_a_passed_through_answer_cut_off_is_asked_again(fake, gateway):
    fake.default = anthropic_model
    server = await gateway(reserving(fake.url.removesuffix("/v1"), kind="anthropic"))
    status, raw = await post(server, request(True))
    events = read_sse(raw)
    assert status == 200 and [d["delta"]["text"] for n, d in events if n == "content_block_delta"] == [WHOLE]
    assert [r.body["max_tokens"] for r in fake.received] == [3750, 15000]


async def test_an_answer_cut_at_what_the_client_asked_for_is_its_own(fake, gateway):
    fake.default = openai_model
    server = await gateway(reserving(fake.url))
    status, raw = await post(server, request(True, max_tokens=3000))  # under the bound: nothing held back
    stops = [d["delta"]["stop_reason"] for n, d in read_sse(raw) if n == "message_delta"]
    assert status == 200 and stops == ["max_tokens"] and len(fake.received) == 1


async def test_a_provider_that_does_not_reserve_gets_what_the_client_asked_for(fake, gateway):
    fake.default = openai_model
    server = await gateway(profile(fake.url, context_window=131072, max_output_tokens=32768, tpm=30000))
    await post(server, request(False, max_tokens=20000))
    assert [r.body["max_tokens"] for r in fake.received] == [20000]
