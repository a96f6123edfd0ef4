"""The requests a gateway is answering, and how it ends them when it stops: they get the grace
to finish; those still running then are cancelled and marked, so that each answers with an
error (server.py: a 503, or an `event: error` where its stream had begun) instead of going
silent, and its row says so."""

import asyncio


class InFlight:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()
        self._ending: set[asyncio.Task] = set()

    def add(self, task: asyncio.Task) -> None:
        self._tasks.add(task)

    def discard(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)

    def cut_off(self) -> bool:
        """True when the request running now was cancelled by end(), not by its client."""
        return asyncio.current_task() in self._ending

    async def end(self, grace: float, ending: float) -> int:
        """Waits up to `grace` seconds for the requests in flight, new ones included; cancels
        those left and gives them `ending` seconds to answer. Returns how many were cut off."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._tasks and loop.time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=deadline - loop.time())
        late = set(self._tasks)
        if late:
            self._ending |= late
            for task in late:
                task.cancel()
            await asyncio.wait(late, timeout=ending)
        return len(late)
