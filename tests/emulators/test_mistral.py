"""The Mistral emulator refuses unknown fields with its 422, bad role order and tool-call ids with
its 400s, allows one request in flight, and streams thinking as content chunks."""

import re

import pytest

from tests.emulators.mistral import Mistral
from tests.emulators.wire import WEATHER, events, started


def body(model="mistral-medium-3-5", messages=None, **extra) -> dict:
    messages = messages or [{"role": "user", "content": "Reply with the single word: pong"}]
    return {"model": model, "messages": messages, "max_tokens": 64, **extra}


@pytest.fixture
async def emu(aiohttp_client):
    return await started(aiohttp_client, Mistral, "/v1/chat/completions")


def turn(call_id="abcDEF123", user_after=False) -> list[dict]:
    out = [{"role": "user", "content": "What is the weather in Paris?"},
           {"role": "assistant", "content": None, "tool_calls": [
               {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
           {"role": "tool", "tool_call_id": call_id, "content": "sunny"}]
    return out + ([{"role": "user", "content": "thanks"}] if user_after else [])


async def test_wrong_key(emu):
    assert (await emu.post(body(), {"Authorization": "Bearer nope"})).status == 401


@pytest.mark.parametrize("payload, loc, value", [
    (body(stream=True, stream_options={"include_usage": True}), ["body", "stream_options"], {"include_usage": True}),
    ({"model": "mistral-medium-3-5", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 9},
     ["body", "max_completion_tokens"], 9),
    (body(messages=[{"role": "user", "content": "hi", "name": "me"}]), ["body", "messages", 0, "user", "name"], "me"),
    (body(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "reasoning_content": "x"},
                    {"role": "user", "content": "go"}]), ["body", "messages", 1, "assistant", "reasoning_content"], "x"),
])
async def test_unknown_fields_are_a_422(emu, payload, loc, value):
    resp = await emu.post(payload)
    assert resp.status == 422
    err = await resp.json()
    assert err["object"] == "error" and err["type"] == "invalid_request_error"
    assert err["message"]["detail"] == [{"type": "extra_forbidden", "loc": loc, "msg": "Extra inputs are not permitted",
                                         "input": value}]


async def test_user_after_tool_is_a_400(emu):
    resp = await emu.post(body(messages=turn(user_after=True)))
    assert resp.status == 400
    assert await resp.json() == {"object": "error", "message": "Unexpected role 'user' after role 'tool'",
                                 "type": "invalid_request_message_order", "param": None, "code": "3230"}


async def test_a_conversation_must_end_on_user_or_tool(emu):
    resp = await emu.post(body(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]))
    assert resp.status == 400 and "Expected last role" in (await resp.json())["message"]


async def test_tool_call_ids_must_be_nine_alphanumerics(emu):
    resp = await emu.post(body(messages=turn("call_0fypS1hVX")))
    assert resp.status == 400
    err = await resp.json()
    assert err["message"] == "Tool call id was call_0fypS1hVX but must be a-z, A-Z, 0-9, with a length of 9."
    assert (err["type"], err["code"]) == ("invalid_function_call", "3280")
    assert (await emu.post(body(messages=turn()))).status == 200


async def test_one_request_in_flight(emu):
    emu.in_flight = 1  # another answer still streaming
    resp = await emu.post(body())
    assert resp.status == 429 and resp.headers["Retry-After"] == "1"
    assert (await resp.json())["type"] == "rate_limited"
    emu.in_flight = 0
    assert (await emu.post(body())).status == 200


async def test_tokens_per_minute_per_organization(emu):
    emu.limits = {"tpm": 100}
    assert (await emu.post(body(messages=[{"role": "user", "content": "x" * 300}]))).status == 200
    resp = await emu.post(body(model="mistral-small-latest", messages=[{"role": "user", "content": "x" * 300}]))
    assert resp.status == 429


async def test_stream_thinking_chunks_then_text_then_whole_calls(emu):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    chunks = await events(await emu.post(body(messages=messages, tools=[WEATHER], stream=True, reasoning_effort="high")))
    contents = [c["choices"][0]["delta"].get("content") for c in chunks]
    thinking = [c for c in contents if isinstance(c, list)]
    assert thinking and thinking[0][0]["type"] == "thinking" and thinking[0][0]["thinking"][0]["type"] == "text"
    calls = [c["choices"][0]["delta"]["tool_calls"] for c in chunks if c["choices"][0]["delta"].get("tool_calls")]
    assert len(calls) == 1 and re.fullmatch(r"[a-zA-Z0-9]{9}", calls[0][0]["id"])
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" and chunks[-1]["usage"]["total_tokens"] > 0


async def test_no_thinking_without_reasoning_effort(emu):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    chunks = await events(await emu.post(body(messages=messages, tools=[WEATHER], stream=True)))
    assert not any(isinstance(c["choices"][0]["delta"].get("content"), list) for c in chunks)


async def test_magistral_always_thinks(emu):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    reply = await (await emu.post(body(model="magistral-medium-latest", messages=messages, tools=[WEATHER]))).json()
    content = reply["choices"][0]["message"]["content"]
    assert isinstance(content, list) and content[0]["type"] == "thinking"
