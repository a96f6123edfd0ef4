"""Free tiers that hold up: fallback chains, cooldowns, client-side limits, context fit."""

import asyncio
import json
import time

import aiohttp
import pytest

from freeclaude.limits import Exhausted, Limiter
from freeclaude.providers import Limits
from freeclaude.profiles import parse
from freeclaude.router import Router, max_tokens_for, tier_of
from freeclaude.translate.errors import ApiError
from tests.conftest import TOKEN, rows
from tests.fakes import Json, Stream, chunk, completion, text_chunks

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def chain_profile(url: str, models: dict, chain: list[str], **provider) -> object:
    return parse({"providers": {"fake": {"kind": "openai", "base_url": url, "api_key_env": "FAKE_KEY",
                                         "models": models, **provider}},
                  "tiers": {"opus": [f"fake:{m}" for m in chain]}}, "chain", "test")


def body(text="hi", stream=False, max_tokens=100):
    return {"model": "claude-opus-5-5", "max_tokens": max_tokens, "stream": stream,
            "messages": [{"role": "user", "content": text}]}


async def post(server, payload):
    async with aiohttp.ClientSession() as s:
        async with s.post(server.base_url + "/v1/messages", json=payload, headers=AUTH) as r:
            return r.status, r.headers.copy(), await r.read()


TWO = {"a": {"context_window": 32768}, "b": {"context_window": 32768}}


@pytest.mark.parametrize("failure", [
    Json({"error": {"message": "rate limited"}}, status=429),
    Json({"error": {"message": "down"}}, status=503),
    Json({"error": {"message": "bad gateway"}}, status=502),
    Stream([{"error": {"message": "Provider returned error", "code": 429}}]),
])
async def test_next_model_on_failure_before_anything_was_sent(fake, gateway, failure):
    fake.queue(failure, Json(completion({"content": "from b"})))
    server = await gateway(chain_profile(fake.url, TWO, ["a", "b"]))
    status, _, raw = await post(server, body())
    assert status == 200 and json.loads(raw)["content"][0]["text"] == "from b"
    assert [r.body["model"] for r in fake.received] == ["a", "b"]
    got = rows(server)
    assert [(r["upstream_model"], r["position"], r["attempt"], r["outcome"] == "ok") for r in got] == [
        ("a", 0, 0, False), ("b", 1, 1, True)]
    assert got[0]["request_id"] == got[1]["request_id"]


async def test_no_fallback_for_a_bad_request(fake, gateway):
    fake.queue(Json({"error": {"message": "bad field"}}, status=400))
    server = await gateway(chain_profile(fake.url, TWO, ["a", "b"]))
    status, _, _ = await post(server, body())
    assert status == 400 and len(fake.received) == 1


async def test_fallback_on_timeout_and_refused_connection(fake, gateway):
    slow = Json(completion({"content": "late"}), delay=3)
    fake.queue(slow, Json(completion({"content": "fast"})))
    server = await gateway(chain_profile(fake.url, TWO, ["a", "b"], timeout=0.3))
    status, _, raw = await post(server, body())
    assert status == 200 and json.loads(raw)["content"][0]["text"] == "fast"

    dead = parse({"providers": {
        "dead": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "models": {"x": {}}},
        "fake": {"kind": "openai", "base_url": fake.url, "api_key_env": "FAKE_KEY", "models": {"b": {}}}},
        "tiers": {"opus": ["dead:x", "fake:b"]}}, "d", "t")
    fake.queue(Json(completion({"content": "alive"})))
    server = await gateway(dead)
    status, _, raw = await post(server, body())
    assert status == 200 and json.loads(raw)["content"][0]["text"] == "alive"


