"""One attempt whose answer was asked for bounded (router.bound): a provider that counts the
max_tokens asked for against its tokens per minute before the model runs (Groq, Cerebras) gets a
first ask that reserves only a share of the minute, so one turn does not hold the next for a
minute.

An answer the bound cut off (stop reason max_tokens) is asked for again with four times the room,
up to what the client asked for, and only a whole answer reaches the client. So the answer is
held until it ends: Claude Code must never take a cut answer for the model's own (it would ask
the model to resume, or drop a cut tool call and ask for it in smaller pieces). Holding costs
little where this applies: those providers write hundreds of tokens a second. It has the
Upstream interface, like searchloop's loop: a failure before its one piece can still fall back.
"""

import contextlib
import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from freeclaude.gateway.upstream import Call, Piece, Receipt, Usage
from freeclaude.translate import sse

GROWTH = 4  # each new ask has this many times the room of the one cut off


class Bounded:
    def __init__(self, first: Call, *, ceiling: int, reopen: Callable[[int], Awaitable[Call]]) -> None:
        """`first` asks for its bounded max_tokens; `reopen(max_tokens)` opens the same request
        with more, once the provider's budgets allow it; `ceiling` is the most it may ask for."""
        self.up = first
        self.ceiling = ceiling
        self.reopen = reopen
        self.where = first.where
        self.receipt = Receipt(Usage(input=first.estimate))

    async def stream(self) -> AsyncGenerator[Piece, None]:
        while True:
            pieces: list[bytes] = []
            last = False
            try:
                async with contextlib.aclosing(self.up.stream()) as chunks:
                    async for piece in chunks:
                        pieces.append(piece.data)
                        last = piece.last
            finally:
                self._settle()
            if not self._cut(_stop_reason(pieces)):
                break
            await self._again()
        self.receipt.first_byte = time.monotonic()
        yield Piece(b"".join(pieces), last)

    async def complete(self) -> dict[str, Any]:
        while True:
            try:
                message = await self.up.complete()
            finally:
                self._settle()
            if not self._cut(message.get("stop_reason")):
                self.receipt.first_byte = time.monotonic()
                return message
            await self._again()

    def _cut(self, stop_reason: object) -> bool:
        return stop_reason == "max_tokens" and self.up.max_tokens < self.ceiling and not self.up.receipt.error

    async def _again(self) -> None:
        more = min(self.ceiling, self.up.max_tokens * GROWTH)
        self.receipt.notes.append(f"the answer reached max_tokens {self.up.max_tokens:,}: asked again with {more:,}")
        self.up = await self.reopen(more)
        self.receipt.requests += 1

    def _settle(self) -> None:
        """What the last answer adds to this attempt's bill and what it said of the budgets."""
        last, mine = self.up.receipt, self.receipt
        mine.usage = last.usage if mine.requests == 1 else _sum(mine.usage, last.usage)
        mine.notes.extend(last.notes)
        mine.ratelimits, mine.error = last.ratelimits, last.error


def _sum(a: Usage, b: Usage) -> Usage:
    return Usage(a.input + b.input, a.output + b.output, a.cache_read + b.cache_read, a.cache_write + b.cache_write,
                 a.estimated or b.estimated)


def _stop_reason(pieces: list[bytes]) -> str | None:
    """The stop reason in a held answer's message_delta events (translated or passed through)."""
    reason = None
    for event, data in sse.Decoder().feed(b"".join(pieces)):
        if event == "message_delta":
            try:
                reason = (json.loads(data).get("delta") or {}).get("stop_reason") or reason
            except (ValueError, AttributeError):
                pass
    return reason
