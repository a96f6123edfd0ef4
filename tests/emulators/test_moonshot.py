"""The Moonshot emulators: Chat Completions refuses a non-object `thinking` and, with thinking on,
an assistant tool-call message without reasoning_content (at its index); it streams
reasoning_content. The Messages endpoint sits at /anthropic and takes a Bearer key."""

import json

from tests.emulators.brain import Call, Turn
from tests.emulators.moonshot import MoonshotAnthropic, MoonshotOpenAI

URL = "/v1/chat/completions"
AUTH = {"Authorization": "Bearer test-key"}
CALL = {"id": "c1", "type": "function", "function": {"name": "Write", "arguments": "{}"}}
HISTORY = [{"role": "system", "content": "s"}, {"role": "user", "content": "go"},
           {"role": "assistant", "content": None, "tool_calls": [CALL]},
           {"role": "tool", "tool_call_id": "c1", "content": "done"}]


def think_and_call(view):
    return Turn(reasoning="Use Write.", calls=[Call("Write", {"file_path": "a.txt"})])


async def post(client, payload, headers=AUTH):
    resp = await client.post(URL, json=payload, headers=headers)
    return resp.status, await resp.text()


async def test_auth_and_unknown_model(aiohttp_client):
    client = await aiohttp_client(MoonshotOpenAI().app())
    hi = [{"role": "user", "content": "hi"}]
    assert (await post(client, {"model": "kimi-k3", "messages": hi}, {"Authorization": "Bearer no"}))[0] == 401
    status, text = await post(client, {"model": "kimi-k2", "messages": hi})
    assert status == 404 and json.loads(text)["error"]["type"] == "resource_not_found_error"


async def test_thinking_must_be_an_object(aiohttp_client):
    client = await aiohttp_client(MoonshotOpenAI().app())
    status, text = await post(client, {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], "thinking": True})
    assert status == 400
    assert json.loads(text)["error"]["message"] == ("the thinking field in the request (expected type object) is illegal, "
                                                    "and bool is not acceptable")


async def test_tool_call_history_needs_reasoning_content_while_thinking(aiohttp_client):
    client = await aiohttp_client(MoonshotOpenAI().app())
    status, text = await post(client, {"model": "kimi-k3", "messages": HISTORY})
    assert status == 400
    assert json.loads(text)["error"] == {"message": "thinking is enabled but reasoning_content is missing in assistant "
                                                    "tool call message at index 2", "type": "invalid_request_error"}
    off = {"model": "kimi-k2.6", "messages": HISTORY, "thinking": {"type": "disabled"}}
    assert (await post(client, off))[0] == 200
    assert (await post(client, dict(off, model="kimi-k2.7-code")))[0] == 400  # always thinks
    replayed = [dict(m, reasoning_content="Use Write.") if m["role"] == "assistant" else m for m in HISTORY]
    assert (await post(client,
                       {"model": "kimi-k2.6", "messages": replayed, "thinking": {"type": "enabled", "keep": "all"}}))[0] == 200


async def test_stream_carries_reasoning_content(aiohttp_client):
    client = await aiohttp_client(MoonshotOpenAI(think_and_call).app())
    status, text = await post(client, {"model": "kimi-k3", "stream": True, "messages": [{"role": "user", "content": "go"}]})
    chunks = [json.loads(x[6:]) for x in text.splitlines() if x.startswith("data: {")]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert {"reasoning_content": "Use Write."} in deltas
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_messages_endpoint(aiohttp_client):
    client = await aiohttp_client(MoonshotAnthropic(think_and_call).app())
    payload = {"model": "kimi-k3", "max_tokens": 512, "messages": [{"role": "user", "content": "go"}],
               "thinking": {"type": "disabled"}}
    resp = await client.post("/anthropic/v1/messages", json=payload, headers=AUTH)
    reply = await resp.json()
    assert resp.status == 200 and reply["content"][0]["type"] == "thinking"  # K3 always reasons
    resp = await client.post("/anthropic/v1/messages", json=payload, headers={"x-api-key": "test-key"})
    assert resp.status == 200