async def test_retry_after_cools_the_model_down(fake, gateway):
    fake.queue(Json({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "60"}),
               Json(completion({"content": "b1"})), Json(completion({"content": "b2"})))
    server = await gateway(chain_profile(fake.url, TWO, ["a", "b"]))
    await post(server, body())
    await post(server, body())
    # a was skipped on the second request: it is cooling down for 60 s
    assert [r.body["model"] for r in fake.received] == ["a", "b", "b"]
    assert 55 < server.router.cooling(server.profile.chain("opus")[0]) <= 60


async def test_a_single_rate_limited_model_is_waited_for(fake, gateway):
    fake.queue(Json({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "1"}),
               Json(completion({"content": "after the wait"})))
    server = await gateway(chain_profile(fake.url, TWO, ["a"]))
    start = time.monotonic()
    status, _, raw = await post(server, body())
    assert status == 200 and json.loads(raw)["content"][0]["text"] == "after the wait"
    assert 0.9 < time.monotonic() - start < 5
    assert [r["outcome"] for r in rows(server)] == ["rate_limit_error", "ok"]


async def test_waiting_is_bounded(fake, gateway):
    fake.queue(Json({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "600"}))
    server = await gateway(chain_profile(fake.url, TWO, ["a"]), max_wait=2)
    status, headers, raw = await post(server, body())
    assert status == 429 and int(headers["retry-after"]) >= 590
    assert json.loads(raw)["error"]["type"] == "rate_limit_error"


async def test_no_fallback_once_streaming_began(fake, gateway):
    fake.queue(Stream([chunk({"content": "par"}), {"error": {"message": "died", "code": 500}}], delay=0.05),
               Stream(text_chunks("should not be used")))
    server = await gateway(chain_profile(fake.url, TWO, ["a", "b"]))
    status, _, raw = await post(server, body(stream=True))
    assert status == 200 and raw.decode().rstrip().split("\n\n")[-1].startswith("event: error")
    assert len(fake.received) == 1


async def test_every_second_request_429_with_small_window_and_output_cap(fake, gateway):
    """Issue 4's scenario: one model, 429 on every second call, 8k output cap, 32k window."""
    calls = {"n": 0}

    def answer(payload):
        calls["n"] += 1
        if calls["n"] % 2 == 0:
            return Json({"error": {"message": "rate limited"}}, status=429, headers={"Retry-After": "0.2"})
        assert payload["max_tokens"] <= 8192
        return Stream(text_chunks(f"turn {calls['n']}", prompt=1000, completion=10))

    fake.default = answer
    server = await gateway(chain_profile(fake.url, {"m": {"context_window": 32768, "max_output_tokens": 8192}}, ["m"]))
    for turn in range(10):
        status, _, raw = await post(server, body(f"turn {turn}", stream=True, max_tokens=128000))
        assert status == 200 and b"event: message_stop" in raw and b"event: error" not in raw
    got = rows(server)
    assert sum(r["outcome"] == "ok" for r in got) == 10
    assert sum(r["outcome"] == "rate_limit_error" for r in got) == 9


# ---------------------------------------------------------------- context fit


FIT = {"small": {"context_window": 8192, "max_output_tokens": 4096},
       "large": {"context_window": 131072, "max_output_tokens": 16384}}


async def test_a_prompt_too_big_for_the_first_model_goes_to_one_that_fits(fake, gateway):
    fake.queue(Json(completion({"content": "ok"})))
    server = await gateway(chain_profile(fake.url, FIT, ["small", "large"]))
    status, _, _ = await post(server, body("word " * 12000))
    assert status == 200 and [r.body["model"] for r in fake.received] == ["large"]


async def test_nothing_fits_is_prompt_too_long(fake, gateway):
    server = await gateway(chain_profile(fake.url, {"small": FIT["small"]}, ["small"]))
    status, _, raw = await post(server, body("word " * 12000))
    err = json.loads(raw)["error"]
    assert status == 400 and err["type"] == "invalid_request_error"
    assert err["message"].startswith("prompt is too long: ") and "tokens > 7706 maximum" in err["message"]  # (8192 - 100 output) less a 5% margin
    assert fake.received == []


