"""The router: the tier of a model name, max_tokens clamped to what the window leaves, cooldowns."""

import pytest

from freeclaude.gateway.router import Router, max_tokens_for, tier_of
from freeclaude.profiles.schema import parse
from tests.gateway.test_fallback import TWO, chain_profile


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


def reserving(tpm: int, **model) -> object:
    return chain_profile("http://x/v1", {"m": {"context_window": 131072, "max_output_tokens": 32768, "tpm": tpm,
                                               "quirks": {"reserves_max_tokens": True}, **model}}, ["m"])


def test_a_provider_that_reserves_max_tokens_gets_a_bounded_ask_and_a_ceiling():
    p = reserving(30000)
    [cand] = Router(p).plan("claude-opus-5-5", 4000, 32000).candidates
    assert (cand.max_tokens, cand.ceiling) == (30000 // 8, 30000 - 4000 - 200)
    plain = chain_profile("http://x/v1", {"m": {"context_window": 131072, "max_output_tokens": 32768, "tpm": 30000}}, ["m"])
    [cand] = Router(plain).plan("claude-opus-5-5", 4000, 32000).candidates
    assert cand.max_tokens == cand.ceiling == 30000 - 4000 - 200
    [small] = Router(reserving(8000)).plan("claude-opus-5-5", 1000, 32000).candidates
    assert small.max_tokens == 1024  # never below BOUND_MIN
    [short] = Router(p).plan("claude-opus-5-5", 1000, 512).candidates
    assert short.max_tokens == short.ceiling == 512


def test_a_prompt_over_an_unconfirmed_tpm_is_a_probe_and_a_confirmed_one_refuses():
    from freeclaude.gateway.limits import Pacer
    from freeclaude.gateway.ratelimits import Reading
    from freeclaude.translate.errors import ApiError

    p = reserving(8000)
    pacer = Pacer(p)
    router = Router(p, budgets=pacer)
    [probe] = router.plan("claude-opus-5-5", 12000, 32000).candidates
    assert probe.probe and probe.max_tokens == 1024 and probe.ceiling > 8000
    pacer.scope(probe.model).observe({"tpm": Reading(8000, 8000, 0.0)}, sent=0.0)
    with pytest.raises(ApiError) as e:
        router.plan("claude-opus-5-5", 12000, 32000)
    assert "prompt is too long" in e.value.message and "8,000 tokens-per-minute limit" in e.value.message
    pacer.scope(probe.model).observe({"tpm": Reading(250_000, 250_000, 0.0)}, sent=1.0)
    [cand] = router.plan("claude-opus-5-5", 12000, 32000).candidates
    assert not cand.probe and cand.max_tokens == 250_000 // 8
