"""Free tiers that hold up: fallback chains, cooldowns, client-side limits, context fit."""

import asyncio
import json
import time

import aiohttp
import pytest

from freeclaude.gateway.fallback import MIN_COOLDOWN, Fallback
from freeclaude.gateway.router import Router
from freeclaude.profiles.schema import parse
from freeclaude.translate.errors import ApiError
from tests.conftest import TOKEN, rows
from tests.support.clock import Clock
from tests.support.fakes import Json, Stream, chunk, completion, text_chunks

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
    # (8192 - 100 output) less a 5% margin
    assert err["message"].startswith("prompt is too long: ") and "tokens > 7706 maximum" in err["message"]
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


# ---------------------------------------------------------------- client-side limits


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


def groq_like(limit: int):
    """A provider that counts prompt + max_tokens against `limit` tokens a minute, 413 for a request
    over it, and states the limit in Groq's header on every answer."""
    def answer(payload):
        requested = payload["max_tokens"] + sum(len(str(m["content"]).split()) for m in payload["messages"])
        headers = {"x-ratelimit-limit-tokens": str(limit), "x-ratelimit-remaining-tokens": str(limit),
                   "x-ratelimit-reset-tokens": "0s"}
        if requested > limit:
            return Json({"error": {"message": f"Request too large for model `a` on tokens per minute (TPM): "
                                              f"Limit {limit}, Requested {requested}, please reduce your message size",
                                   "type": "tokens", "code": "rate_limit_exceeded"}}, status=413, headers=headers)
        return Json(completion({"content": "ok"}), headers=headers)
    return answer


async def test_a_declared_tpm_clamps_max_tokens_and_once_the_headers_confirm_it_a_bigger_request_stays_here(fake, gateway):
    fake.default = groq_like(6000)
    server = await gateway(chain_profile(fake.url, {"a": {"context_window": 131072, "max_output_tokens": 32768, "tpm": 6000}},
                                         ["a"]))
    status, _, _ = await post(server, body(max_tokens=32000))
    assert status == 200 and fake.last.body["max_tokens"] < 6000  # prompt + max_tokens fit the budget
    # The answer's headers confirmed the profile's 6,000: a bigger request is not sent at all.
    status, _, raw = await post(server, body(text="word " * 9000))
    error = json.loads(raw)["error"]
    assert status == 400 and error["message"].startswith("prompt is too long")
    assert "6,000 tokens-per-minute limit" in error["message"] and len(fake.received) == 1


async def test_a_request_over_an_unconfirmed_tpm_goes_once_and_the_413_names_the_limit(fake, gateway):
    fake.default = groq_like(6000)
    server = await gateway(chain_profile(fake.url, {"a": {"context_window": 131072, "max_output_tokens": 32768, "tpm": 6000}},
                                         ["a"]))
    for _ in range(2):
        status, _, raw = await post(server, body(text="word " * 9000))
        assert status == 400 and json.loads(raw)["error"]["message"].startswith("prompt is too long")
    assert len(fake.received) == 1  # the probe; then the limit it taught refuses at once


async def test_a_bigger_plan_in_the_headers_lifts_the_declared_tpm(fake, gateway):
    fake.default = groq_like(250_000)
    server = await gateway(chain_profile(fake.url, {"a": {"context_window": 131072, "max_output_tokens": 32768, "tpm": 6000}},
                                         ["a"]))
    status, _, raw = await post(server, body(text="word " * 9000, max_tokens=20000))
    assert status == 200, raw
    status, _, raw = await post(server, body(text="word " * 9000, max_tokens=20000))
    assert status == 200 and [r.body["max_tokens"] for r in fake.received] == [20000, 20000]


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


async def test_a_prompt_that_fits_no_model_is_refused_once_and_recorded(fake, gateway):
    server = await gateway(chain_profile(fake.url, {"m": {"context_window": 4096}}, ["m"]))
    status, _, raw = await post(server, body("word " * 8000))
    assert status == 400 and "prompt is too long" in json.loads(raw)["error"]["message"]
    assert fake.received == []
    [row] = rows(server)
    assert (row["provider"], row["position"], row["outcome"], row["status"]) == (
        "freeclaude", -1, "invalid_request_error", 400)
    totals = server.ledger.totals(session=server.config.session)
    assert totals["by_model"]["refused by freeclaude"]["errors"] == 1
    assert "prompt is too long" in totals["errors"][0]["error"] and totals["errors"][0]["count"] == 1


