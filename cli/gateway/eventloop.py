"""The gateway's event loop: uvloop where it is installed (Linux and macOS), asyncio's own
elsewhere or when FREECLAUDE_LOOP=asyncio asks for it.

uvloop, because the transport work per chunk (a read, a write, a wake-up) outweighs the
translation when many streams run at once (benchmarks/overhead.py; README, Figures)."""

import asyncio
import os
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

ENV = "FREECLAUDE_LOOP"
T = TypeVar("T")


def factory(env: Mapping[str, str] | None = None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop, or None for asyncio's default."""
    if (os.environ if env is None else env).get(ENV, "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # Windows, PyPy, or an install without it
        return None
    return uvloop.new_event_loop


def current_task() -> asyncio.Task[Any]:
    """The task running the caller. The gateway's coroutines all run in one (aiohttp's request
    handlers, the server's own), never as a bare callback, where asyncio's would be None."""
    task = asyncio.current_task()
    assert task is not None, "called outside a task"
    return task


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on the loop `factory` picks."""
    with asyncio.Runner(loop_factory=factory()) as runner:
        return runner.run(main)
