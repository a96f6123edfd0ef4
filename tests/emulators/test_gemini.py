"""The Gemini emulator refuses what Gemini's OpenAI endpoint refuses, with its list-wrapped
errors, and streams its shape (whole calls, no index, "stop", signature on the first call)."""

import json

from tests.emulators.brain import Call, Turn
from tests.emulators.gemini import GeminiEmulator

URL = "/v1beta/openai/chat/completions"
AUTH = {"Authorization": "Bearer test-key"}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def two_calls(view):
    return Turn(calls=[Call("get_weather", {"city": "Paris"}), Call("get_weather", {"city": "Tokyo"})])


def body(messages, **kw):
    return {"model": "gemini-3.8-flash", "messages": messages, **kw}


async def post(client, payload, headers=AUTH):
    resp = await client.post(URL, json=payload, headers=headers)
    return resp.status, await resp.text()


def error(text) -> dict:
    parsed = json.loads(text)
    assert isinstance(parsed, list), "Gemini's OpenAI endpoint wraps errors in a list"
    return parsed[0]["error"]


async def events(resp) -> list[dict]:
    lines = (await resp.text()).splitlines()
    return [json.loads(x[6:]) for x in lines if x.startswith("data: ") and x != "data: [DONE]"]


async def test_bad_key_is_a_400_list(aiohttp_client):
    client = await aiohttp_client(GeminiEmulator().app())
    status, text = await post(client, body([{"role": "user", "content": "hi"}]), {"Authorization": "Bearer nope"})
    assert status == 400 and error(text)["message"].startswith("API key not valid")


async def test_unknown_model_and_field_and_effort(aiohttp_client):
    client = await aiohttp_client(GeminiEmulator().app())
    hi = [{"role": "user", "content": "hi"}]
    status, text = await post(client, {"model": "gemini-9", "messages": hi})
    assert status == 404 and error(text)["status"] == "NOT_FOUND"
    status, text = await post(client, body(hi, top_k=5))
    assert status == 400 and 'Unknown name "top_k"' in error(text)["message"]
    status, text = await post(client, body(hi, reasoning_effort="minimal"))
    assert status == 400 and "Valid values are: high, low, medium, none" in error(text)["message"]
    status, _ = await post(client, body(hi, reasoning_effort="high", max_tokens=65536))
    assert status == 200


async def test_schema_keys_are_refused_with_their_path(aiohttp_client):
    client = await aiohttp_client(GeminiEmulator().app())
    tool = {"type": "function", "function": {"name": "Write", "parameters": {
        "$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": False,
        "properties": {"path": {"type": ["string", "null"]}}}}}
    status, text = await post(client, body([{"role": "user", "content": "hi"}], tools=[tool]))
    message = error(text)["message"]
    assert status == 400
    assert "Unknown name \"$schema\" at 'tools[0].function_declarations[0].parameters'" in message
    assert 'Unknown name "additionalProperties"' in message
    assert "'tools[0].function_declarations[0].parameters.properties[0].value'" in message


async def test_stream_sends_whole_unindexed_calls_signed_once_and_finishes_stop(aiohttp_client):
    client = await aiohttp_client(GeminiEmulator(brain=two_calls).app())
    resp = await client.post(URL, json=body([{"role": "user", "content": "weather"}], tools=[WEATHER], stream=True,
                                            stream_options={"include_usage": True}), headers=AUTH)
    chunks = await events(resp)
    calls = [tc for c in chunks for ch in c["choices"] for tc in ch["delta"].get("tool_calls", [])]
    assert len(calls) == 2 and all("index" not in tc for tc in calls)
    assert json.loads(calls[1]["function"]["arguments"]) == {"city": "Tokyo"}
    assert calls[0]["extra_content"]["google"]["thought_signature"] and "extra_content" not in calls[1]
    finishes = [ch["finish_reason"] for c in chunks for ch in c["choices"] if ch["finish_reason"]]
    assert finishes == ["stop"]
    assert chunks[-1]["usage"]["prompt_tokens"] > 0


async def test_non_streamed_answer_says_tool_calls(aiohttp_client):
    client = await aiohttp_client(GeminiEmulator(brain=two_calls).app())
    resp = await client.post(URL, json=body([{"role": "user", "content": "weather"}], tools=[WEATHER]), headers=AUTH)
    assert (await resp.json())["choices"][0]["finish_reason"] == "tool_calls"


def replay(call: dict, results: int = 1) -> list[dict]:
    return ([{"role": "user", "content": "weather"}, {"role": "assistant", "content": None, "tool_calls": [call]}]
            + [{"role": "tool", "tool_call_id": call["id"], "content": "sunny"}] * results)


async def first_call(client) -> dict:
    resp = await client.post(URL, json=body([{"role": "user", "content": "weather"}], tools=[WEATHER]), headers=AUTH)
    return (await resp.json())["choices"][0]["message"]["tool_calls"][0]


async def test_a_replayed_call_needs_its_own_signature(aiohttp_client):
    client = await aiohttp_client(GeminiEmulator(brain=two_calls).app())
    call = await first_call(client)
    assert (await post(client, body(replay(call), tools=[WEATHER])))[0] == 200
    bare = {k: v for k, v in call.items() if k != "extra_content"}
    status, text = await post(client, body(replay(bare), tools=[WEATHER]))
    assert status == 400 and "missing a thought_signature" in error(text)["message"]
    assert "`default_api:get_weather` , position 2" in error(text)["message"]
    forged = dict(call, extra_content={"google": {"thought_signature": "made-up"}})
    status, text = await post(client, body(replay(forged), tools=[WEATHER]))
    assert status == 400 and "Corrupted thought signature" in error(text)["message"]


async def test_dummy_signature_and_earlier_turns_are_accepted(aiohttp_client):
    client = await aiohttp_client(GeminiEmulator().app())
    bare = {"id": "call_other_model", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    dummy = dict(bare, extra_content={"google": {"thought_signature": "skip_thought_signature_validator"}})
    assert (await post(client, body(replay(dummy), tools=[WEATHER])))[0] == 200
    earlier = replay(bare) + [{"role": "assistant", "content": "Sunny."}, {"role": "user", "content": "thanks"}]
    assert (await post(client, body(earlier, tools=[WEATHER])))[0] == 200


async def test_every_call_needs_a_result(aiohttp_client):
    client = await aiohttp_client(GeminiEmulator(brain=two_calls).app())
    call = await first_call(client)
    status, text = await post(client, body(replay(call, results=2), tools=[WEATHER]))
    assert status == 400 and "number of function response parts" in error(text)["message"]
