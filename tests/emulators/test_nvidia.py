"""The NIM emulator: problem-detail errors, the 40/min limit, refused fields, per-model thinking
switches, the repeated function name, and Kimi's demand for reasoning_content back."""

import json

from tests.emulators.brain import Call, Turn
from tests.emulators.nvidia import RPM, NIMEmulator

URL = "/v1/chat/completions"
AUTH = {"Authorization": "Bearer test-key"}
KIMI = "moonshotai/kimi-k3"


def thinker(view):
    return Turn(reasoning="Write the file.", calls=[Call("Write", {"file_path": "/tmp/a.txt", "content": "a ok\n"})])


def ask(model=KIMI, **kw):
    return {"model": model, "messages": [{"role": "user", "content": "write a.txt"}], **kw}


def deltas(text: str) -> list[dict]:
    chunks = [json.loads(x[6:]) for x in text.splitlines() if x.startswith("data: ") and x != "data: [DONE]"]
    return [ch["delta"] for c in chunks for ch in c["choices"]]


async def test_refusals(aiohttp_client):
    client = await aiohttp_client(NIMEmulator().app())
    resp = await client.post(URL, json=ask(), headers={"Authorization": "Bearer nvapi-wrong"})
    assert resp.status == 401 and (await resp.json())["title"] == "Unauthorized"
    assert (await client.post(URL, json=ask("deepseek-ai/deepseek-v4-pro-0813"), headers=AUTH)).status == 404
    resp = await client.post(URL, json=ask(max_completion_tokens=100), headers=AUTH)
    assert resp.status == 422 and "max_completion_tokens" in (await resp.json())["detail"]
    resp = await client.post(URL, json=ask(stream=True, stream_options={"include_usage": True}), headers=AUTH)
    assert resp.status == 422
    assert (await client.post(URL, json=ask(max_tokens=65537), headers=AUTH)).status == 422


async def test_forty_requests_a_minute(aiohttp_client):
    client = await aiohttp_client(NIMEmulator().app())
    for _ in range(RPM):
        assert (await client.post(URL, json=ask(), headers=AUTH)).status == 200
    resp = await client.post(URL, json=ask("nvidia/nemotron-3.5-lightning-30b-a3b"), headers=AUTH)
    assert resp.status == 429 and (await resp.json())["title"] == "Too Many Requests"


async def test_stream_repeats_the_name_and_reasons_only_when_thinking(aiohttp_client):
    client = await aiohttp_client(NIMEmulator(brain=thinker).app())
    resp = await client.post(URL, json=ask(stream=True), headers=AUTH)
    got = deltas(await resp.text())
    calls = [tc for d in got for tc in d.get("tool_calls", [])]
    assert len(calls) > 2 and all(tc["function"]["name"] == "Write" for tc in calls)
    assert any(d.get("reasoning_content") == "Write the file." for d in got)
    off = ask("deepseek-ai/deepseek-v4-flash", stream=True)
    resp = await client.post(URL, json=off, headers=AUTH)
    assert not any(d.get("reasoning_content") for d in deltas(await resp.text()))
    resp = await client.post(URL, json=dict(off, chat_template_kwargs={"thinking": True}), headers=AUTH)
    assert any(d.get("reasoning_content") for d in deltas(await resp.text()))


async def test_kimi_wants_reasoning_content_back(aiohttp_client):
    client = await aiohttp_client(NIMEmulator(brain=thinker).app())
    message = (await (await client.post(URL, json=ask(), headers=AUTH)).json())["choices"][0]["message"]
    assert message["reasoning_content"] == "Write the file."
    call = message["tool_calls"][0]
    history = [{"role": "user", "content": "write a.txt"}, message,
               {"role": "tool", "tool_call_id": call["id"], "content": "File created successfully"}]
    assert (await client.post(URL, json=dict(ask(), messages=history), headers=AUTH)).status == 200
    bare = {k: v for k, v in message.items() if k != "reasoning_content"}
    resp = await client.post(URL, json=dict(ask(), messages=[history[0], bare, history[2]]), headers=AUTH)
    assert resp.status == 400
    assert (await resp.json())["error"]["message"] == ("thinking is enabled but reasoning_content is missing in "
                                                       "assistant tool call message at index 1")
    for replayed in ("", "Something else."):
        altered = dict(message, reasoning_content=replayed)
        resp = await client.post(URL, json=dict(ask(), messages=[history[0], altered, history[2]]), headers=AUTH)
        assert resp.status == 400, replayed
    off = dict(ask(), messages=[history[0], bare, history[2]], chat_template_kwargs={"thinking": False})
    assert (await client.post(URL, json=off, headers=AUTH)).status == 200
