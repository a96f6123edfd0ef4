"""The fallback policy: after a failed attempt, the next candidate, a wait for a cooldown, or
giving up. The router says which models can take a prompt; this says what to do when one fails.
No HTTP here: the caller makes each attempt and says how it went (`Tries`); the clock and sleep
are injectable."""

import asyncio
import time
from typing import Protocol

from freeclaude.gateway.limits import Clock, Sleep
from freeclaude.gateway.router import Candidate, Plan, Router
from freeclaude.profiles.providers import Model
from freeclaude.translate.errors import ApiError, is_overflow, overflow_limit, token_budget, too_long

MAX_ATTEMPTS = 12  # per client request, across fallbacks and cooldown waits
DEFAULT_COOLDOWN = {"rate_limit": 20.0, "server": 5.0}  # when the upstream names no Retry-After
MIN_COOLDOWN = 0.25  # even "Retry-After: 0" must not turn the retry loop into a busy loop
PACE_GRACE = 2.0  # a wait this short for the chain's preferred model is not worth another model


class Budgets(Protocol):
    """The client-side budgets (limits.Pacer): seconds they would hold a request back."""

    def wait(self, model: Model, tokens: int, probe: bool = False) -> float: ...


class Fallback:
    def __init__(self, router: Router, *, budgets: Budgets | None = None, max_wait: float = 90.0,
                 clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        """`budgets`: a model they would make wait goes after one that is ready."""
        self.router = router
        self.budgets = budgets
        self.max_wait = max_wait  # longest a request waits for a rate-limited model to cool down
        self.clock = clock
        self.sleep = sleep

    def tries(self, plan: Plan) -> "Tries":
        return Tries(self, plan)

    def order(self, plan: Plan, candidates: list[Candidate]) -> list[Candidate]:
        """The chain, a model the budgets would hold back after those they let go now, the
        shortest wait first: rather than wait for the first model's minute, the next one answers."""
        budgets = self.budgets
        if budgets is None or len(candidates) < 2:
            return list(candidates)
        waits = {id(c): budgets.wait(c.model, plan.estimate + c.max_tokens, c.probe) for c in candidates}
        return sorted(candidates, key=lambda c: waits[id(c)] if waits[id(c)] > PACE_GRACE else 0.0)  # stable

    def overflow(self, plan: Plan, candidates: list[Candidate], cand: Candidate,
                 e: ApiError) -> tuple[Plan, list[Candidate]]:
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


class Tries:
    """One request's way through its chain. The caller loops: `await next()` for the candidate to
    try (it waits for a cooldown where every model is sitting out, and raises the last error when
    no try may follow), then, if that try failed, `failed(candidate, error)`, which raises the
    error when it ends the request (a bad request, or too many tries)."""

    def __init__(self, fallback: Fallback, plan: Plan) -> None:
        self._fallback = fallback
        self._router = fallback.router
        self.plan = plan  # replanned when an upstream teaches a smaller window
        self.number = 0  # of the next try: 0 for the first
        self._candidates = list(plan.candidates)
        self._pass: list[Candidate] | None = None  # what is left of this pass over the chain
        self._last: ApiError | None = None
        self._deadline = fallback.clock() + fallback.max_wait

    async def next(self) -> Candidate:
        while True:
            if self._pass is None:
                self._pass = self._fallback.order(self.plan, self._candidates)
            while self._pass:
                cand = self._pass.pop(0)
                if not self._router.cooling(cand.model):
                    return cand
            await self._wait()
            self._pass = None

    def failed(self, cand: Candidate, e: ApiError) -> None:
        self.number += 1
        self._last = e
        if e.status == 400 and is_overflow(e.message):
            self.plan, self._candidates = self._fallback.overflow(self.plan, self._candidates, cand, e)
            self._pass = None  # a new pass, over what fits
            return
        if not e.retryable or self.number >= MAX_ATTEMPTS:
            raise e
        self._router.cool(cand.model, cooldown(e))

    async def _wait(self) -> None:
        """Every model failed or is cooling down: wait for the first to recover, if a rate limit
        (not a dead server) is the reason and the wait is not too long; else the last error."""
        fallback, last = self._fallback, self._last
        soonest = min(self._router.cooling(c.model) for c in self._candidates)
        rate_limited = last is None or last.status in (429, 529)
        if not rate_limited or fallback.clock() + soonest > self._deadline:
            if last is None:
                last = ApiError(429, f"every {self.plan.tier} model is rate limited", retry_after=soonest)
            last.retry_after = max(last.retry_after or 0.0, soonest) or None
            raise last
        await fallback.sleep(soonest)


def cooldown(e: ApiError) -> float:
    """How long a model that failed this way sits out."""
    default = DEFAULT_COOLDOWN["rate_limit" if e.status in (429, 529) else "server"]
    return max(MIN_COOLDOWN, e.retry_after if e.retry_after is not None else default)
