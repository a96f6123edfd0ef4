"""The Hugging Face router emulator: Bearer token, model ids with policy or provider suffixes,
usage in a final chunk when asked for."""

import json

from tests.emulators.huggingface import HFRouterEmulator

URL = "/v1/chat/completions"
AUTH = {"Authorization": "Bearer test-key"}


def ask(model, **kw):
    return {"model": model, "messages": [{"role": "user", "content": "Reply with the single word: pong"}], **kw}


async def test_suffixes(aiohttp_client):
    client = await aiohttp_client(HFRouterEmulator().app())
    for model in ("zai-org/GLM-5.2", "zai-org/GLM-5.2:fastest", "openai/gpt-oss-120b:cheapest",
                  "openai/gpt-oss-120b:preferred", "openai/gpt-oss-120b:groq"):
        assert (await client.post(URL, json=ask(model), headers=AUTH)).status == 200, model
    assert (await client.post(URL, json=ask("openai/gpt-oss-120b:novita"), headers=AUTH)).status == 400
    assert (await client.post(URL, json=ask("nobody/nothing"), headers=AUTH)).status == 404
    assert (await client.post(URL, json=ask("zai-org/GLM-5.2"), headers={"Authorization": "Bearer x"})).status == 401


async def test_usage_comes_last_when_asked(aiohttp_client):
    client = await aiohttp_client(HFRouterEmulator().app())
    payload = ask("deepseek-ai/DeepSeek-V4-Flash-0731", stream=True, stream_options={"include_usage": True})
    text = await (await client.post(URL, json=payload, headers=AUTH)).text()
    chunks = [json.loads(x[6:]) for x in text.splitlines() if x.startswith("data: ") and x != "data: [DONE]"]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "pong"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
