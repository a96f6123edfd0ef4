"""Together's stream shape and its dynamic per-model rate (facts and sources in together.py)."""

import json

from tests.emulators.together import TogetherEmulator

WEATHER = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def request(model="moonshotai/Kimi-K2.6", **extra) -> dict:
    return {"model": model, "max_tokens": 100, "tools": WEATHER,
            "messages": [{"role": "user", "content": "Weather in Paris?"}], **extra}


async def post(client, emulator, body):
    resp = await client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {emulator.key}"})
    return resp.status, await resp.text()


async def test_streams_reasoning_in_the_reasoning_field_and_usage_last(aiohttp_client):
    emulator = TogetherEmulator()
    client = await aiohttp_client(emulator.app())
    status, text = await post(client, emulator, request(stream=True))
    chunks = [json.loads(ln[6:]) for ln in text.splitlines() if ln.startswith("data: {")]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert status == 200 and any("reasoning" in d for d in deltas) and not any("reasoning_content" in d for d in deltas)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" and chunks[-1]["usage"]["total_tokens"] > 0


async def test_the_rate_is_per_model_and_answered_with_429(aiohttp_client):
    emulator = TogetherEmulator()
    emulator.rate = 1
    client = await aiohttp_client(emulator.app())
    assert (await post(client, emulator, request()))[0] == 200
    assert (await post(client, emulator, request()))[0] == 429
    assert (await post(client, emulator, request("zai-org/GLM-5.1")))[0] == 200


async def test_an_unknown_model_is_a_404(aiohttp_client):
    emulator = TogetherEmulator()
    client = await aiohttp_client(emulator.app())
    status, text = await post(client, emulator, request("openai/gpt-oss-120b"))
    assert status == 404 and json.loads(text)["error"]["code"] == "model_not_available"
