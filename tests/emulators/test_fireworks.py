"""Fireworks' refusals, limits and stream shape (facts and sources in fireworks.py)."""

import json

from tests.emulators.fireworks import FireworksEmulator

KIMI = "accounts/fireworks/models/kimi-k2p6"
WEATHER = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def request(model=KIMI, **extra) -> dict:
    return {"model": model, "max_tokens": 100, "tools": WEATHER,
            "messages": [{"role": "user", "content": "Weather in Paris?"}], **extra}


async def post(client, emulator, body, key=None):
    resp = await client.post("/inference/v1/chat/completions", json=body,
                             headers={"Authorization": f"Bearer {key or emulator.key}"})
    return resp.status, await resp.text()


async def test_streams_reasoning_content_and_usage_on_the_finish_chunk(aiohttp_client):
    emulator = FireworksEmulator()
    client = await aiohttp_client(emulator.app())
    status, text = await post(client, emulator, request(stream=True))
    chunks = [json.loads(ln[6:]) for ln in text.splitlines() if ln.startswith("data: {")]
    assert status == 200 and any("reasoning_content" in c["choices"][0]["delta"] for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" and chunks[-1]["usage"]["prompt_tokens"] > 0


async def test_fields_outside_the_schema_are_refused(aiohttp_client):
    emulator = FireworksEmulator()
    client = await aiohttp_client(emulator.app())
    status, text = await post(client, emulator, request(enable_thinking=True))
    assert status == 400 and json.loads(text)["error"]["message"].startswith("Extra inputs are not permitted")
    assert (await post(client, emulator, request(chat_template_kwargs={"thinking": True})))[0] == 200


async def test_each_model_takes_its_own_efforts(aiohttp_client):
    emulator = FireworksEmulator()
    client = await aiohttp_client(emulator.app())
    assert (await post(client, emulator, request(reasoning_effort="medium")))[0] == 200
    assert (await post(client, emulator, request("accounts/fireworks/models/glm-5p1", reasoning_effort="medium")))[0] == 400
    assert (await post(client, emulator, request("accounts/fireworks/models/glm-5p1", reasoning_effort="max")))[0] == 200


async def test_key_model_and_request_rate(aiohttp_client):
    emulator = FireworksEmulator()
    emulator.rpm = 2
    client = await aiohttp_client(emulator.app())
    assert (await post(client, emulator, request(), key="wrong"))[0] == 401
    assert (await post(client, emulator, request("accounts/fireworks/models/nope")))[0] == 404
    assert (await post(client, emulator, request()))[0] == 200
    status, text = await post(client, emulator, request())  # the third request this minute
    assert status == 429 and json.loads(text)["error"]["type"] == "rate_limit_error"
