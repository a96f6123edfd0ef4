"""The SambaNova emulator answers in the OpenAI shape, refuses what SambaNova documents it
refuses, and holds each model to the free tier's requests and tokens per day."""

import json

import pytest

from tests.emulators.sambanova import SambaNova
from tests.emulators.wire import KEY, WEATHER, started


def body(model="gpt-oss-120b", text="Reply with the single word: pong", **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": text}], "max_tokens": 64, **extra}


@pytest.fixture
async def emu(aiohttp_client):
    return await started(aiohttp_client, SambaNova, "/v1/chat/completions")


async def post(emu, payload, headers=KEY):
    emu.clock.now += 3  # 20 requests a minute
    return await emu.client.post("/v1/chat/completions", json=payload, headers=headers)


async def test_errors_carry_a_request_id(emu):
    resp = await post(emu, body(), {"Authorization": "Bearer nope"})
    assert resp.status == 401
    err = await resp.json()
    assert err["error"]["code"] == "invalid_api_key" and err["request_id"]


async def test_n_above_one_with_tools_is_a_400(emu):
    resp = await post(emu, body(n=2, tools=[WEATHER]))
    assert resp.status == 400 and (await resp.json())["error"]["param"] == "n"
    assert (await post(emu, body(n=2))).status == 200


async def test_prompt_and_max_tokens_must_fit_the_window(emu):
    resp = await post(emu, body(model="DeepSeek-V3.2", max_tokens=32_768))
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "context_length_exceeded"


async def test_twenty_requests_a_day_per_model(emu):
    for _ in range(20):
        assert (await post(emu, body())).status == 200
    resp = await post(emu, body())
    assert resp.status == 429 and (await resp.json())["error"]["type"] == "rate_limit_exceeded"
    assert int(resp.headers["Retry-After"]) > 3600
    assert (await post(emu, body(model="DeepSeek-V3.1"))).status == 200


async def test_tokens_per_day_count_prompt_and_output(emu):
    emu.limits = {"tpd": 100}
    payload = body(text="x" * 300)  # about 90 tokens of prompt
    assert (await post(emu, payload)).status == 200
    assert (await post(emu, payload)).status == 429


async def test_stream_with_usage(emu):
    payload = body(text="What is the weather in Paris?", tools=[WEATHER], stream=True,
                   stream_options={"include_usage": True})
    lines = [line[6:] for line in (await (await post(emu, payload)).text()).splitlines() if line.startswith("data: ")]
    chunks = [json.loads(line) for line in lines[:-1]]
    assert any(c["choices"] and c["choices"][0]["delta"].get("reasoning") for c in chunks)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


async def test_llama_shows_no_reasoning(emu):
    reply = await (await post(emu, body(model="Meta-Llama-3.3-70B-Instruct", text="What is the weather?",
                                        tools=[WEATHER]))).json()
    assert "reasoning" not in reply["choices"][0]["message"]
