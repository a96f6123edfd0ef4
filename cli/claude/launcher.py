"""`freeclaude run`: the gateway in-process, Claude Code as a child that owns the terminal."""

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType

from freeclaude.claude import daemon, facts, lean, settings, tether
from freeclaude.errors import FreeclaudeError
from freeclaude.gateway.config import Config, listen
from freeclaude.profiles.schema import Profile
from freeclaude.service import home, processes
from freeclaude.service.files import private_file

POLL_SECONDS = 1.0  # how often a daemon left behind is looked at


def log_to_file(path: Path) -> logging.Handler:
    """While the child owns the terminal, everything the server says goes to a file."""
    handler = logging.FileHandler(private_file(path), encoding="utf-8")  # prompts can show in it
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for name in ("freeclaude", "aiohttp", "asyncio"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return handler


def exit_code(returncode: int) -> int:
    """A child killed by signal N exits as a shell would report it: 128 + N."""
    return returncode if returncode >= 0 else 128 - returncode


def run(profile: Profile, claude_args: Sequence[str], *, port: int = 0, env: Mapping[str, str] | None = None,
        statusline: bool = True, claude: str | None = None, lean_level: str | None = None,
        version: tuple[int, ...] | None = None) -> tuple[int, str]:
    """Runs Claude Code through a fresh gateway; returns its exit code and the gateway's session.
    `lean_level` (default: the profile's) sets how much of Claude Code's prompt reaches the model;
    `version` is Claude Code's, where known.

    Claude Code is started as soon as the port is bound and the keys are checked: the gateway
    (aiohttp and all) loads while Node does, and a request sent before it is up waits in the
    socket's backlog."""
    env = os.environ if env is None else env
    claude = claude or facts.find_claude(env)
    config = Config(profile=profile, ledger_path=home.ledger_path(), state_dir=home.sessions_dir(), env=env)
    config.keys()  # a missing key is said now, before Claude Code takes the terminal
    config.sock = listen(config.host, port)
    host, bound = config.sock.getsockname()[:2]
    base_url = f"http://{host}:{bound}"
    previous = _hold_signals()
    slim = lean.Launch()
    try:
        try:
            cwd = os.getcwd()
            level = lean_level or profile.lean
            slim = lean.for_run(level, claude_args, env, Path(cwd), home.data_dir(), version)
            child_environment = {**facts.child_env(env, base_url, config.token, profile, claude_args), **slim.env}
            for var in slim.unset:
                child_environment.pop(var, None)
            ours = {var: value for var, value in child_environment.items() if env.get(var) != value}
            given = settings.for_run(env, cwd, claude_args, home.data_dir(),
                                     {**lean.settings_env(level, claude_args), **ours}, statusline)
            started = time.time()
            child = tether.spawn([claude, *given.args, *slim.args, *slim.claude_args], child_environment)
        except OSError as e:
            slim.remove()
            raise FreeclaudeError(f"cannot start {claude}: {e.strerror}") from None
        told = _forward_signals(child.proc)
        from freeclaude.gateway import eventloop  # asyncio only now: Claude Code is already starting

        def left_behind() -> int | None:
            """A daemon our Claude Code left behind, unless we were told to stop (SIGTERM, SIGHUP)."""
            return None if told else daemon.daemon(facts.claude_dir(env), child.proc.pid, started, time.time(), cwd)

        try:
            returncode = eventloop.run(_serve(config, child, left_behind))
        finally:
            child.release()
            given.remove()
            slim.remove()
    finally:
        config.sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return exit_code(returncode), config.session


async def _serve(config: Config, child: tether.Child, left_behind: Callable[[], int | None]) -> int:
    import asyncio

    from freeclaude.gateway.server import Server  # aiohttp: loaded while Claude Code starts

    server = Server(config)
    try:
        await server.start()
    except BaseException:
        child.proc.terminate()
        child.proc.wait()
        raise
    try:
        returncode = await asyncio.get_running_loop().run_in_executor(None, child.proc.wait)
        pid = left_behind()
        if pid:
            await _serve_background(pid)
        return returncode
    finally:
        await server.stop()


async def _serve_background(pid: int) -> None:
    """Claude Code left background sessions behind under a daemon it started with our gateway
    (daemon.py): serve them until the daemon ends, or until told to stop."""
    import asyncio

    stop: list[int] = []
    for sig in (signal.SIGINT, *_FORWARDED):
        signal.signal(sig, lambda sig, frame: stop.append(sig))  # run() puts the old handlers back
    sys.stderr.write(f"freeclaude: Claude Code's background sessions use this gateway (daemon pid {pid}); it keeps "
                     "serving until they end (`claude agents` lists them; Ctrl-C stops it now)\n")
    sys.stderr.flush()
    while not stop and processes.alive(pid) is True:
        await asyncio.sleep(POLL_SECONDS)


# Ctrl-C goes from the terminal to the whole foreground group, Claude Code included: we only have
# to survive it. SIGTERM and SIGHUP are sent to us alone: pass them on. Python-level handlers,
# set before the child starts, so that it gets its own default dispositions at exec and none of
# this needs an event loop (Windows' Proactor loop has no add_signal_handler).
_FORWARDED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, name))


def _hold_signals() -> dict:
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, lambda *_: None)}
    for sig in _FORWARDED:
        previous[sig] = signal.signal(sig, lambda *_: None)
    return previous


def _forward_signals(proc: subprocess.Popen[bytes]) -> list[int]:
    """Passes SIGTERM and SIGHUP on; the list it returns fills with the signals received."""
    received: list[int] = []

    def forward(sig: int, frame: FrameType | None) -> None:
        received.append(sig)
        if proc.returncode is None:
            proc.send_signal(sig)

    for sig in _FORWARDED:
        signal.signal(sig, forward)
    return received
