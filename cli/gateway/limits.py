"""Client-side budgets per provider and per model: requests wait their turn instead of tripping a
429, and a budget that cannot free up soon enough is refused at once with the limit named.

A budget's numbers start as the profile's and give way to what the provider says of them: the
rate-limit headers of every answer (ratelimit_headers.py) give each budget's real value, what
remains of it and when it is back to full, in both directions (a paid plan's bigger limits, a
smaller real one). Until a provider has said, the profile's tokens-per-minute may be wrong: a
request it would refuse may go once, a probe, and the answer (a 413 naming the limit, or headers)
teaches the real one.
"""

import asyncio
import bisect
import contextlib
import dataclasses
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from freeclaude.gateway.ratelimits import UNKNOWN_WINDOW, Reading
from freeclaude.gateway.upstream import Receipt
from freeclaude.profiles.providers import Limits, Model
from freeclaude.profiles.schema import Profile

# The window each limit counts over, and how it reads in a message.
WINDOWS = {"rpm": (60, "requests per minute"), "rpd": (86400, "requests per day"),
           "tpm": (60, "tokens per minute"), "tph": (3600, "tokens per hour"), "tpd": (86400, "tokens per day")}
_DAY = 86400  # no budget looks further back than this
Held = Callable[[str, float], None]  # told (limit, seconds) before a request waits for a budget
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Exhausted(Exception):
    """A budget frees up only after `wait` seconds, longer than a request may wait."""

    def __init__(self, limit: str, value: int | None, wait: float) -> None:
        self.limit, self.value, self.wait = limit, value, wait
        if limit in WINDOWS:
            what = f"its {value:,} {WINDOWS[limit][1]} limit" if value else f"its {WINDOWS[limit][1]} limit"
        else:
            what = "its request limit"
        super().__init__(f"{what} is used up for the next {_span(wait)}" if math.isfinite(wait)
                         else f"{what} is smaller than this one request")


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


class Entry:
    """One request counted against a limiter: when, and its tokens (settled after the answer)."""

    __slots__ = ("t", "tokens")

    def __init__(self, t: float, tokens: int) -> None:
        self.t, self.tokens = t, tokens


@dataclass(frozen=True)
class Seen:
    """What the provider last said of one budget."""

    limit: int | None
    remaining: int | None
    sent: float  # when the request that brought it was counted: later ones are not in `remaining`
    at: float  # when it was read
    until: float  # when the budget is back to full, per the provider's reset


