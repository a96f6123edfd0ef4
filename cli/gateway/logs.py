"""What the gateway's log handlers let through: keys redacted (redact.py), and a line repeated
word for word held to a few a minute, so a flood of bad requests cannot fill the disk (1,000
requests without a token once added 712 KB to the log in 0.4 s)."""

import logging
import time
from collections.abc import Callable

from freeclaude.gateway.redact import Redactor

BURST = 5  # identical lines let through per window
WINDOW_S = 60.0
MAX_TRACKED = 512  # distinct lines remembered; the oldest windows are forgotten first
# The verdict rides on the record, for the next handler's Filter (a LogRecord takes any attribute).
_ADMITTED = "_freeclaude_admitted"
LOGGERS = ("", "freeclaude", "aiohttp", "asyncio")  # the root, and those `run` gives a file of their own


class Filter(logging.Filter):
    def __init__(self, redact: Redactor, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.redact = redact
        self.clock = clock
        self._seen: dict[tuple[str, int, str], list[float]] = {}  # (logger, level, line) -> [window start, count]

    def filter(self, record: logging.LogRecord) -> bool:
        verdict = getattr(record, _ADMITTED, None)
        if isinstance(verdict, bool):  # seen already, on its way to another handler
            return verdict
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if self.redact:
            message = self.redact.text(message)
            if record.exc_text:
                record.exc_text = self.redact.text(record.exc_text)
        record.msg, record.args = message, None
        admitted = self._admit(record, message)
        setattr(record, _ADMITTED, admitted)
        return admitted

    def _admit(self, record: logging.LogRecord, message: str) -> bool:
        now = self.clock()
        key = (record.name, record.levelno, message)
        seen = self._seen.get(key)
        if seen is None or now - seen[0] >= WINDOW_S:
            held = seen[1] - BURST if seen and seen[1] > BURST else 0
            if len(self._seen) >= MAX_TRACKED:
                self._forget(now)
            self._seen[key] = [now, 1]
            if held:
                record.msg = f"{message} (and {held} more like it in the {WINDOW_S:.0f} s before, not logged)"
            return True
        seen[1] += 1
        return seen[1] <= BURST

    def _forget(self, now: float) -> None:
        self._seen = {k: v for k, v in self._seen.items() if now - v[0] < WINDOW_S}
        while len(self._seen) >= MAX_TRACKED:
            del self._seen[next(iter(self._seen))]


def guard(redact: Redactor) -> Callable[[], None]:
    """Puts a Filter on every handler the gateway's records can reach; returns what takes it off."""
    f = Filter(redact)
    handlers = {h for name in LOGGERS for h in logging.getLogger(name).handlers}
    for h in handlers:
        h.addFilter(f)

    def remove() -> None:
        for h in handlers:
            h.removeFilter(f)

    return remove
