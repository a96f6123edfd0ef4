"""The Groq emulator refuses what Groq refuses, counts prompt plus requested max_tokens against
the free plan's per-model budgets with Groq's 413/429 bodies, and streams Groq's shape."""

import json

import pytest

from tests.emulators.brain import Turn
from tests.emulators.groq import Groq
from tests.emulators.wire import WEATHER, events, started


def body(model="openai/gpt-oss-120b", text="Reply with the single word: pong", **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": text}], "max_tokens": 64, **extra}


@pytest.fixture
async def emu(aiohttp_client):
    return await started(aiohttp_client, Groq, "/openai/v1/chat/completions")


async def test_wrong_key(emu):
    resp = await emu.post(body(), {"Authorization": "Bearer nope"})
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize("extra, text", [
    ({"logprobs": True}, "property 'logprobs' is unsupported"),
    ({"logit_bias": {"1": 2}}, "property 'logit_bias' is unsupported"),
    ({"top_logprobs": 2}, "property 'top_logprobs' is unsupported"),
    ({"n": 2}, "'n'"),
])
async def test_unsupported_fields_are_400(emu, extra, text):
    resp = await emu.post(body(**extra))
    assert resp.status == 400
    err = (await resp.json())["error"]
    assert err["type"] == "invalid_request_error" and text in err["message"]


@pytest.mark.parametrize("message, field", [
    ({"role": "user", "content": "hi", "name": "me"}, "name"),
    ({"role": "assistant", "content": "hi", "reasoning_content": "think"}, "reasoning_content"),
])
async def test_message_properties_are_400(emu, message, field):
    payload = body()
    payload["messages"] = [{"role": "user", "content": "hello"}, message, {"role": "user", "content": "go on"}]
    resp = await emu.post(payload)
    assert resp.status == 400
    assert f"property '{field}' is unsupported" in (await resp.json())["error"]["message"]


async def test_a_request_over_the_tpm_limit_is_a_413(emu):
    resp = await emu.post(body(max_tokens=8_000))  # prompt + 8,000 > 8,000
    assert resp.status == 413
    err = (await resp.json())["error"]
    assert (err["type"], err["code"]) == ("tokens", "rate_limit_exceeded")
    assert err["message"].startswith("Request too large for model `openai/gpt-oss-120b`")
    assert "on tokens per minute (TPM): Limit 8000, Requested 80" in err["message"]


async def test_what_is_left_of_the_tpm_budget_is_a_429(emu):
    assert (await emu.post(body(max_tokens=6_000))).status == 200
    resp = await emu.post(body(max_tokens=3_000))
    assert resp.status == 429 and int(resp.headers["retry-after"]) >= 1
    err = (await resp.json())["error"]
    assert err["message"].startswith("Rate limit reached for model `openai/gpt-oss-120b`")
    assert "Please try again in" in err["message"] and err["type"] == "tokens"
    # per model: the other model's budget is untouched
    assert (await emu.post(body(model="openai/gpt-oss-20b", max_tokens=3_000))).status == 200
    emu.clock.now += 60
    assert (await emu.post(body(max_tokens=3_000))).status == 200


async def test_max_tokens_above_the_cap(emu):
    resp = await emu.post(body(model="qwen/qwen3.8-27b", max_tokens=20_000))
    assert resp.status == 400


async def test_gpt_oss_stream_shape(emu):
    payload = body(text="What is the weather in Paris?", tools=[WEATHER], stream=True,
                   stream_options={"include_usage": True})
    chunks = await events(await emu.post(payload))
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert any(d.get("reasoning") for d in deltas)
    calls = [d["tool_calls"] for d in deltas if d.get("tool_calls")]
    assert len(calls) == 1  # whole, in one delta
    call = calls[0][0]
    assert call["index"] == 0 and json.loads(call["function"]["arguments"]) == {"city": "Paris", "unit": "celsius"}
    finish = next(c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"])
    assert finish["choices"][0]["finish_reason"] == "tool_calls" and finish["x_groq"]["usage"]["total_tokens"] > 0
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] > 0


async def test_qwen_reasoning_is_raw_without_tools_and_parsed_with_them(emu):
    parsed = await (await emu.post(body(model="qwen/qwen3.8-27b", text="What is the weather?",
                                         tools=[WEATHER]))).json()
    assert parsed["choices"][0]["message"]["reasoning"]
    emu.brain = lambda view: Turn(reasoning="hm", text="ok")
    raw = await (await emu.post(body(model="qwen/qwen3.8-27b"))).json()
    assert raw["choices"][0]["message"]["content"] == "<think>\nhm\n</think>\n\nok"


async def test_every_answer_carries_the_plan_in_the_headers(emu):
    ok = await emu.post(body(max_tokens=1000))
    h = ok.headers
    assert (h["x-ratelimit-limit-requests"], h["x-ratelimit-remaining-requests"]) == ("1000", "999")  # per day
    used = 8000 - int(h["x-ratelimit-remaining-tokens"])
    assert h["x-ratelimit-limit-tokens"] == "8000" and 1000 < used < 1100  # prompt + max_tokens, per minute
    assert h["x-ratelimit-reset-tokens"] == "1m0s" and h["x-ratelimit-reset-requests"] == "1m26.4s"
    assert "retry-after" not in h
    emu.clock.now += 12.34
    assert (await emu.post(body(max_tokens=1000))).headers["x-ratelimit-reset-tokens"] == "1m0s"
    emu.clock.now += 50
    h = (await emu.post(body(max_tokens=99_000))).headers  # refused (a 400 here): the headers still come
    assert h["x-ratelimit-reset-tokens"] == "10s" and int(h["x-ratelimit-remaining-tokens"]) == 8000 - used
    assert (await emu.post(body(max_tokens=8000))).headers["x-ratelimit-limit-tokens"] == "8000"  # the 413 too


async def test_the_minute_rolls_and_a_429_says_when_the_oldest_leaves(emu):
    assert (await emu.post(body(max_tokens=5000))).status == 200
    emu.clock.now = 20
    assert (await emu.post(body(max_tokens=2000))).status == 200
    emu.clock.now = 45  # a refill would have given 5,000 back by now; the window gives nothing until 60 s
    resp = await emu.post(body(max_tokens=2000))
    assert resp.status == 429 and resp.headers["retry-after"] == "15"
    assert "Please try again in 15s." in (await resp.json())["error"]["message"]
    emu.clock.now = 60
    assert (await emu.post(body(max_tokens=2000))).status == 200


def long_conversation(turns: int) -> list[dict]:
    out = [{"role": "system", "content": "You are a careful assistant. " * 400}]
    for i in range(turns):
        out += [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": f"Answer {i}."}]
    return out + [{"role": "user", "content": "And now?"}]


async def test_a_repeated_prefix_is_cached_and_cached_tokens_stop_counting_once_answered(emu):
    emu.paid_plan({"tpm": 20_000})
    first = await (await emu.post(dict(body(max_tokens=100), messages=long_conversation(1)))).json()
    assert first["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    resp = await emu.post(dict(body(max_tokens=100), messages=long_conversation(2)))
    usage = (await resp.json())["usage"]
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    assert cached >= 2500 and cached % 256 == 0 and cached < usage["prompt_tokens"]
    # counted whole when admitted; the cached part given back once answered
    after = 20_000 - 2 * 100 - first["usage"]["prompt_tokens"] - usage["prompt_tokens"] + cached
    assert int(resp.headers["x-ratelimit-remaining-tokens"]) == after - cached
    resp = await emu.post(body(max_tokens=1))
    third = (await resp.json())["usage"]["prompt_tokens"]
    assert int(resp.headers["x-ratelimit-remaining-tokens"]) == after - third - 1
    resp = await emu.post(body(model="qwen/qwen3.8-27b", max_tokens=100))
    assert "prompt_tokens_details" not in (await resp.json())["usage"]  # Qwen is not on the caching list


async def test_the_developer_plan_states_its_own_limits(emu):
    emu.paid_plan()
    h = (await emu.post(body(max_tokens=30_000))).headers
    assert (h["x-ratelimit-limit-tokens"], h["x-ratelimit-limit-requests"]) == ("250000", "500000")


@pytest.mark.parametrize("seconds, text", [(0.12, "120ms"), (7.66, "7.66s"), (179.56, "2m59.56s"), (360, "6m0s"),
                                           (3723.5, "1h2m3.5s")])
def test_durations_as_groq_writes_them(seconds, text):
    from tests.emulators.groq import go_duration

    assert go_duration(seconds) == text


@pytest.mark.parametrize("stream", [True, False])
async def test_an_answer_longer_than_max_tokens_stops_there(emu, stream):
    emu.brain = lambda view: Turn(reasoning="think " * 50, text="word " * 400)
    payload = body(max_tokens=200, stream=stream, stream_options={"include_usage": True} if stream else None)
    resp = await emu.post({k: v for k, v in payload.items() if v is not None})
    if stream:
        chunks = await events(resp)
        finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
        completion = chunks[-1]["usage"]["completion_tokens"]
    else:
        reply = await resp.json()
        finish, text = [reply["choices"][0]["finish_reason"]], reply["choices"][0]["message"]["content"]
        completion = reply["usage"]["completion_tokens"]
    assert finish == ["length"] and 0 < len(text) < 2000 and completion <= 200
