"""The DashScope emulators: compatible-mode refuses enable_thinking on a non-streaming call in its
{"error", "id", "request_id"} envelope, streams reasoning_content only while thinking, and gives
usage only when asked; the Messages endpoint at /apps/anthropic thinks on hybrid models only
when asked."""

import json

from tests.emulators.brain import Turn
from tests.emulators.dashscope import DashScopeAnthropic, DashScopeOpenAI

URL = "/compatible-mode/v1/chat/completions"
AUTH = {"Authorization": "Bearer test-key"}
HI = [{"role": "user", "content": "hi"}]


def thinker(view):
    return Turn(reasoning="Short answer.", text="hello")


async def post(client, payload, headers=AUTH):
    resp = await client.post(URL, json=payload, headers=headers)
    return resp.status, await resp.text()


async def test_thinking_needs_streaming(aiohttp_client):
    client = await aiohttp_client(DashScopeOpenAI().app())
    status, text = await post(client, {"model": "qwen3.7-plus", "messages": HI, "enable_thinking": True})
    reply = json.loads(text)
    assert status == 400 and reply["request_id"] and reply["id"].startswith("chatcmpl-")
    assert reply["error"] == {"code": "invalid_parameter_error", "param": None, "type": "invalid_request_error",
                              "message": "parameter.enable_thinking must be set to false for non-streaming calls"}
    assert (await post(client, {"model": "qwen3.7-plus", "messages": HI, "enable_thinking": True, "stream": True}))[0] == 200
    assert (await post(client, {"model": "qwen3.7-plus", "messages": HI}, {}))[0] == 401
    assert (await post(client, {"model": "qwen-9", "messages": HI}))[0] == 404


async def test_reasoning_only_while_thinking_and_usage_when_asked(aiohttp_client):
    client = await aiohttp_client(DashScopeOpenAI(thinker).app())

    async def stream(**kw):
        _, text = await post(client, {"messages": HI, "stream": True, **kw})
        return [json.loads(x[6:]) for x in text.splitlines() if x.startswith("data: {")]

    thinking = await stream(model="qwen3.8-max", stream_options={"include_usage": True})
    assert {"reasoning_content": "Short answer."} in [c["choices"][0]["delta"] for c in thinking if c["choices"]]
    assert thinking[-1]["usage"]["prompt_tokens"] > 0
    coder = await stream(model="qwen3-coder-plus", enable_thinking=True)
    assert not any("reasoning_content" in c["choices"][0]["delta"] for c in coder if c["choices"])
    assert "usage" not in coder[-1]


async def test_messages_endpoint_thinks_when_asked(aiohttp_client):
    client = await aiohttp_client(DashScopeAnthropic(thinker).app())

    async def kinds(**kw):
        resp = await client.post("/apps/anthropic/v1/messages", headers={"x-api-key": "test-key"},
                                 json={"max_tokens": 256, "messages": HI, **kw})
        return [b["type"] for b in (await resp.json())["content"]]

    assert await kinds(model="qwen3.7-plus") == ["text"]
    assert await kinds(model="qwen3.7-plus", thinking={"type": "enabled", "budget_tokens": 1024}) == ["thinking", "text"]
    assert await kinds(model="qwen3.8-max") == ["thinking", "text"]
