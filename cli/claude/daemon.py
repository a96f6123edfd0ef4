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
from pathlib import Path

from freeclaude.service import processes

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
    return pid if ours and isinstance(pid, int) and processes.alive(pid) is True else None
