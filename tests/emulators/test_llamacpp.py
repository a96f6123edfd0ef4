"""llama-server's shape and refusals (facts and sources in llamacpp.py)."""

import json

from tests.emulators.llamacpp import LlamaCppEmulator

WEATHER = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def request(**extra) -> dict:
    return {"model": "anything.gguf", "max_tokens": 100, "tools": WEATHER,
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Weather in Paris and Tokyo?"}], **extra}


async def stream(client, body) -> list[dict]:
    resp = await client.post("/v1/chat/completions", json=dict(body, stream=True))
    assert resp.status == 200
    lines = [ln[6:] for ln in (await resp.text()).splitlines() if ln.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(ln) for ln in lines[:-1]]


async def test_streams_reasoning_content_call_fragments_and_timings(aiohttp_client):
    client = await aiohttp_client(LlamaCppEmulator().app())
    chunks = await stream(client, request())
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert any("reasoning_content" in d for d in deltas)
    calls = [tc for d in deltas for tc in d.get("tool_calls", [])]
    assert {tc["index"] for tc in calls} == {0, 1}
    assert [tc["function"]["name"] for tc in calls if "id" in tc] == ["get_weather", "get_weather"]
    assert sum(1 for tc in calls if "id" not in tc) > 2  # arguments in fragments
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"][0]["delta"] == {}
    assert "usage" not in chunks[-1] and chunks[-1]["timings"]["prompt_n"] > 0


async def test_usage_only_when_asked_in_a_last_chunk_without_choices(aiohttp_client):
    client = await aiohttp_client(LlamaCppEmulator().app())
    chunks = await stream(client, request(stream_options={"include_usage": True}))
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] > 0
    assert "timings" in chunks[-1] and chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"


async def test_unstreamed_reply_has_usage_and_timings(aiohttp_client):
    client = await aiohttp_client(LlamaCppEmulator().app())
    reply = await (await client.post("/v1/chat/completions", json=request())).json()
    assert reply["choices"][0]["message"]["reasoning_content"]
    assert reply["usage"]["completion_tokens"] > 0 and "timings" in reply


async def test_a_prompt_over_n_ctx_is_a_400_naming_both_sizes(aiohttp_client):
    emulator = LlamaCppEmulator()
    emulator.n_ctx = 20
    client = await aiohttp_client(emulator.app())
    resp = await client.post("/v1/chat/completions", json=request())
    err = (await resp.json())["error"]
    assert resp.status == 400 and err["type"] == "exceed_context_size_error"
    assert err["n_ctx"] == 20 and err["n_prompt_tokens"] >= 20
    assert err["message"] == (f"request ({err['n_prompt_tokens']} tokens) exceeds the available context size "
                              "(20 tokens), try increasing it")


async def test_a_late_system_message_is_the_templates_500(aiohttp_client):
    client = await aiohttp_client(LlamaCppEmulator().app())
    body = request()
    body["messages"].append({"role": "system", "content": "A reminder."})
    resp = await client.post("/v1/chat/completions", json=body)
    err = (await resp.json())["error"]
    assert resp.status == 500 and err["type"] == "server_error" and err["code"] == 500
    assert err["message"].endswith("Jinja Exception: System message must be at the beginning.")
