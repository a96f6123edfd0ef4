"""The gateway in the background (`freeclaude start`): one per user, on a fixed port, with a
token that stays the same across restarts, so that settings files written once (`freeclaude ide
install`) keep working.

Its files, in the data dir: `gateway.token` (0600, created once), `gateway.json` (written by the
gateway itself once it listens, removed when it stops) and `logs/gateway.log` (its stdout and
stderr). A gateway counts as running only when it answers at the recorded address as the
user's own (listeners.py): a pid alone proves nothing after a crash, since pids are reused, and
on a shared machine another user can take the port while the gateway is down.
"""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from freeclaude.errors import FreeclaudeError
from freeclaude.gateway.config import GRACE_S, new_token
from freeclaude.service import home, listeners, processes
from freeclaude.service.files import create_private, private_file, write_atomic

START_TIMEOUT = 30.0
STOP_TIMEOUT = GRACE_S + 5.0  # it stops within its grace and a second; SIGKILL only for a gateway that hangs
SLOW_ANSWER = 10.0
LOG_ROTATE_BYTES = 10 * 1024 * 1024
# Windows process creation flags (winbase.h): no console, and Ctrl-C in the starting console
# does not reach it.
DETACHED_PROCESS = 0x00000008
CREATE_NEW_PROCESS_GROUP = 0x00000200


@dataclasses.dataclass
class State:
    pid: int
    base_url: str
    profile: str
    started: float
    session: str  # the gateway's own session in the ledger

    @property
    def port(self) -> int:
        return urlsplit(self.base_url).port or 0


def token_file() -> Path:
    return home.data_dir() / "gateway.token"


def state_file() -> Path:
    return home.data_dir() / "gateway.json"


def log_file() -> Path:
    return home.data_dir() / "logs" / "gateway.log"


def token() -> str:
    """The background gateway's token: made on first use, then the same for good."""
    create_private(token_file(), new_token().encode())
    found = made_token()
    if found is None:
        raise FreeclaudeError(f"{token_file()} vanished as it was made: run `freeclaude start` again")
    return found


def made_token() -> str | None:
    """The token, if one was made (None while there is none): nothing is created."""
    path = token_file()
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:  # a folder in its place, bytes that are not text
        raise FreeclaudeError(f"{path} cannot be read as a token ({getattr(e, 'strerror', None) or e}): "
                              "delete it and run `freeclaude start` again") from None
    if not value:
        raise FreeclaudeError(f"{path} is empty: delete it and run `freeclaude start` again")
    return value


def read_state() -> State | None:
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
        state = State(**{f.name: data[f.name] for f in dataclasses.fields(State)})
        types: dict[str, type | tuple[type, ...]] = {"pid": int, "base_url": str, "profile": str,
                                                     "started": (int, float), "session": str}
        if not all(isinstance(getattr(state, name), kind) for name, kind in types.items()) or not state.port:
            raise ValueError("not one a gateway wrote")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # half a file from a crash: as good as none, and replaced at the next start
    return state


def write_state(state: State) -> None:
    write_atomic(state_file(), json.dumps(dataclasses.asdict(state), indent=2).encode(), mode=0o600)


def clear_state(pid: int | None = None) -> None:
    """Removes the state file; with `pid`, only if it still names that process."""
    if pid is not None:
        state = read_state()
        if state is not None and state.pid != pid:
            return
    try:
        state_file().unlink()
    except FileNotFoundError:
        pass


@dataclasses.dataclass
class Lookup:
    state: State | None  # what the state file says
    holder: listeners.Holder | None = None  # who answers at its address

    @property
    def running(self) -> bool:
        """The user's own gateway answers there."""
        return self.holder is not None and self.holder.ours

    @property
    def stale(self) -> bool:
        return self.state is not None and not self.running

    @property
    def live(self) -> State | None:
        """The state of the gateway that answers as the user's own; None when none does."""
        return self.state if self.running else None


def lookup() -> Lookup:
    state = read_state()
    if state is None:
        return Lookup(None)
    secret = token()
    holder = listeners.examine(state.base_url, secret)
    if holder.kind in (listeners.NOBODY, listeners.SILENT) and processes.alive(state.pid) is not False:
        # alive (or, on Windows, maybe): a gateway slow under load must not be taken for stale,
        # or its state would be removed and the gateway left running unseen
        holder = listeners.examine(state.base_url, secret, timeout=SLOW_ANSWER)
    return Lookup(state, holder)


def foreign(found: Lookup) -> list[tuple[int, listeners.Holder]]:
    """What listens, not being the user's gateway, where Claude Code may be sent: the recorded
    gateway's port (the default one when there is none) and the ports `ide install` wrote."""
    from freeclaude.gateway import config
    from freeclaude.ide import clients

    ports = {found.state.port if found.state else config.BACKGROUND_PORT}
    for target in clients.TARGETS:
        try:
            ports |= {port for url in clients.base_urls(target) if (port := urlsplit(url).port)}
        except (FreeclaudeError, ValueError):
            pass  # a damaged record: doctor says so
    held = []
    for port in sorted(ports):
        if found.state and found.holder and port == found.state.port:
            holder = found.holder
        else:
            holder = listeners.examine(f"http://127.0.0.1:{port}", made_token())
        if holder.foreign:
            held.append((port, holder))
    return held


