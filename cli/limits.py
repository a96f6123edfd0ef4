"""Client-side budgets per provider and per model: requests wait their turn instead of tripping a
429, and a budget that cannot free up soon enough is refused at once with the limit named."""

import asyncio
import collections
import contextlib
import time

from freeclaude.providers import Limits

# The window each limit counts over, and how it reads in a message.
WINDOWS = {"rpm": (60, "requests per minute"), "rpd": (86400, "requests per day"),
           "tpm": (60, "tokens per minute"), "tph": (3600, "tokens per hour"), "tpd": (86400, "tokens per day")}


class Exhausted(Exception):
    """A budget frees up only after `wait` seconds, longer than a request may wait."""

    def __init__(self, limit: str, value: int, wait: float) -> None:
        self.limit, self.value, self.wait = limit, value, wait
        super().__init__(f"its {value:,} {WINDOWS[limit][1]} limit is used up for the next {_span(wait)}")


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


class Limiter:
    """Sliding-window budgets (requests and tokens per minute, hour, day) and a concurrency cap."""

    def __init__(self, limits: Limits | None = None, concurrency: int | None = None, *,
                 clock=time.monotonic, sleep=asyncio.sleep, max_wait: float = 90.0) -> None:
        self.limits = limits or Limits()
        self._active = [(k, v, WINDOWS[k][0]) for k in WINDOWS if (v := getattr(self.limits, k))]
        self._keep = max((w for _, _, w in self._active), default=0)
        self._clock = clock
        self._sleep = sleep
        self.max_wait = max_wait
        self._log: collections.deque[tuple[float, int]] = collections.deque()  # (start, tokens)
        self._sem = asyncio.Semaphore(concurrency) if concurrency else None
        self._lock = asyncio.Lock()  # one waiter at a time takes the next slot, in order

    def wait(self, tokens: int, now: float) -> tuple[float, str | None]:
        """Seconds until a request of `tokens` fits every budget, and the limit that binds."""
        longest, binding = 0.0, None
        for name, value, window in self._active:
            entries = [(t, n) for t, n in self._log if now - t < window]
            cost = 1 if name[0] == "r" else tokens
            used = sum(1 if name[0] == "r" else n for _, n in entries)
            if used + cost <= value:
                continue
            # The oldest entries have to age out until what is left plus this request fits.
            freed, until = 0, now
            for t, n in entries:
                freed += 1 if name[0] == "r" else n
                until = t + window
                if used - freed + cost <= value:
                    break
            if until - now > longest:
                longest, binding = until - now, name
        return longest, binding

    async def acquire(self, tokens: int = 0) -> None:
        await self.charge(tokens)
        if self._sem:
            await self._sem.acquire()

    async def charge(self, tokens: int = 0) -> None:
        """Counts a request against the budgets, waiting until they allow it (no concurrency slot)."""
        if self._active:
            async with self._lock:
                while True:
                    now = self._clock()
                    while self._log and now - self._log[0][0] >= self._keep:
                        self._log.popleft()
                    seconds, binding = self.wait(tokens, now)
                    if binding is None:
                        self._log.append((now, tokens))
                        break
                    if seconds > self.max_wait:
                        raise Exhausted(binding, getattr(self.limits, binding), seconds)
                    await self._sleep(seconds)

    def release(self) -> None:
        if self._sem:
            self._sem.release()

    async def __aenter__(self) -> "Limiter":
        await self.acquire()
        return self

    async def __aexit__(self, *exc) -> None:
        self.release()


class Pacer:
    """One limiter per provider (its shared budgets and concurrency) and one per model that has
    budgets of its own; `slot(model, tokens)` holds both."""

    def __init__(self, profile, max_wait: float = 90.0) -> None:
        self._providers = {p.name: Limiter(p.limits, p.concurrency, max_wait=max_wait) for p in profile.used_providers()}
        self._models = {(m.provider, m.name): Limiter(m.limits, max_wait=max_wait)
                        for m in profile.models() if m.limits.any()}

    @contextlib.asynccontextmanager
    async def slot(self, model, tokens: int):
        own = self._models.get((model.provider, model.name))
        if own:
            await own.acquire(tokens)
        shared = self._providers[model.provider]
        await shared.acquire(tokens)
        try:
            yield
        finally:
            shared.release()

    async def charge(self, model, tokens: int) -> None:
        """One more request inside a slot already held (a web search loop's next round): it
        counts against the budgets, and takes no second concurrency slot."""
        own = self._models.get((model.provider, model.name))
        if own:
            await own.charge(tokens)
        await self._providers[model.provider].charge(tokens)