async def test_upstream_overflow_moves_to_a_bigger_window(fake, gateway):
    overflow = Json({"error": {"message": "This model's maximum context length is 8192 tokens"}}, status=400)
    fake.queue(overflow, Json(completion({"content": "big enough"})))
    server = await gateway(chain_profile(fake.url, FIT, ["small", "large"]))
    status, _, raw = await post(server, body("short"))
    assert status == 200 and [r.body["model"] for r in fake.received] == ["small", "large"]


async def test_upstream_overflow_with_nowhere_to_go_is_prompt_too_long(fake, gateway):
    fake.queue(Json({"error": {"message": "the request exceeds the available context size"}}, status=400))
    server = await gateway(chain_profile(fake.url, {"small": FIT["small"]}, ["small"]))
    status, _, raw = await post(server, body("short"))
    assert status == 400 and json.loads(raw)["error"]["message"].startswith("prompt is too long")


def test_max_tokens_clamped_to_room_left_in_the_window():
    p = chain_profile("http://x/v1", {"m": {"context_window": 32768, "max_output_tokens": 8192}}, ["m"])
    m = p.chain("opus")[0]
    assert max_tokens_for(m, m.context_window, 128000, 1000) == 8192
    assert max_tokens_for(m, m.context_window, 128000, 28000) == 32768 - 28000 - 1400  # a 5% margin on the estimate
    assert max_tokens_for(m, m.context_window, 500, 1000) == 500


@pytest.mark.parametrize("name,tier", [("claude-opus-5-5", "opus"), ("claude-3-5-haiku-20241022", "haiku"),
                                       ("CLAUDE-SONNET", "sonnet"), ("gpt-4o", "default")])
def test_tier_of(name, tier):
    assert tier_of(name) == tier


def test_router_cooldowns_use_the_clock():
    now = [100.0]
    p = chain_profile("http://x/v1", TWO, ["a", "b"])
    router = Router(p, clock=lambda: now[0])
    a = p.chain("opus")[0]
    router.cool(a, 30)
    assert router.cooling(a) == 30
    now[0] += 31
    assert router.cooling(a) == 0


def test_a_named_tier_is_planned_again_on_its_own_chain():
    p = parse({"providers": {"x": {"kind": "openai", "base_url": "http://x/v1", "models": {
                   "text": {"context_window": 32768}, "eyes": {"context_window": 16384}}}},
               "tiers": {"default": ["x:text"], "vision": ["x:eyes"]}}, "t", "t")
    router = Router(p)
    plan = router.plan("vision", 1000, 2048, tier="vision")
    assert (plan.tier, [c.model.name for c in plan.candidates]) == ("vision", ["eyes"])
    router.learn(plan.candidates[0].model, 8192)
    again = router.replan(plan)
    assert [c.model.name for c in again.candidates] == ["eyes"] and again.candidates[0].max_tokens < 8192
    assert [c.model.name for c in router.replan(router.plan("vision", 1000, 2048)).candidates] == ["text"]


# ---------------------------------------------------------------- client-side limits


async def test_a_charge_counts_against_the_budgets_without_a_second_slot():
    now, slept = [0.0], []

    async def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = Limiter(Limits(rpm=2), concurrency=1, clock=lambda: now[0], sleep=sleep)
    async with limiter:  # the one concurrency slot is held
        await limiter.charge()  # a second request inside it: no deadlock, one more in this minute
        await limiter.charge()  # the third in the minute waits for the first to age out
    assert slept == [60.0]


async def test_rpm_limit_makes_requests_wait_their_turn():
    now, slept = [0.0], []

    async def sleep(seconds):  # a fake minute passes at once
        slept.append(seconds)
        now[0] += seconds

    limiter = Limiter(Limits(rpm=2), clock=lambda: now[0], sleep=sleep)
    for _ in range(2):
        async with limiter:
            now[0] += 1
    async with limiter:  # the third in the same minute waits until the first is a minute old
        pass
    assert slept == [58.0] and now[0] == 60.0


