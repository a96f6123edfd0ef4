"""The one place that redacts: every key the profile names is replaced wherever the gateway's
text leaves it, in the bytes its clients get (server.py), the log lines it writes (logs.py)
and the rows of the ledger and the statusline (writer.py). Upstreams quote keys back in
errors ("Incorrect API key provided: sk-…"), in- or out-of-band, so redacting where the text
comes in would have to know every way in; redacting where it goes out needs only the exits."""

import dataclasses
from collections.abc import Iterable

from freeclaude.usage.ledger import Row

MARK = "[key redacted]"
# Shorter values are placeholders ("none", "EMPTY", "ollama"), not secrets: replacing them
# would mangle answers and protect nothing.
MIN_LENGTH = 8


class Redactor:
    __slots__ = ("keys", "_raw")

    def __init__(self, keys: Iterable[str | None]) -> None:
        # Longest first, so a key holding another is replaced whole.
        self.keys = tuple(sorted({k for k in keys if k and len(k) >= MIN_LENGTH}, key=len, reverse=True))
        self._raw = tuple((k.encode(), MARK.encode()) for k in self.keys)

    def __bool__(self) -> bool:
        return bool(self.keys)

    def text(self, s: str) -> str:
        for key in self.keys:
            if key in s:
                s = s.replace(key, MARK)
        return s

    def bytes(self, b: bytes) -> bytes:
        for key, mark in self._raw:
            if key in b:
                b = b.replace(key, mark)
        return b

    def row(self, row: Row) -> None:
        """Every text field of a dataclass (a ledger row), in place."""
        for f in dataclasses.fields(row):
            value = getattr(row, f.name)
            if isinstance(value, str):
                setattr(row, f.name, self.text(value))
