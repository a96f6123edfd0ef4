"""The Chutes emulator: Bearer only (X-API-Key is ignored), FastAPI-style errors, reasoning
under reasoning_content."""

import json

from tests.emulators.brain import Turn
from tests.emulators.chutes import ChutesEmulator

URL = "/v1/chat/completions"


def ask(model="zai-org/GLM-5-TEE", **kw):
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **kw}


async def test_bearer_only(aiohttp_client):
    client = await aiohttp_client(ChutesEmulator().app())
    resp = await client.post(URL, json=ask(), headers={"X-API-Key": "test-key"})
    assert resp.status == 401 and "detail" in await resp.json()
    assert (await client.post(URL, json=ask(), headers={"Authorization": "Bearer test-key"})).status == 200
    resp = await client.post(URL, json=ask("zai-org/GLM-5"), headers={"Authorization": "Bearer test-key"})
    assert resp.status == 404 and "detail" in await resp.json()


async def test_reasoning_content_in_the_stream(aiohttp_client):
    client = await aiohttp_client(ChutesEmulator(brain=lambda view: Turn(reasoning="hm", text="hi")).app())
    text = await (await client.post(URL, json=ask(stream=True), headers={"Authorization": "Bearer test-key"})).text()
    deltas = [json.loads(x[6:])["choices"][0]["delta"] for x in text.splitlines()
              if x.startswith("data: {") and '"choices": [{' in x]
    assert any(d.get("reasoning_content") == "hm" for d in deltas)
