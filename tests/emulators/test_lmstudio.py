"""LM Studio's two endpoints (facts and sources in lmstudio.py)."""

import json

from tests.emulators.lmstudio import LMStudioAnthropicEmulator, LMStudioEmulator

WEATHER = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def request(model="qwen/qwen3-coder-30b", **extra) -> dict:
    return {"model": model, "max_tokens": 100, "tools": WEATHER, "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "Weather in Paris?"}], **extra}


async def chunks(client, body) -> list[dict]:
    resp = await client.post("/v1/chat/completions", json=body)
    assert resp.status == 200
    return [json.loads(ln[6:]) for ln in (await resp.text()).splitlines() if ln.startswith("data: {")]


async def test_gpt_oss_reasons_in_the_reasoning_field_and_calls_stream_in_fragments(aiohttp_client):
    client = await aiohttp_client(LMStudioEmulator().app())
    out = await chunks(client, request("openai/gpt-oss-20b"))
    deltas = [c["choices"][0]["delta"] for c in out if c["choices"]]
    assert any("reasoning" in d for d in deltas)
    assert sum(1 for d in deltas if "tool_calls" in d) > 2
    assert out[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert out[-1]["choices"] == [] and out[-1]["usage"]["completion_tokens"] > 0


async def test_qwen3_coder_sends_no_reasoning(aiohttp_client):
    client = await aiohttp_client(LMStudioEmulator().app())
    deltas = [c["choices"][0]["delta"] for c in await chunks(client, request()) if c["choices"]]
    assert not any("reasoning" in d or "reasoning_content" in d for d in deltas)


async def test_an_unknown_identifier_is_a_400_model_not_found(aiohttp_client):
    client = await aiohttp_client(LMStudioEmulator().app())
    resp = await client.post("/v1/chat/completions", json=request("qwen3-coder-30b-a3b"))
    err = (await resp.json())["error"]
    assert resp.status == 400 and err["code"] == "model_not_found" and err["param"] == "model"
    assert err["message"].startswith('Invalid model identifier "qwen3-coder-30b-a3b". Please specify a valid downloaded model')


async def test_the_messages_endpoint_sits_at_the_root_and_needs_no_key(aiohttp_client):
    client = await aiohttp_client(LMStudioAnthropicEmulator().app())
    resp = await client.post("/v1/messages", json={"model": "qwen/qwen3-coder-30b", "max_tokens": 50,
                                                   "messages": [{"role": "user", "content": "Reply with a single word: pong"}]})
    assert resp.status == 200 and (await resp.json())["content"][0]["text"] == "pong"
