"""Claude Code's statusLine: the setting `run` gives it, and `freeclaude statusline`, the command
it then runs with the session's JSON on stdin (session_id, model.id, workspace, cost... as
Claude Code 2.1.330 sends them). The command shows what the gateway did for that session: the
model that answered its main loop last, tokens, cost against Anthropic's list price, and any
fallback or cooldown. It must be quick and must never break Claude Code's display: any failure
prints nothing, and it exits 0."""

from __future__ import annotations

import json
import os
import sys

from freeclaude.claude.sessions import DIR_ENV, read
from freeclaude.profiles.tiers import tier_of
from freeclaude.usage.pricing import usd

TYPE_CHECKING = False  # typing is slow to import, and the statusline has little time: for the type checker only
if TYPE_CHECKING:
    from typing import Any

# Claude Code re-runs the command on each change of its own; this adds a run every few seconds,
# so a cooldown counts down and an answer that ended just after a run still shows.
REFRESH_SECONDS = 5
# How a budget that holds a request back reads on the line (limits.py's names).
LIMITS = {"rpm": "requests/min", "rpd": "requests/day", "tpm": "tokens/min", "tph": "tokens/h", "tpd": "tokens/day"}


def main() -> None:
    try:
        info = json.load(sys.stdin)
        line = render(read(sessions_dir(), info["session_id"]), (info.get("model") or {}).get("id") or "")
        if line:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    except BaseException:
        _silence()


def sessions_dir() -> str:
    directory = os.environ.get(DIR_ENV)
    if directory:
        return directory
    from freeclaude.service import home

    return str(home.sessions_dir())


def render(state: dict | None, model_id: str, now: float | None = None) -> str:
    """The line for a session's state, given the model Claude Code's main loop now uses."""
    if not state:
        return ""
    import time

    now = time.time() if now is None else now
    parts = []
    route = _route(state.get("routes") or {}, model_id)
    if route:
        model = route["model"] if route["outcome"] == "ok" else f"{route['model']} failed ({route['outcome']})"
        parts.append(model + (f" (fallback #{route['position']})" if route["position"] else ""))
    parts.append(f"{_tokens(state['input_tokens'])} in / {_tokens(state['output_tokens'])} out")
    parts.append(f"{usd(state['cost_usd'])} (Anthropic {usd(state['list_price_usd'])})")
    cooling = sorted((until - now, ref) for ref, until in (state.get("cooling") or {}).items() if until > now)
    if cooling:
        parts.append("cooling: " + ", ".join(f"{ref} {max(1, round(left))}s" for left, ref in cooling))
    waiting = sorted((w["until"] - now, ref, w["limit"]) for ref, w in (state.get("waiting") or {}).items()
                     if w["until"] > now)
    if waiting:
        parts.append("waiting: " + ", ".join(f"{ref} {LIMITS.get(limit, limit)} {max(1, round(left))}s"
                                             for left, ref, limit in waiting))
    return " · ".join(parts)


def _route(routes: dict[str, dict[str, Any]], model_id: str) -> dict[str, Any] | None:
    """The route of the main loop's model: the model name as it asked for it (Claude Code shows
    some ids with a window suffix such as [1m]), else the latest of the same tier."""
    name = model_id.split("[", 1)[0]
    if name in routes:
        return routes[name]
    tier = tier_of(name)
    same = [r for r in routes.values() if r.get("tier") == tier]
    if not same or tier == "default":
        return None
    latest: dict[str, Any] = max(same, key=lambda r: r.get("at", 0))
    return latest


def _tokens(n: int) -> str:
    if n < 1000:
        return str(n)
    return f"{n / 1000:.1f}k" if n < 1_000_000 else f"{n / 1_000_000:.2f}M"


def _silence() -> None:
    """Nothing more may reach Claude Code, not even Python's complaint about a closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.dup2(devnull, sys.stderr.fileno())
    except (OSError, ValueError):
        pass


def command(executable: str = sys.executable, platform: str = sys.platform) -> str:
    """The shell command Claude Code runs: this Python's freeclaude, whatever PATH holds."""
    if platform == "win32":
        return f'"{executable}" -m freeclaude statusline'
    import shlex

    return f"{shlex.quote(executable)} -m freeclaude statusline"
