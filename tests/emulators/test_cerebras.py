"""The Cerebras emulator refuses what Cerebras refuses, with its flat error body, counts tokens as
Cerebras does, and streams its shape."""


import pytest

from tests.emulators.cerebras import Cerebras, Quota
from tests.emulators.wire import WEATHER, Clock, events, started


def body(model="gpt-oss-120b", text="Reply with the single word: pong", **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": text}], "max_completion_tokens": 64, **extra}


@pytest.fixture
async def emu(aiohttp_client):
    return await started(aiohttp_client, Cerebras, "/v1/chat/completions")


async def test_wrong_key_is_a_flat_401(emu):
    resp = await emu.post(body(), {"Authorization": "Bearer nope"})
    assert resp.status == 401
    assert (await resp.json())["code"] == "wrong_api_key"


@pytest.mark.parametrize("extra, param, message", [
    ({"parallel_tool_calls": False}, "parallel_tool_calls", "parallel_tool_calls=False is not supported by this model."),
    ({"tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "tools": [WEATHER]}, "tool_choice", None),
    ({"tool_choice": "required", "tools": [WEATHER]}, "tool_choice", None),
    ({"logit_bias": {}}, "logit_bias", None),
    ({"max_completion_tokens": 40000}, "max_completion_tokens", None),
])
async def test_refused_fields(emu, extra, param, message):
    resp = await emu.post(body(**extra))
    assert resp.status == 400
    err = await resp.json()
    assert set(err) == {"message", "type", "param", "code"} and err["param"] == param
    if message:
        assert err["message"] == message and err["code"] == "wrong_api_format"


async def test_reasoning_content_in_history_is_refused(emu):
    payload = body()
    payload["messages"] = [{"role": "user", "content": "hi"},
                           {"role": "assistant", "content": "hello", "reasoning_content": "greet"},
                           {"role": "user", "content": "again"}]
    resp = await emu.post(payload)
    assert resp.status == 400
    err = await resp.json()
    assert err["message"] == ("messages.1.assistant.reasoning_content: property "
                              "'messages.1.assistant.reasoning_content' is unsupported")
    assert (err["param"], err["code"]) == ("validation_error", "wrong_api_format")


async def test_tokens_per_minute_count_the_requested_output(emu):
    assert (await emu.post(body(max_completion_tokens=29_000))).status == 200
    resp = await emu.post(body(max_completion_tokens=2_000))  # 30K used: no room left
    assert resp.status == 429
    err = await resp.json()
    assert err == {"message": "Tokens per minute limit exceeded - too many tokens processed.",
                   "type": "too_many_requests_error", "param": "quota", "code": "token_quota_exceeded"}
    assert float(resp.headers["x-ratelimit-reset-tokens-minute"]) > 0
    emu.clock.now += 10  # the bucket refills continuously: 5K back after 10 s
    assert (await emu.post(body(max_completion_tokens=2_000))).status == 200


async def test_requests_per_minute(emu):
    for _ in range(5):
        assert (await emu.post(body())).status == 200
    resp = await emu.post(body())
    assert resp.status == 429 and (await resp.json())["code"] == "request_quota_exceeded"


async def test_gpt_oss_streams_parsed_reasoning_and_calls(emu):
    payload = body(text="What is the weather in Paris?", tools=[WEATHER], stream=True)
    chunks = await events(await emu.post(payload))
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert any(d.get("reasoning") for d in deltas)
    assert any(d.get("tool_calls") for d in deltas)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["prompt_tokens"] > 0


async def test_qwen_writes_its_reasoning_in_the_content(emu):
    payload = body(model="qwen-3.8-27b", text="What is the weather in Paris?", tools=[WEATHER])
    reply = await (await emu.post(payload)).json()
    message = reply["choices"][0]["message"]
    assert message["content"].startswith("<think>\n") and "reasoning" not in message


def test_quota_refills_evenly():
    clock = Clock()
    quota = Quota(clock)
    assert quota.admit("m", {"tpm": 60}, 60) is None
    over = quota.admit("m", {"tpm": 60}, 30)
    assert (over.limit, over.used, over.requested, over.wait) == ("tpm", 60, 30, 30.0)
    clock.now = 30
    assert quota.admit("m", {"tpm": 60}, 30) is None
    assert quota.admit("m", {"tpm": 60}, 61).wait == float("inf")


async def test_every_answer_states_the_minute_and_counts_to_the_next_one_on_the_clock(emu):
    emu.clock.now = 1000.25  # 40 s past a minute on the clock
    h = (await emu.post(body(max_completion_tokens=10_000))).headers
    used = 30_000 - int(h["x-ratelimit-remaining-tokens-minute"])
    assert h["x-ratelimit-limit-tokens-minute"] == "30000" and 10_000 < used < 10_100
    assert float(h["x-ratelimit-reset-tokens-minute"]) == pytest.approx(19.75)
    assert "x-ratelimit-limit-requests-day" not in h  # the free trial has no requests-per-day budget
    emu.clock.now += 10  # refilled 5,000 since, continuously
    h = (await emu.post(body(max_completion_tokens=40_000))).headers  # refused (over the output cap): stated all the same
    assert int(h["x-ratelimit-remaining-tokens-minute"]) == 30_000 - used + 5_000
    emu.paid_plan()
    assert (await emu.post(body())).headers["x-ratelimit-limit-tokens-minute"] == "1000000"


async def test_an_answer_longer_than_max_completion_tokens_stops_there(emu):
    from tests.emulators.brain import Turn

    emu.brain = lambda view: Turn(text="word " * 400)
    reply = await (await emu.post(body(max_completion_tokens=100))).json()
    assert reply["choices"][0]["finish_reason"] == "length" and len(reply["choices"][0]["message"]["content"]) <= 400
    chunks = await events(await emu.post(body(max_completion_tokens=100, stream=True)))
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
