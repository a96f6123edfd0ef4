"""Ollama's /v1 shape, the cloud API's key, the Messages layer, and their refusals (facts and
sources in ollama.py)."""

import json

from tests.emulators.ollama import OllamaAnthropicEmulator, OllamaCloudEmulator, OllamaEmulator

WEATHER = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def request(model="gpt-oss:20b", **extra) -> dict:
    return {"model": model, "max_tokens": 100, "tools": WEATHER,
            "messages": [{"role": "user", "content": "Weather in Paris and Tokyo?"}], **extra}


def data_lines(text: str) -> list[dict]:
    lines = [ln[6:] for ln in text.splitlines() if ln.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(ln) for ln in lines[:-1]]


async def post(client, body, headers=None):
    resp = await client.post("/v1/chat/completions", json=body, headers=headers)
    return resp.status, await resp.text()


async def test_streams_reasoning_then_whole_calls_with_index_then_finish_and_usage(aiohttp_client):
    client = await aiohttp_client(OllamaEmulator().app())
    status, text = await post(client, request(stream=True, stream_options={"include_usage": True}))
    chunks = data_lines(text)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert status == 200 and deltas[0]["role"] == "assistant"
    assert all("role" not in d for d in deltas[1:])
    assert "".join(d.get("reasoning", "") for d in deltas).startswith("The user wants the weather")
    with_calls = [d for d in deltas if "tool_calls" in d]
    assert len(with_calls) == 1  # every call whole, in one delta
    calls = with_calls[0]["tool_calls"]
    assert [c["index"] for c in calls] == [0, 1] and all(c["id"].startswith("call_") for c in calls)
    assert json.loads(calls[1]["function"]["arguments"])["city"] == "Tokyo"
    finish = chunks[-2]["choices"][0]
    assert finish == {"index": 0, "delta": {}, "finish_reason": "tool_calls"}
    assert chunks[-1]["choices"] == [] and set(chunks[-1]["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


async def test_no_usage_chunk_unless_asked(aiohttp_client):
    client = await aiohttp_client(OllamaEmulator().app())
    _, text = await post(client, request(stream=True))
    assert all(c["choices"] for c in data_lines(text))


async def test_unknown_model_is_a_404_in_openai_shape(aiohttp_client):
    client = await aiohttp_client(OllamaEmulator().app())
    status, text = await post(client, request("qwen9:1b"))
    assert status == 404
    assert json.loads(text) == {"error": {"message": 'model "qwen9:1b" not found, try pulling it first',
                                          "type": "not_found_error", "param": None, "code": None}}


async def test_thinking_asked_of_a_model_without_it_is_refused(aiohttp_client):
    client = await aiohttp_client(OllamaEmulator().app())
    status, text = await post(client, request("qwen3-coder:30b", reasoning_effort="high"))
    assert status == 400 and json.loads(text)["error"]["message"] == '"qwen3-coder:30b" does not support thinking'
    assert (await post(client, request("qwen3-coder:30b", reasoning_effort="none")))[0] == 200
    status, text = await post(client, request(reasoning_effort="extreme"))
    assert status == 400 and json.loads(text)["error"]["message"].startswith('invalid reasoning value: "extreme"')


async def test_tools_on_a_model_without_tool_support_are_refused(aiohttp_client):
    client = await aiohttp_client(OllamaEmulator().app())
    status, text = await post(client, request("gemma3:4b"))
    assert status == 400 and json.loads(text)["error"]["message"].endswith("does not support tools")


async def test_empty_messages_are_refused(aiohttp_client):
    client = await aiohttp_client(OllamaEmulator().app())
    status, text = await post(client, dict(request(), messages=[]))
    assert status == 400 and json.loads(text)["error"]["message"] == "[] is too short - 'messages'"


async def test_a_strict_gguf_template_refuses_a_late_system_message(aiohttp_client):
    client = await aiohttp_client(OllamaEmulator().app())
    body = request("hf.co/unsloth/Qwen3.5-9B-GGUF:Q4_K_M")
    body["messages"].append({"role": "system", "content": "A reminder."})
    status, text = await post(client, body)
    inner = json.loads(json.loads(text)["error"]["message"])  # llama-server's body, passed on as text
    assert status == 500 and "System message must be at the beginning." in inner["error"]["message"]
    assert (await post(client, request("qwen3-coder:30b", messages=body["messages"])))[0] == 200


async def test_a_prompt_over_num_ctx_loses_its_oldest_messages_silently(aiohttp_client):
    emulator = OllamaEmulator()
    client = await aiohttp_client(emulator.app())
    old = [{"role": "user", "content": "x" * 4000}, {"role": "assistant", "content": "ok"}]
    body = request("gemma3:4b", tools=None)
    body["messages"] = [{"role": "system", "content": "Be brief."}] + old * 5 + [
        {"role": "user", "content": "Reply with a single word: pong"}]
    status, text = await post(client, body)
    reply = json.loads(text)
    assert status == 200 and reply["choices"][0]["message"]["content"] == "pong"
    assert emulator.dropped > 0 and reply["usage"]["prompt_tokens"] <= 4096


async def test_the_cloud_wants_a_bearer_key(aiohttp_client):
    emulator = OllamaCloudEmulator()
    client = await aiohttp_client(emulator.app())
    assert (await post(client, request("gpt-oss:120b")))[0] == 401
    status, _ = await post(client, request("gpt-oss:120b"), {"Authorization": f"Bearer {emulator.key}"})
    assert status == 200
    status, text = await post(client, request("gpt-oss:120b-cloud"), {"Authorization": f"Bearer {emulator.key}"})
    assert status == 404  # direct API names carry no -cloud suffix


def messages_request(model="gpt-oss:20b", **extra) -> dict:
    return {"model": model, "max_tokens": 100, "stream": True, "thinking": {"type": "adaptive"},
            "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
            "messages": [{"role": "user", "content": "Weather in Paris?"}], **extra}


async def anthropic_events(client, body) -> list[tuple[str, dict]]:
    resp = await client.post("/v1/messages", json=body)
    assert resp.status == 200
    blocks = (await resp.text()).strip().split("\n\n")
    return [(b.split("\n")[0][7:], json.loads(b.split("\n")[1][6:])) for b in blocks]


async def test_messages_layer_thinks_without_signatures_and_sends_each_input_whole(aiohttp_client):
    client = await aiohttp_client(OllamaAnthropicEmulator().app())
    events = await anthropic_events(client, messages_request())
    starts = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert [b["type"] for b in starts] == ["thinking", "tool_use"] and "signature" not in starts[0]
    deltas = [d["delta"]["type"] for n, d in events if n == "content_block_delta"]
    assert "signature_delta" not in deltas and deltas.count("input_json_delta") == 1
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


async def test_messages_layer_lets_a_model_that_cannot_think_answer_without_thinking(aiohttp_client):
    client = await aiohttp_client(OllamaAnthropicEmulator().app())
    events = await anthropic_events(client, messages_request("qwen3-coder:30b"))
    assert [d["content_block"]["type"] for n, d in events if n == "content_block_start"] == ["tool_use"]


async def test_messages_layer_refusals(aiohttp_client):
    client = await aiohttp_client(OllamaAnthropicEmulator().app())
    resp = await client.post("/v1/messages", json=messages_request("nope:1b"))
    body = await resp.json()
    assert resp.status == 404 and body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert body["request_id"].startswith("req_")
    resp = await client.post("/v1/messages", json=messages_request(max_tokens=0))
    assert resp.status == 400 and (await resp.json())["error"]["message"] == "max_tokens is required and must be positive"
    late = messages_request("hf.co/unsloth/Qwen3.5-9B-GGUF:Q4_K_M")
    late["messages"] += [{"role": "assistant", "content": "ok"}, {"role": "system", "content": "A reminder."}]
    assert (await client.post("/v1/messages", json=late)).status == 500
    assert (await client.post("/v1/messages", json=dict(late, model="gpt-oss:20b"))).status == 200
