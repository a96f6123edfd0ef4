"""The Z.ai emulators: business-coded errors ({"error": {"code", "message"}}), GLM-5.3 refusing
thinking off, whole tool calls in one delta after reasoning_content; the Messages endpoint at
/api/anthropic."""

import json

from tests.emulators.brain import Call, Turn
from tests.emulators.zai import ZaiAnthropic, ZaiOpenAI

URL = "/api/paas/v4/chat/completions"
AUTH = {"Authorization": "Bearer test-key"}
HI = [{"role": "user", "content": "hi"}]


def two_calls(view):
    return Turn(reasoning="Both cities.", calls=[Call("get_weather", {"city": "Paris"}), Call("get_weather", {"city": "Tokyo"})])


async def post(client, payload, headers=AUTH):
    resp = await client.post(URL, json=payload, headers=headers)
    return resp.status, await resp.text()


async def test_business_codes(aiohttp_client):
    client = await aiohttp_client(ZaiOpenAI().app())
    status, text = await post(client, {"model": "glm-5.3", "messages": HI}, {})
    assert status == 401 and json.loads(text)["error"]["code"] == "1000"
    status, text = await post(client, {"model": "glm-9", "messages": HI})
    assert status == 400 and json.loads(text)["error"]["code"] == "1211"


async def test_thinking_field(aiohttp_client):
    client = await aiohttp_client(ZaiOpenAI().app())
    status, text = await post(client, {"model": "glm-5.3", "messages": HI, "thinking": {"type": "disabled"}})
    assert status == 400 and json.loads(text)["error"]["code"] == "1214"
    assert (await post(client, {"model": "glm-5.2", "messages": HI, "thinking": {"type": "disabled"}}))[0] == 200
    assert (await post(client, {"model": "glm-5.3", "messages": HI, "thinking": True}))[0] == 400
    enabled = {"type": "enabled", "clear_thinking": False}
    assert (await post(client, {"model": "glm-5.3-flash", "messages": HI, "thinking": enabled}))[0] == 200


async def test_stream_sends_calls_whole(aiohttp_client):
    client = await aiohttp_client(ZaiOpenAI(two_calls).app())
    status, text = await post(client, {"model": "glm-5.3", "stream": True, "messages": HI,
                                       "stream_options": {"include_usage": True}})
    chunks = [json.loads(x[6:]) for x in text.splitlines() if x.startswith("data: {")]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    calls = [d["tool_calls"] for d in deltas if "tool_calls" in d]
    assert {"reasoning_content": "Both cities."} in deltas
    assert len(calls) == 1 and [c["index"] for c in calls[0]] == [0, 1]
    assert [json.loads(c["function"]["arguments"]) for c in calls[0]] == [{"city": "Paris"}, {"city": "Tokyo"}]
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls" and chunks[-1]["usage"]["completion_tokens"] > 0


async def test_messages_endpoint(aiohttp_client):
    client = await aiohttp_client(ZaiAnthropic(two_calls).app())
    resp = await client.post("/api/anthropic/v1/messages", headers=AUTH,
                             json={"model": "glm-5.3", "max_tokens": 512, "messages": HI})
    reply = await resp.json()
    assert resp.status == 200 and [b["type"] for b in reply["content"]] == ["thinking", "tool_use", "tool_use"]