class Limiter:
    """Budgets over sliding windows (requests and tokens per minute, hour, day) and a concurrency
    cap. `refill`: how a provider gives back what was used. "window": it frees a window after
    use, and all of it by the reset its headers name. "continuous": a token bucket refilling
    evenly over the window (Cerebras: "capacity replenishes continuously"), whose reset headers
    count to the next minute or day on the clock, not to a full bucket."""

    def __init__(self, limits: Limits | None = None, concurrency: int | None = None, *, refill: str = "window",
                 clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep, max_wait: float = 90.0) -> None:
        self.limits = limits or Limits()
        self.refill = refill
        self.seen: dict[str, Seen] = {}
        self._clock = clock
        self._sleep = sleep
        self.max_wait = max_wait
        self._log: list[Entry] = []  # in time order
        self._sem = asyncio.Semaphore(concurrency) if concurrency else None
        self._lock = asyncio.Lock()  # one waiter at a time takes the next slot, in order

    def value(self, name: str) -> int | None:
        """The limit as the provider stated it, else as the profile declares it."""
        seen = self.seen.get(name)
        if seen and seen.limit:
            return seen.limit
        return getattr(self.limits, name, None) if name in WINDOWS else None

    def learned(self, name: str) -> bool:
        seen = self.seen.get(name)
        return bool(seen and seen.limit)

    def _names(self) -> list[str]:
        return [n for n in (*WINDOWS, UNKNOWN_WINDOW) if n in self.seen or self.value(n)]

    def wait(self, tokens: int, now: float, probe: bool = False) -> tuple[float, str | None]:
        """Seconds until a request of `tokens` fits every budget (inf: never), and the limit that
        binds. `probe`: the profile's tokens per minute, never confirmed by the provider, is not
        held against it."""
        longest, binding = 0.0, None
        for name in self._names():
            if probe and name == "tpm" and not self.learned(name):
                continue
            cost = tokens if name[0] == "t" else 1
            seconds = self._free_in(name, cost, now)
            if seconds > longest:
                longest, binding = seconds, name
        return longest, binding

    def _free_in(self, name: str, cost: int, now: float) -> float:
        limit = self.value(name)
        if limit is not None and cost > limit:
            return math.inf
        window = WINDOWS[name][0] if name in WINDOWS else None
        seen = self.seen.get(name)
        known = seen if seen is not None and seen.remaining is not None else None  # the provider counted what remained
        entries = [e for e in self._log if e.t > known.sent] if known else self._log
        tokens = name[0] == "t"
        if self.refill == "continuous" and limit and window:
            return self._refill_in(entries, tokens, cost, limit, window, known, now)
        if not known and limit is None:
            return 0.0
        times = [e.t for e in entries]
        counted = [0]  # prefix sums of what the entries count
        for e in entries:
            counted.append(counted[-1] + (e.tokens if tokens else 1))

        def room(at: float) -> float:
            if known and known.remaining is not None and at < known.until:
                base: float = known.remaining
            else:
                base = limit if limit is not None else math.inf
            first = bisect.bisect_right(times, at - window) if window else 0
            return base - (counted[-1] - counted[first])

        moments = [now]
        if known and known.until > now:
            moments.append(known.until)
        if window:
            moments += [t + window for t in times if t + window > now]
        for at in sorted(moments):
            if room(at) >= cost:
                return at - now
        return math.inf

    @staticmethod
    def _refill_in(entries: list[Entry], tokens: bool, cost: int, limit: int, window: float, seen: Seen | None,
                   now: float) -> float:
        """`seen`: what the provider last counted as remaining, if it did."""
        rate = limit / window
        if seen and seen.remaining is not None:
            level, last = float(seen.remaining), seen.at
        else:
            level, last = float(limit), entries[0].t if entries else now
        for e in entries:
            t = max(e.t, last)
            level = min(limit, level + (t - last) * rate) - (e.tokens if tokens else 1)
            last = t
        level = min(limit, level + (now - last) * rate)
        return 0.0 if level >= cost else (cost - level) / rate

    async def acquire(self, tokens: int = 0, *, probe: bool = False, held: Held | None = None) -> Entry | None:
        entry = await self.charge(tokens, probe=probe, held=held)
        if self._sem:
            await self._sem.acquire()
        return entry

    async def charge(self, tokens: int = 0, *, probe: bool = False, held: Held | None = None) -> Entry | None:
        """Counts a request against the budgets, waiting until they allow it (no concurrency slot)."""
        if not self._names():
            return None
        async with self._lock:
            while True:
                now = self._clock()
                old = next((i for i, e in enumerate(self._log) if now - e.t < _DAY), len(self._log))
                del self._log[:old]
                seconds, binding = self.wait(tokens, now, probe)
                if binding is None:
                    entry = Entry(now, tokens)
                    self._log.append(entry)
                    return entry
                if seconds > self.max_wait:
                    raise Exhausted(binding, self.value(binding), seconds)
                if held:
                    held(binding, seconds)
                await self._sleep(seconds)

    def release(self) -> None:
        if self._sem:
            self._sem.release()

    def observe(self, readings: dict[str, Reading], sent: float, now: float | None = None) -> None:
        """What an answer's headers said; `sent` is when its request was counted."""
        now = self._clock() if now is None else now
        for name, r in readings.items():
            if name not in WINDOWS and name != UNKNOWN_WINDOW:
                continue
            old = self.seen.get(name)
            if old and old.sent > sent:
                continue  # a slower answer to an older request: the newer one says more
            window = WINDOWS[name][0] if name in WINDOWS else 60
            until = now + (r.reset if r.reset is not None else window)
            self.seen[name] = Seen(r.limit or (old.limit if old else None), r.remaining, sent, now, until)

    def confirm(self, name: str, value: int) -> None:
        """A request of `value` went through where the provider states nothing: the limit holds
        at least that much."""
        if not self.learned(name):
            now = self._clock()
            self.seen[name] = Seen(max(value, self.value(name) or 0), None, now, now, now)

    async def __aenter__(self) -> "Limiter":
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


@dataclass
class Ticket:
    """A request's place in its limiters, for what its answer says afterwards."""

    model: Model
    entries: list[Entry]
    sent: float
    probe: bool = False


