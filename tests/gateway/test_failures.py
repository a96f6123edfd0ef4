"""Failure paths through a real client (the anthropic SDK): every stream ends, with an error event
when it cannot end well; the ledger row says what happened; a bug of ours never cools a model."""

import asyncio
import time

import anthropic
import pytest

from freeclaude.translate.stream import StreamTranslator
from tests.conftest import rows
from tests.support.fakes import Json, Stream, chunk, completion, profile, text_chunks

BODY = dict(model="claude-opus-5-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}])


async def drain(client) -> list[str]:
    """Event types the SDK saw before it raised, and the error it raised."""
    seen = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client.messages.stream(**BODY) as stream:
            async for event in stream:
                seen.append(event.type)
    return seen, caught.value


async def test_a_translator_fault_after_the_first_byte_ends_the_stream_with_an_error(fake, gateway, sdk, monkeypatch):
    content = StreamTranslator._content  # every piece of text passes here, parsed or repeated

    def faulty(self, text, ev):
        if text == "boom":
            raise KeyError("a bug of ours")
        return content(self, text, ev)

    monkeypatch.setattr(StreamTranslator, "_content", faulty)
    fake.default = Stream([chunk({"content": "Hello"}), chunk({"content": "boom"}), chunk(finish="stop")], delay=0.01)
    p = profile(fake.url, tiers={"opus": ["fake:up-model", "fake:other"]}, extra_models={"other": {}})
    server = await gateway(p)
    start = time.monotonic()
    seen, error = await drain(sdk(server))
    assert time.monotonic() - start < 1.0
    assert "content_block_delta" in seen
    assert "internal error" in str(error)
    assert server.router.cooling(p.chain("opus")[0]) == 0  # the model did nothing wrong
    assert len(fake.received) == 1  # and no other model was asked
    [row] = rows(server)
    assert row["outcome"] == "internal_error" and "KeyError" in row["error"]


async def test_a_translator_fault_before_the_first_byte_is_a_500_without_fallback(fake, gateway, sdk, monkeypatch):
    monkeypatch.setattr(StreamTranslator, "feed", lambda self, c: 1 / 0)
    fake.default = Stream(text_chunks("hello"))
    p = profile(fake.url, tiers={"opus": ["fake:up-model", "fake:other"]}, extra_models={"other": {}})
    server = await gateway(p)
    with pytest.raises(anthropic.InternalServerError) as caught:
        await sdk(server).messages.create(**BODY, stream=True)
    assert "internal error" in str(caught.value) and "ZeroDivision" not in str(caught.value)
    assert len(fake.received) == 1 and server.router.cooling(p.chain("opus")[0]) == 0
    assert [r["outcome"] for r in rows(server)] == ["internal_error"]


async def test_an_upstream_error_after_the_first_byte_openai_kind(fake, gateway, sdk):
    fake.default = Stream([chunk({"content": "Hel"}), {"error": {"message": "upstream fell over", "code": 502}}], delay=0.05)
    server = await gateway(profile(fake.url))
    seen, error = await drain(sdk(server))
    assert "content_block_delta" in seen and "upstream fell over" in str(error)
    [row] = rows(server)
    assert row["outcome"] == "api_error" and "upstream fell over" in row["error"]


@pytest.mark.parametrize("ending", ["error event", "cut"])
async def test_an_upstream_error_after_the_first_byte_messages_kind(fake, gateway, sdk, ending):
    start = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                                                   "content": [], "stop_reason": None, "stop_sequence": None,
                                                   "usage": {"input_tokens": 9, "output_tokens": 1}}}
    events = [("message_start", start),
              ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
              ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}})]
    if ending == "error event":
        events.append(("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
    fake.default = Stream(events, events=True, delay=0.05)
    server = await gateway(profile(fake.url.removesuffix("/v1"), kind="anthropic"))
    seen, error = await drain(sdk(server))
    assert "content_block_delta" in seen
    [row] = rows(server)
    assert row["outcome"] == ("overloaded_error" if ending == "error event" else "api_error")
    assert row["status"] in (529, 502)


async def test_an_error_event_whose_type_is_not_a_string_is_passed_on_as_the_upstreams_error(fake, gateway, sdk):
    # JSON allows any type there; a list once reached a dict lookup and was a TypeError of ours.
    start = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                                                   "content": [], "stop_reason": None, "stop_sequence": None,
                                                   "usage": {"input_tokens": 9, "output_tokens": 1}}}
    fake.default = Stream([("message_start", start),
                           ("error", {"type": "error", "error": {"type": ["odd"], "message": "Overloaded"}})], events=True)
    server = await gateway(profile(fake.url.removesuffix("/v1"), kind="anthropic"))
    _, error = await drain(sdk(server))
    assert "Overloaded" in str(error)
    [row] = rows(server)
    assert (row["outcome"], row["status"]) == ("api_error", 500) and "Overloaded" in row["error"]


async def test_a_hung_up_client_is_recorded_and_the_server_lives_on(fake, gateway):
    fake.default = Stream(text_chunks("x" * 200, n=50), delay=0.02)
    server = await gateway(profile(fake.url))
    client = anthropic.AsyncAnthropic(base_url=server.base_url, api_key="test-token", max_retries=0)
    async with client.messages.stream(**BODY) as stream:
        async for event in stream:
            if event.type == "content_block_delta":
                break
    await client.close()
    await asyncio.sleep(0.3)
    fake.default = Json(completion({"content": "fine"}))
    again = anthropic.AsyncAnthropic(base_url=server.base_url, api_key="test-token", max_retries=0)
    assert (await again.messages.create(**BODY)).content[0].text == "fine"
    await again.close()
    assert [r["outcome"] for r in rows(server)] == ["client_closed", "ok"]


async def test_a_stream_with_no_chunk_of_an_answer_is_an_upstream_error(fake, gateway, sdk):
    """200, lines that are JSON but no chunk, [DONE]: not an empty answer recorded ok. Before any
    byte went out, so the next model is asked."""
    fake.queue(Stream(['{"weird": true}', "[1,2,3]", '{"choices":"x"}'], done=True),
               Stream(text_chunks("from the next model")))
    p = profile(fake.url, tiers={"opus": ["fake:up-model", "fake:other"]}, extra_models={"other": {}})
    server = await gateway(p)
    async with sdk(server).messages.stream(**BODY) as stream:
        message = await stream.get_final_message()
    assert message.content[0].text == "from the next model"
    first, second = rows(server)
    assert (first["outcome"], first["status"], second["outcome"]) == ("api_error", 502, "ok")
    assert "held no chunk of an answer" in first["error"]
