"""The fallback policy: after a failed attempt, the next candidate, a wait for a cooldown, or
giving up. The router says which models can take a prompt; this says what to do when one fails.
No HTTP here: `run` takes the attempt as a function, and the clock and sleep are injectable."""

import asyncio
import time

from freeclaude.gateway.router import Plan, Router
from freeclaude.translate.errors import ApiError, is_overflow, overflow_limit, token_budget, too_long

MAX_ATTEMPTS = 12  # per client request, across fallbacks and cooldown waits
DEFAULT_COOLDOWN = {"rate_limit": 20.0, "server": 5.0}  # when the upstream names no Retry-After
MIN_COOLDOWN = 0.25  # even "Retry-After: 0" must not turn the retry loop into a busy loop
PACE_GRACE = 2.0  # a wait this short for the chain's preferred model is not worth another model


class Fallback:
    def __init__(self, router: Router, *, max_wait: float = 90.0, clock=time.monotonic, sleep=asyncio.sleep,
                 pacing=None) -> None:
        """`pacing(plan, candidate)`: seconds the client-side budgets would hold the request to
        that model (limits.Pacer); a model that is ready goes before one that would make it wait."""
        self.router = router
        self.max_wait = max_wait  # longest a request waits for a rate-limited model to cool down
        self.clock = clock
        self.sleep = sleep
        self.pacing = pacing

    async def run(self, plan: Plan, attempt):
        """`attempt(candidate, number)` until one answers; the last error when none can."""
        candidates = list(plan.candidates)
        deadline = self.clock() + self.max_wait
        number = 0
        last: ApiError | None = None
        while True:
            for cand in self._order(plan, candidates):
                if self.router.cooling(cand.model):
                    continue
                try:
                    return await attempt(plan, cand, number)
                except ApiError as e:
                    number += 1
                    last = e
                    if e.status == 400 and is_overflow(e.message):
                        plan, candidates = self._overflow(plan, candidates, cand, e)
                        break
                    if not e.retryable or number >= MAX_ATTEMPTS:
                        raise
                    self.router.cool(cand.model, cooldown(e))
            else:
                # Every model failed or is cooling down: wait for the first to recover, if a
                # rate limit (not a dead server) is the reason and the wait is not too long.
                soonest = min(self.router.cooling(c.model) for c in candidates)
                rate_limited = last is None or last.status in (429, 529)
                if not rate_limited or self.clock() + soonest > deadline:
                    if last is None:
                        last = ApiError(429, f"every {plan.tier} model is rate limited", retry_after=soonest)
                    last.retry_after = max(last.retry_after or 0.0, soonest) or None
                    raise last
                await self.sleep(soonest)

    def _order(self, plan: Plan, candidates: list) -> list:
        """The chain, a model the budgets would hold back after those they let go now, the
        shortest wait first: rather than wait for the first model's minute, the next one answers."""
        if self.pacing is None or len(candidates) < 2:
            return list(candidates)
        waits = {id(c): self.pacing(plan, c) for c in candidates}
        return sorted(candidates, key=lambda c: waits[id(c)] if waits[id(c)] > PACE_GRACE else 0.0)  # stable

    def _overflow(self, plan: Plan, candidates: list, cand, e: ApiError) -> tuple[Plan, list]:
        """The upstream said the prompt does not fit: learn its real window and plan again, or
        keep only models with bigger windows, or say plainly that nothing fits."""
        limit = overflow_limit(e.message)
        budget = token_budget(e.message)
        if budget:  # it counted the prompt higher than we did: keep that much room
            limit = budget[0] - max(0, budget[1] - cand.max_tokens - plan.estimate)
        if limit and self.router.learn(cand.model, limit):
            plan = self.router.replan(plan)
            return plan, list(plan.candidates)
        window = self.router.window(cand.model)
        bigger = [c for c in candidates if self.router.window(c.model) > window]
        if not bigger:
            raise too_long(plan.estimate, overflow_limit(e.message) or window, e.message) from None
        return plan, bigger


def cooldown(e: ApiError) -> float:
    """How long a model that failed this way sits out."""
    default = DEFAULT_COOLDOWN["rate_limit" if e.status in (429, 529) else "server"]
    return max(MIN_COOLDOWN, e.retry_after if e.retry_after is not None else default)