class Pacer:
    """One limiter per provider (its shared budgets and concurrency) and one per model;
    `slot(model, tokens)` holds both. A provider's headers describe the budgets the profile
    declares for it: the provider's own when it declares limits of its own (a budget its models
    share, as OpenRouter's free models do), else each model's."""

    def __init__(self, profile: Profile, max_wait: float = 90.0, *, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock

        def limiter(limits: Limits, refill: str, concurrency: int | None = None) -> Limiter:
            return Limiter(limits, concurrency, refill=refill, clock=clock, sleep=sleep, max_wait=max_wait)

        providers = profile.used_providers()
        self._providers = {p.name: limiter(p.limits, p.quirks.limits_refill, p.concurrency) for p in providers}
        self._models = {m.ref: limiter(m.limits, m.quirks.limits_refill) for m in profile.models()}
        self._shared = {p.name for p in providers if p.limits.any()}

    def _pair(self, model: Model) -> tuple[Limiter, Limiter]:
        return self._models[model.ref], self._providers[model.provider]

    def scope(self, model: Model) -> Limiter:
        """The limiter the provider's headers speak of for this model."""
        own, shared = self._pair(model)
        return shared if model.provider in self._shared else own

    def tpm(self, model: Model) -> tuple[int | None, bool]:
        """The largest request (prompt + max_tokens) the tokens-per-minute budgets allow, and
        whether the provider has confirmed it."""
        found = [(v, lim.learned("tpm")) for lim in self._pair(model) if (v := lim.value("tpm"))]
        if not found:
            return None, False
        return min(v for v, _ in found), all(learned for _, learned in found)

    def wait(self, model: Model, tokens: int, probe: bool = False) -> float:
        """Seconds before a request of `tokens` could go to this model."""
        now = self._clock()
        return max(lim.wait(tokens, now, probe)[0] for lim in self._pair(model))

    @contextlib.asynccontextmanager
    async def slot(self, model: Model, tokens: int, *, probe: bool = False,
                   held: Held | None = None) -> AsyncIterator[Ticket]:
        own, shared = self._pair(model)
        entries = [await own.charge(tokens, probe=probe, held=held)]
        entries.append(await shared.acquire(tokens, probe=probe, held=held))
        try:
            yield Ticket(model, [e for e in entries if e], self._clock(), probe)
        finally:
            shared.release()

    async def charge(self, model: Model, tokens: int, probe: bool = False) -> None:
        """One more request inside a slot already held (a web search loop's next round, a bounded
        answer asked again): it counts against the budgets, and takes no second concurrency slot."""
        for lim in self._pair(model):
            await lim.charge(tokens, probe=probe)

    def answered(self, ticket: Ticket, outcome: Receipt, ok: bool) -> None:
        """What the answer to a ticket's request said (an upstream Receipt): its headers, whether
        it went through, and the tokens the provider does not count after all (cached ones, where
        quirk counts_cached is off: Groq)."""
        model, readings = ticket.model, outcome.ratelimits
        # An attempt of several requests bills their sum: which of them was cached is unknown.
        uncounted = 0 if model.quirks.counts_cached or outcome.requests > 1 else outcome.usage.cache_read
        if uncounted:
            for e in ticket.entries:
                e.tokens = max(0, e.tokens - uncounted)
        scope = self.scope(model)
        if readings:
            scope.observe(readings, ticket.sent)
        seen = scope.seen.get("tpm")
        if uncounted and seen and seen.sent == ticket.sent and seen.remaining is not None:
            # Its headers were written when it was admitted, cached tokens counted: given back since.
            remaining = seen.remaining + uncounted
            scope.seen["tpm"] = dataclasses.replace(seen, remaining=min(remaining, seen.limit or remaining))
        if ok and ticket.probe and "tpm" not in (readings or {}):
            scope.confirm("tpm", max(e.tokens for e in ticket.entries) if ticket.entries else 0)

    def stated(self, model: Model) -> dict[str, dict[str, float | None]]:
        """What the provider has said of the budgets this model draws on: each limit's value in
        the profile and as stated, what remained and the seconds until it was full again."""
        now, lim = self._clock(), self.scope(model)
        return {name: {"profile": getattr(lim.limits, name, None) if name in WINDOWS else None, "stated": seen.limit,
                       "remaining": seen.remaining, "reset_s": round(max(0.0, seen.until - now), 2)}
                for name, seen in lim.seen.items()}