async def test_token_budget_paces_by_prompt_plus_max_tokens():
    now, slept = [0.0], []

    async def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = Limiter(Limits(tpm=30000), clock=lambda: now[0], sleep=sleep)
    await limiter.acquire(20000)
    now[0] += 10
    await limiter.acquire(10000)  # exactly the budget: no wait
    now[0] += 5
    await limiter.acquire(5000)  # waits until the first 20,000 are a minute old
    assert slept == [45.0]


async def test_a_budget_that_frees_too_late_is_refused_with_the_limit_named():
    now = [0.0]
    limiter = Limiter(Limits(rpd=2), clock=lambda: now[0], max_wait=90)
    await limiter.acquire()
    await limiter.acquire()
    with pytest.raises(Exhausted) as e:
        await limiter.acquire()
    assert "2 requests per day" in str(e.value) and e.value.wait == 86400


async def test_concurrency_limit():
    limiter = Limiter(concurrency=2)
    inside, peak = 0, 0

    async def job():
        nonlocal inside, peak
        async with limiter:
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.02)
            inside -= 1

    await asyncio.gather(*(job() for _ in range(8)))
    assert peak == 2


async def test_provider_concurrency_applies_through_the_gateway(fake, gateway):
    fake.default = Json(completion({"content": "ok"}), delay=0.1)
    server = await gateway(chain_profile(fake.url, TWO, ["a"], concurrency=1))
    start = time.monotonic()
    results = await asyncio.gather(*(post(server, body()) for _ in range(4)))
    assert all(r[0] == 200 for r in results)
    assert time.monotonic() - start >= 0.4  # one at a time


def test_api_error_retryable():
    assert ApiError(429, "x").retryable and ApiError(502, "x").retryable and not ApiError(400, "x").retryable


# ---------------------------------------------------------------- token budgets


async def test_a_declared_tpm_clamps_max_tokens_and_names_the_limit_when_nothing_fits(fake, gateway):
    fake.default = Json(completion({"content": "ok"}))
    server = await gateway(chain_profile(fake.url, {"a": {"context_window": 131072, "max_output_tokens": 32768, "tpm": 6000}},
                                         ["a"]))
    status, _, _ = await post(server, body(max_tokens=32000))
    assert status == 200 and fake.last.body["max_tokens"] < 6000  # prompt + max_tokens fit the budget
    status, _, raw = await post(server, body(text="word " * 9000))
    error = json.loads(raw)["error"]
    assert status == 400 and error["message"].startswith("prompt is too long")
    assert "6,000 tokens-per-minute limit" in error["message"]


async def test_an_upstream_token_budget_413_teaches_the_limit_and_retries_clamped(fake, gateway):
    # Groq-style: prompt + requested max_tokens over the TPM is a 413 before the model runs.
    def groq(payload):
        requested = payload["max_tokens"] + 50
        if requested > 8000:
            return Json({"error": {"message": f"Request too large for model `a` on tokens per minute (TPM): "
                                              f"Limit 8000, Requested {requested}, please reduce your message size",
                                   "type": "tokens", "code": "rate_limit_exceeded"}}, status=413)
        return Json(completion({"content": "ok"}))
    fake.default = groq
    server = await gateway(chain_profile(fake.url, {"a": {"context_window": 131072, "max_output_tokens": 32768}}, ["a"]))
    status, _, raw = await post(server, body(max_tokens=32000))
    assert status == 200, raw
    assert [r.body["max_tokens"] for r in fake.received][0] == 32000 and fake.last.body["max_tokens"] < 8000
    status, _, raw = await post(server, body(text="word " * 9000))
    assert status == 400 and "prompt is too long" in json.loads(raw)["error"]["message"]
