"""Client-side budgets: requests and tokens per window, concurrency, and a clear refusal when a
budget frees up too late."""

import asyncio
import math

import pytest

from freeclaude.gateway.limits import Exhausted, Limiter, Pacer
from freeclaude.gateway.ratelimits import Reading
from freeclaude.profiles.providers import Limits
from tests.support.clock import Clock


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


# ---------------------------------------------------------------- what the provider says


def limiter(t: Clock, refill: str = "window", **limits) -> Limiter:
    return Limiter(Limits(**limits), clock=t, sleep=t.sleep, refill=refill)


async def test_a_bigger_plan_in_the_headers_lifts_the_declared_limit():
    t = Clock()
    lim = limiter(t, tpm=8000)
    assert lim.wait(20000, t.now) == (math.inf, "tpm")
    first = await lim.charge(2000)
    lim.observe({"tpm": Reading(250_000, 248_000, 3.0)}, sent=first.t)
    await lim.charge(20000)
    await lim.charge(20000)
    assert t.slept == [] and lim.value("tpm") == 250_000 and lim.learned("tpm")


async def test_a_smaller_real_limit_in_the_headers_shrinks_ours():
    t = Clock()
    lim = limiter(t, tpm=30000)
    lim.observe({"tpm": Reading(8000, 8000, 0.0)}, sent=t.now)
    with pytest.raises(Exhausted) as e:
        await lim.charge(9000)
    assert "8,000 tokens per minute limit is smaller than this one request" in str(e.value)


async def test_what_remains_holds_until_the_stated_reset_then_the_limit_less_what_came_after():
    t = Clock()
    lim = limiter(t, tpm=10000)
    first = await lim.charge(9000)
    t.now = 1.0
    lim.observe({"tpm": Reading(10000, 1000, 10.0)}, sent=first.t)
    assert lim.wait(500, t.now) == (0.0, None)
    await lim.charge(500)  # after the reading: not in its 1,000
    assert lim.wait(800, t.now) == (pytest.approx(10.0), "tpm")  # 500 left until the reset at 11 s
    t.now = 11.0
    assert lim.wait(9500, t.now) == (0.0, None)  # full again, less the 500 sent after the reading
    assert lim.wait(9600, t.now) == (pytest.approx(50.0), "tpm")  # until those 500 are a minute old


async def test_a_429_with_nothing_left_waits_for_its_reset():
    t = Clock()
    lim = limiter(t, rpm=30)
    lim.observe({"requests": Reading(20, 0, 42.0)}, sent=t.now)  # OpenRouter's bare headers
    await lim.charge()
    assert t.slept == [pytest.approx(42.0)]


async def test_an_older_answer_arriving_late_does_not_undo_a_newer_one():
    t = Clock()
    lim = limiter(t, tpm=10000)
    lim.observe({"tpm": Reading(10000, 9000, 5.0)}, sent=2.0)
    lim.observe({"tpm": Reading(10000, 3000, 5.0)}, sent=1.0)
    assert lim.seen["tpm"].remaining == 9000


async def test_a_probe_passes_a_declared_limit_nobody_confirmed_once():
    t = Clock()
    lim = limiter(t, tpm=8000)
    assert lim.wait(12000, t.now, probe=True) == (0.0, None)
    entry = await lim.charge(12000, probe=True)
    lim.observe({"tpm": Reading(8000, 8000, 0.0)}, sent=entry.t)  # Groq's 413 carries the limit
    assert lim.wait(12000, t.now, probe=True) == (math.inf, "tpm")


async def test_a_continuous_refill_gives_back_a_share_every_second():
    t = Clock()
    lim = limiter(t, refill="continuous", tpm=6000)  # 100 tokens a second
    await lim.charge(6000)
    await lim.charge(3000)
    assert t.slept == [pytest.approx(30.0)]
    t.now += 5
    lim.observe({"tpm": Reading(6000, 1000, 55.0)}, sent=t.now - 1)  # Cerebras: reset to the next minute
    assert lim.wait(1500, t.now) == (pytest.approx(5.0), "tpm")  # from what it said, at 100 a second


async def test_the_request_that_waits_says_so():
    t = Clock()
    lim = limiter(t, rpm=1)
    told = []
    await lim.charge()
    await lim.charge(held=lambda limit, seconds: told.append((limit, seconds)))
    assert told == [("rpm", 60.0)]


async def test_the_pacer_takes_back_what_the_provider_does_not_count():
    from freeclaude.gateway.upstream import Receipt, Usage
    from freeclaude.profiles.schema import parse

    t = Clock()
    p = parse({"providers": {"g": {"kind": "openai", "base_url": "http://x/v1", "models": {
        "m": {"tpm": 8000, "quirks": {"counts_cached": False}}, "n": {"tpm": 8000}}}},
        "tiers": {"default": ["g:m", "g:n"]}}, "p", "test")
    pacer = Pacer(p, clock=t, sleep=t.sleep)
    m, n = p.chain("default")
    for model in (m, n):
        async with pacer.slot(model, 6000) as ticket:
            pacer.answered(ticket, Receipt(Usage(input=500, cache_read=5000, estimated=False)), ok=True)
    assert pacer.wait(m, 6000) == 0.0  # 5,000 of its 6,000 were cached: they do not count
    assert pacer.wait(n, 6000) == pytest.approx(60.0)


async def test_a_probe_that_goes_through_where_no_header_says_confirms_the_limit():
    from freeclaude.gateway.upstream import Receipt, Usage
    from freeclaude.profiles.schema import parse

    t = Clock()
    p = parse({"providers": {"g": {"kind": "openai", "base_url": "http://x/v1", "models": {"m": {"tpm": 8000}}}},
               "tiers": {"default": ["g:m"]}}, "p", "test")
    pacer = Pacer(p, clock=t, sleep=t.sleep)
    [m] = p.chain("default")
    assert pacer.tpm(m) == (8000, False)
    async with pacer.slot(m, 12000, probe=True) as ticket:
        pacer.answered(ticket, Receipt(Usage()), ok=True)
    assert pacer.tpm(m) == (12000, True)
    assert pacer.stated(m) == {"tpm": {"profile": 8000, "stated": 12000, "remaining": None, "reset_s": 0.0}}


async def test_cached_tokens_given_back_after_the_answer_add_to_what_its_headers_said_remained():
    from freeclaude.gateway.upstream import Receipt, Usage
    from freeclaude.profiles.schema import parse

    t = Clock()
    p = parse({"providers": {"g": {"kind": "openai", "base_url": "http://x/v1", "models": {
        "m": {"tpm": 8000, "quirks": {"counts_cached": False}}}}}, "tiers": {"default": ["g:m"]}}, "p", "test")
    pacer = Pacer(p, clock=t, sleep=t.sleep)
    [m] = p.chain("default")
    async with pacer.slot(m, 5500) as ticket:
        # written at admission, the whole prompt counted: 2,500 left for a minute
        receipt = Receipt(Usage(input=1000, cache_read=4000, estimated=False), ratelimits={"tpm": Reading(8000, 2500, 60.0)})
        pacer.answered(ticket, receipt, ok=True)
    assert pacer.wait(m, 6500) == 0.0  # 2,500 + the 4,000 cached
    assert pacer.wait(m, 6600) == pytest.approx(60.0)
