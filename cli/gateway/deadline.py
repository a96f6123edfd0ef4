"""How long an upstream may keep an attempt waiting: for its first event (the provider's
`timeout`: queueing and the prompt's prefill) and then between events (`idle_timeout`). SSE
comment lines (": keepalive", ": OPENROUTER PROCESSING") do not count: they say the connection
lives, not that the model answers, and an upstream sending them every 2 s once held a client
30 s without a byte against a timeout of 5 (a socket read timeout restarts on any byte).

One timer per attempt, moved at the first event and then only when it fires, so an event
costs a clock read: when it expires it cancels the task reading the upstream, and the attempt
turns that into a timeout."""

import asyncio

from freeclaude.gateway.eventloop import current_task


class Deadline:
    __slots__ = ("first", "idle", "start", "last", "waiting", "expired", "_task", "_handle", "_loop")

    def __init__(self, first: float, idle: float) -> None:
        self.first = first
        self.idle = idle
        self.last: float | None = None  # when the upstream last sent an event
        self.waiting = True  # False while the client, not the upstream, holds the stream up
        self.expired = False
        self._task = current_task()
        self._loop = asyncio.get_running_loop()
        self.start = self._loop.time()
        self._handle = self._loop.call_at(self.start + first, self._check)

    def event(self) -> None:
        """The upstream sent an event (a data line, not a comment)."""
        now = self._loop.time()
        if self.last is None:  # the first: from now on the deadline is the idle one
            self._handle.cancel()
            self._handle = self._loop.call_at(now + self.idle, self._check)
        self.last = now

    def pause(self) -> None:
        """What came is being handed on: the wait is the client's until resume()."""
        self.waiting = False

    def resume(self) -> None:
        self.waiting = True
        if self.last is not None:  # the upstream's silence counts from now
            self.last = self._loop.time()

    def cancel(self) -> None:
        self._handle.cancel()

    def caused(self, task: asyncio.Task) -> bool:
        """True when this deadline cancelled `task` and nothing else did: its CancelledError is
        a timeout (the cancellation is taken back)."""
        return self.expired and task.uncancel() == 0

    def _check(self) -> None:
        now = self._loop.time()
        if not self.waiting:
            due = now + self.idle
        elif self.last is None:
            due = self.start + self.first
        else:
            due = self.last + self.idle
        if due > now:
            self._handle = self._loop.call_at(due, self._check)
            return
        self.expired = True
        self._task.cancel()
