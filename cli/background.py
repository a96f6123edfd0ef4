"""Claude Code's background sessions and the gateway of `run`.

Claude Code 2.1.330 runs background sessions (`claude --bg`, a session moved aside with ←, the
agent view, work handed over when a session exits) under a daemon it starts on demand: detached
(its own session, outliving whoever started it), with the environment of whoever started it,
ANTHROPIC_BASE_URL and the token included, and kept until its last background session ends
(idle ones after about an hour). One started from inside `run` therefore points at run's
gateway. Its ~/.claude/daemon.lock names it and who started it, so `run` can tell, once Claude
Code has exited, whether such a daemon lives on, and keep the gateway up until it is gone.
A daemon started elsewhere, with another gateway, refuses our sessions itself ("No LLM gateway:
session stopped"), so it needs nothing from us."""

import json
import os
import sys
from pathlib import Path

LOCK = "daemon.lock"


def daemon(claude_dir: Path, child_pid: int, since: float, until: float, cwd: str) -> int | None:
    """The pid of a live daemon that our Claude Code started: by its pid, or, for a daemon a
    wrapper of it started (claude.cmd, a `claude --bg` it ran), by the time and folder it was
    started from. None when there is none, or the lock cannot be read."""
    try:
        lock = json.loads((claude_dir / LOCK).read_text(encoding="utf-8"))
        pid, spawner = lock["pid"], lock.get("spawnedBy") or {}
        started = lock.get("startedAt", 0) / 1000
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    ours = spawner.get("pid") == child_pid or (since <= started <= until and spawner.get("cwd") == cwd)
    return pid if ours and isinstance(pid, int) and alive(pid) else None


def alive(pid: int, platform: str = sys.platform) -> bool:
    if platform == "win32":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process under a reused pid: ours has ended
    return True


def _alive_windows(pid: int) -> bool:
    """os.kill would end the process on Windows: ask for its exit code instead."""
    try:
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    except (AttributeError, OSError):
        return False  # no way to tell: the gateway is not held for it
