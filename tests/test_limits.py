"""Client-side budgets: requests and tokens per window, concurrency, and a clear refusal when a
budget frees up too late."""

import asyncio

import pytest

from freeclaude.limits import Exhausted, Limiter
from freeclaude.providers import Limits


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
