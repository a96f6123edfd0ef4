"""What the statusline shows, per Claude Code session: the gateway's writer thread keeps one small
JSON file per session (replaced whole, so a reader never sees half of one) and `freeclaude
statusline` reads it. Light imports only: the reader has a few tens of milliseconds to answer."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

# The statusline imports this module on every call: typing and the ledger, slow to import, are
# for the type checker only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from freeclaude.usage.ledger import Row

# Where the files are, for the statusline Claude Code runs: gateway_env() sets it, so the reader
# need not load platformdirs to find the data dir (it falls back to that when unset).
DIR_ENV = "FREECLAUDE_SESSIONS_DIR"
KEEP_SECONDS = 7 * 24 * 3600  # a session file untouched this long is removed
MAX_HELD = 256  # sessions a long-running gateway keeps in memory; the oldest go first
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def client_session(headers: Mapping[str, str], body: dict[str, Any]) -> str | None:
    """Claude Code's own session id in a request: its X-Claude-Code-Session-Id header (2.1.330),
    else the session_id in the JSON string it sends as metadata.user_id (2.1.328 too)."""
    sid = headers.get("X-Claude-Code-Session-Id")
    if sid:
        return sid[:100]
    user = (body.get("metadata") or {}).get("user_id") if isinstance(body.get("metadata"), dict) else None
    if isinstance(user, str) and user.startswith("{"):
        try:
            found = json.loads(user).get("session_id")
        except (ValueError, AttributeError):
            return None
        return found[:100] if isinstance(found, str) and found else None
    return None


def session_file(directory: str, session_id: str) -> str | None:
    """The file of a session, or None for an id that cannot be a file name (never a path)."""
    if not session_id or len(session_id) > 100 or not _SAFE.issuperset(session_id):
        return None
    return os.path.join(directory, session_id + ".json")


def read(directory: str, session_id: str) -> dict | None:
    path = session_file(directory, session_id)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


class Board:
    """The gateway's side: what each session was last answered with and what it has cost so far.
    Called from the writer thread only, so it needs no lock of its own."""

    def __init__(self, directory: str, clock: Callable[[], float] = time.time) -> None:
        self.dir = directory
        self.clock = clock
        self._held: dict[str, dict[str, Any]] = {}

    def record(self, row: Row, cooling: dict[str, float]) -> None:
        """One finished attempt (a ledger row) and the models cooling down as it ended
        ("provider:model" -> seconds left)."""
        session = row.client_session
        state = self._state(session)
        if session is None or state is None:
            return
        now = self.clock()
        state["profile"] = row.profile
        state["updated"] = now
        state["requests"] += row.attempt == 0  # a request's first attempt: fallbacks are the same request
        state["input_tokens"] += row.input_tokens
        state["output_tokens"] += row.output_tokens
        state["cost_usd"] += row.cost_usd
        state["list_price_usd"] += row.list_price_usd
        state["routes"][row.requested_model] = {
            "tier": row.tier, "model": f"{row.provider}:{row.upstream_model}", "position": row.position,
            "outcome": row.outcome, "at": now}
        state["cooling"] = {ref: now + left for ref, left in cooling.items()}
        (state.get("waiting") or {}).pop(f"{row.provider}:{row.upstream_model}", None)  # it waits no more
        self._write(session, state)

    def hold(self, session: str, model: str, limit: str, seconds: float) -> None:
        """A request of the session waits `seconds` for the model's `limit` budget ("tpm"...)."""
        state = self._state(session)
        if state is not None:
            state.setdefault("waiting", {})[model] = {"limit": limit, "until": self.clock() + seconds}
            self._write(session, state)

    def _state(self, session: str | None) -> dict[str, Any] | None:
        if not session or session_file(self.dir, session) is None:
            return None
        return self._held.get(session) or read(self.dir, session) or {
            "requests": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "list_price_usd": 0.0, "routes": {}}

    def _write(self, session: str, state: dict) -> None:
        self._hold(session, state)
        from freeclaude.service.files import write_atomic  # the gateway's side only: the reader never loads it

        path = session_file(self.dir, session)
        if path is not None:
            write_atomic(Path(path), json.dumps(state, separators=(",", ":")).encode(), sync=False)

    def prune(self) -> None:
        """Removes the files of sessions nobody has touched for a week."""
        try:
            entries = list(os.scandir(self.dir))
        except OSError:
            return
        cutoff = self.clock() - KEEP_SECONDS
        for entry in entries:
            try:
                if entry.name.endswith(".json") and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                pass  # gone already, or not ours to remove

    def _hold(self, session: str, state: dict) -> None:
        self._held.pop(session, None)
        self._held[session] = state
        if len(self._held) > MAX_HELD:
            del self._held[next(iter(self._held))]