# ---------------------------------------------------------------- the policy alone, on a fake clock


def policy(t: Clock, chain=("a", "b"), max_wait=90.0):
    p = chain_profile("http://x/v1", TWO, list(chain))
    router = Router(p, clock=t)
    return Fallback(router, max_wait=max_wait, clock=t, sleep=t.sleep), router.plan("claude-opus-5-5", 100, 1000)


def script(*outcomes):
    """Attempts that fail or answer as told, made the way the server makes them (the loop over
    Tries), and what each was asked."""
    asked = []

    async def run(fallback, plan):
        tries = fallback.tries(plan)
        while True:
            cand = await tries.next()
            asked.append((cand.model.name, tries.number))
            outcome = outcomes[len(asked) - 1]
            if not isinstance(outcome, ApiError):
                return outcome
            tries.failed(cand, outcome)

    return run, asked


async def test_policy_next_candidate_then_answer():
    t = Clock(1000.0)
    fallback, plan = policy(t)
    run, asked = script(ApiError(503, "down"), "answer")
    assert await run(fallback, plan) == "answer"
    assert asked == [("a", 0), ("b", 1)] and t.slept == []


async def test_policy_waits_for_the_soonest_cooldown_when_every_model_is_rate_limited():
    t = Clock(1000.0)
    fallback, plan = policy(t)
    run, asked = script(ApiError(429, "slow down", retry_after=30), ApiError(429, "slow down", retry_after=12),
                            "answer")
    assert await run(fallback, plan) == "answer"
    assert t.slept == [12] and asked == [("a", 0), ("b", 1), ("b", 2)]


async def test_policy_gives_up_at_once_on_dead_servers_and_past_its_deadline():
    t = Clock(1000.0)
    fallback, plan = policy(t)
    run, _ = script(ApiError(502, "a is down"), ApiError(502, "b is down"))
    with pytest.raises(ApiError, match="b is down"):
        await run(fallback, plan)
    assert t.slept == []  # a dead server is not waited for

    t = Clock(1000.0)
    fallback, plan = policy(t, chain=("a",), max_wait=10)
    run, _ = script(ApiError(429, "slow down", retry_after=60))
    with pytest.raises(ApiError) as e:
        await run(fallback, plan)
    assert t.slept == [] and e.value.retry_after == 60  # the client is told when to come back


async def test_policy_never_retries_a_bad_request_and_cools_nothing():
    t = Clock(1000.0)
    fallback, plan = policy(t)
    run, asked = script(ApiError(400, "bad field"))
    with pytest.raises(ApiError, match="bad field"):
        await run(fallback, plan)
    assert asked == [("a", 0)] and fallback.router.cooling(plan.candidates[0].model) == 0


async def test_policy_retry_after_zero_still_pauses():
    t = Clock(1000.0)
    fallback, plan = policy(t, chain=("a",))
    run, _ = script(ApiError(429, "now", retry_after=0), "answer")
    assert await run(fallback, plan) == "answer"
    assert t.slept == [MIN_COOLDOWN]


async def test_a_429_that_names_no_retry_after_cools_the_model_until_its_headers_reset(fake, gateway):
    # OpenRouter's 429: X-RateLimit-* only, the reset an epoch time in milliseconds.
    reset = str(int((time.time() + 1.5) * 1000))
    fake.queue(Json({"error": {"code": 429, "message": "Rate limit exceeded: free-models-per-min."}}, status=429,
                    headers={"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}),
               Json(completion({"content": "ok"})))
    server = await gateway(chain_profile(fake.url, TWO, ["a"]))
    start = time.monotonic()
    status, _, raw = await post(server, body())
    assert status == 200 and 1.0 < time.monotonic() - start < 10  # not the 20 s of a 429 that says nothing
    assert len(fake.received) == 2