def taken(port: int, holder: listeners.Holder) -> str:
    """What a port held by someone else means."""
    return (f"127.0.0.1:{port} is held by {holder.who}, not by your gateway: a Claude Code pointed there "
            "would send it your prompts and your gateway's token")


TAKEN_FIX = ("`freeclaude start --port N` with a port of your own (then `freeclaude ide install` again); "
             "README: \"On a machine others use\"")


def detach_options(platform: str = sys.platform) -> dict[str, Any]:
    """Popen options that leave the gateway on its own: no terminal, no session of ours, so a
    closed terminal or Ctrl-C there does not reach it."""
    if platform == "win32":
        return {"creationflags": DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def start(profile: str, port: int, env: Mapping[str, str], platform: str = sys.platform) -> tuple[State, str | None]:
    """Starts the gateway and returns once it answers, with a note on a stale state file it
    replaced. The caller checks first that none is running."""
    found = lookup()
    note = None
    if found.stale:
        note = _stale_note(found, platform)
        clear_state()
    secret = token()
    url = f"http://127.0.0.1:{port}"
    holder = found.holder if found.state and found.holder and found.state.base_url == url else listeners.examine(url, secret)
    if holder.kind == listeners.OTHER:
        raise FreeclaudeError(f"not started: {taken(port, holder)}. Instead: {TAKEN_FIX}")
    log = log_file()
    if log.exists() and log.stat().st_size > LOG_ROTATE_BYTES:
        try:
            os.replace(log, log.with_name(log.name + ".1"))
        except OSError:
            pass  # on Windows a process still holding it open keeps it in place: it grows on instead
    private_file(log)  # prompts can show in it
    # The token goes by file: an argument would show in `ps` to every user of the machine.
    argv = [sys.executable, "-m", "freeclaude", "serve", "--background", "--profile", profile, "--port", str(port),
            "--token-file", str(token_file())]
    with open(log, "ab") as out:
        offset = out.tell()
        child = subprocess.Popen(argv, env=dict(env), cwd=home.data_dir(), stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=out, close_fds=True, **detach_options(platform))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        state = read_state()
        if state is not None and listeners.examine(state.base_url, secret).ours:
            return state, note
        if child.poll() is not None:
            raise GatewayFailed(f"the gateway exited with code {child.returncode} before it answered", log, offset)
        time.sleep(0.1)
    child.kill()
    raise GatewayFailed(f"the gateway did not answer within {START_TIMEOUT:.0f} s", log, offset)


def stop(platform: str = sys.platform) -> tuple[State | None, str]:
    """Stops the running gateway: SIGTERM (its server then closes cleanly), or on Windows
    TerminateProcess, which is what os.kill does there; every row already answered is in
    the ledger either way. Returns what was found and what was done."""
    found = lookup()
    if found.state is None:
        return None, "no background gateway is running"
    state = found.state
    if not found.running:
        note = _stale_note(found, platform)
        clear_state()
        return state, note
    os.kill(state.pid, signal.SIGTERM)
    if not _wait_gone(state, platform, STOP_TIMEOUT) and platform != "win32":
        os.kill(state.pid, signal.SIGKILL)
        _wait_gone(state, platform, STOP_TIMEOUT)
    clear_state(state.pid)
    return state, f"stopped the gateway at {state.base_url} (pid {state.pid})"


class GatewayFailed(FreeclaudeError):
    """The gateway did not come up: the message, and the lines it logged while trying."""

    def __init__(self, message: str, log: Path, offset: int) -> None:
        super().__init__(f"{message}; its log: {log}")
        with open(log, "rb") as f:
            f.seek(offset)
            self.log_lines = f.read().decode("utf-8", "replace").splitlines()[-15:]


def _wait_gone(state: State, platform: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    secret = token()
    while time.monotonic() < deadline:
        if processes.alive(state.pid, platform) is False or (
                platform == "win32" and not listeners.examine(state.base_url, secret, 0.5).ours):
            return True
        time.sleep(0.05)
    return False


def _stale_note(found: Lookup, platform: str) -> str:
    return f"removed a stale {state_file().name} left by a gateway that did not stop cleanly: {_why_stale(found, platform)}"


def _why_stale(found: Lookup, platform: str) -> str:
    state, holder = found.state, found.holder
    if state is None:
        return "it left no state"
    alive = processes.alive(state.pid, platform)
    if alive is False:
        why = f"pid {state.pid} no longer runs"
    elif alive:
        why = f"pid {state.pid} runs, but is not a freeclaude gateway answering at {state.base_url} (left alone)"
    else:
        why = f"your gateway does not answer at {state.base_url}"
    return f"{why}; {taken(state.port, holder)}" if holder is not None and holder.foreign else why


def not_running(found: Lookup) -> FreeclaudeError:
    why = f" (the last one did not stop cleanly: {_why_stale(found, sys.platform)})" if found.stale else ""
    return FreeclaudeError(f"no background gateway is running{why}: start one with `freeclaude start`")


def running_env() -> tuple[State, dict[str, str], str]:
    """The running gateway, the variables that point a Claude Code at it (those `run` sets, and
    what they can carry of its profile's lean level), and that level."""
    from freeclaude.claude import facts, lean
    from freeclaude.profiles.store import Store

    found = lookup()
    state = found.live
    if state is None:
        raise not_running(found)
    profile = Store().load(state.profile)
    variables = facts.gateway_env(state.base_url, token(), profile)
    return state, {**variables, **lean.variables(profile.lean)}, profile.lean
