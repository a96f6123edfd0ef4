"""vLLM's refusals and stream shape (facts and sources in vllm.py)."""

import json

from tests.emulators.vllm import VllmEmulator

CODER = "Qwen/Qwen3-Coder-30B-A3B-Instruct"
THINKER = "Qwen/Qwen3.5-35B-A3B"
WEATHER = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def request(model=CODER, **extra) -> dict:
    return {"model": model, "max_tokens": 100, "tools": WEATHER,
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Weather in Paris?"}], **extra}


async def post(client, body):
    resp = await client.post("/v1/chat/completions", json=body)
    return resp.status, await resp.text()


async def deltas(client, body) -> list[dict]:
    status, text = await post(client, dict(body, stream=True, stream_options={"include_usage": True}))
    assert status == 200
    chunks = [json.loads(ln[6:]) for ln in text.splitlines() if ln.startswith("data: {")]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] > 0
    return [c["choices"][0]["delta"] for c in chunks if c["choices"]]


async def test_a_server_started_without_tool_flags_refuses_any_request_with_tools(aiohttp_client):
    client = await aiohttp_client(VllmEmulator().app())
    status, text = await post(client, request("Qwen/Qwen3-30B-A3B-Instruct-2507"))
    assert status == 400
    assert json.loads(text) == {"error": {
        "message": '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
        "type": "BadRequestError", "param": None, "code": 400}}
    assert (await post(client, request("Qwen/Qwen3-30B-A3B-Instruct-2507", tools=None)))[0] == 200
    assert (await post(client, request(tools=[])))[0] == 400


async def test_prompt_plus_max_tokens_over_max_model_len_is_refused(aiohttp_client):
    client = await aiohttp_client(VllmEmulator().app())
    status, text = await post(client, request(max_tokens=65530))
    message = json.loads(text)["error"]["message"]
    assert status == 400 and message.startswith("'max_tokens' or 'max_completion_tokens' is too large: 65530. "
                                                 "This model's maximum context length is 65536 tokens and your request has ")
    assert message.endswith("(parameter=max_tokens, value=65530)")
    big = request(tools=None, max_tokens=1)
    big["messages"][1]["content"] = "x" * 300_000
    status, text = await post(client, big)
    assert status == 400 and "Please reduce the length of the input messages." in json.loads(text)["error"]["message"]


async def test_reasoning_comes_in_the_reasoning_field_only_with_a_parser(aiohttp_client):
    client = await aiohttp_client(VllmEmulator().app())
    thinking = await deltas(client, request(THINKER))
    assert any("reasoning" in d for d in thinking) and not any("reasoning_content" in d for d in thinking)
    plain = await deltas(client, request())
    assert not any("reasoning" in d for d in plain)
    calls = [tc for d in plain for tc in d.get("tool_calls", [])]
    assert calls[0]["function"]["name"] == "get_weather" and len(calls) > 2  # arguments in fragments


async def test_a_qwen35_template_refuses_a_late_system_message(aiohttp_client):
    client = await aiohttp_client(VllmEmulator().app())
    body = request(THINKER)
    body["messages"].append({"role": "system", "content": "A reminder."})
    status, text = await post(client, body)
    assert status == 400 and json.loads(text)["error"]["message"] == "System message must be at the beginning."


async def test_an_unknown_model_is_a_404(aiohttp_client):
    client = await aiohttp_client(VllmEmulator().app())
    status, text = await post(client, request("some/model"))
    assert status == 404 and json.loads(text)["error"]["message"] == "The model `some/model` does not exist."
