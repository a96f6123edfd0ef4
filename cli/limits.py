"""Client-side limits per provider: requests wait their turn instead of tripping a 429."""

import asyncio
import collections
import time


class Limiter:
    """At most `rpm` requests started in any 60 s, at most `concurrency` in flight."""

    def __init__(self, rpm: int | None = None, concurrency: int | None = None,
                 clock=time.monotonic, sleep=asyncio.sleep) -> None:
        self.rpm = rpm
        self._clock = clock
        self._sleep = sleep
        self._started: collections.deque[float] = collections.deque()
        self._sem = asyncio.Semaphore(concurrency) if concurrency else None
        self._lock = asyncio.Lock()  # one waiter at a time takes the next rpm slot, in order

    async def __aenter__(self) -> "Limiter":
        if self.rpm:
            async with self._lock:
                while True:
                    now = self._clock()
                    while self._started and now - self._started[0] >= 60:
                        self._started.popleft()
                    if len(self._started) < self.rpm:
                        self._started.append(now)
                        break
                    await self._sleep(60 - (now - self._started[0]))
        if self._sem:
            await self._sem.acquire()
        return self

    async def __aexit__(self, *exc) -> None:
        if self._sem:
            self._sem.release()
