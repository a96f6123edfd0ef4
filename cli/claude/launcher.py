"""`freeclaude run`: the gateway in-process, Claude Code as a child that owns the terminal."""

import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from freeclaude.claude import daemon, lean, sessions, settings, tether
from freeclaude.claude.picker import picker_env, tier_vars
from freeclaude.errors import FreeclaudeError
from freeclaude.gateway.config import Config, listen
from freeclaude.profiles.schema import Profile
from freeclaude.profiles.tiers import TIERS, tier_of
from freeclaude.service import home, processes
from freeclaude.service.files import private_file

# Local models can take minutes to read Claude Code's prompt before the first token.
API_TIMEOUT_MS = "1800000"
INSTALL_HINT = "npm install -g @anthropic-ai/claude-code"
AUTO_COMPACT_MIN = 100_000
# What gateway_env sizes for the model that a value the user set stays theirs over.
USER_KEEPS = ("API_TIMEOUT_MS", "CLAUDE_CODE_MAX_OUTPUT_TOKENS")
POLL_SECONDS = 1.0  # how often a daemon left behind is looked at


def find_claude(env: Mapping[str, str]) -> str:
    name = env.get("FREECLAUDE_CLAUDE") or "claude"
    found = shutil.which(name, path=env.get("PATH"))
    if not found:
        raise FreeclaudeError(
            f"Claude Code ({name}) was not found: install it with `{INSTALL_HINT}`, "
            "or point FREECLAUDE_CLAUDE at the executable"
        )
    return found


def main_model(claude_args: Sequence[str]) -> str:
    """What Claude Code's main loop will ask for: its --model, else opus (its default)."""
    for i, arg in enumerate(claude_args):
        if arg == "--model" and i + 1 < len(claude_args):
            return claude_args[i + 1]
        if arg.startswith("--model="):
            return arg.split("=", 1)[1]
    return "opus"


def gateway_env(base_url: str, token: str, profile: Profile, tier: str = "opus") -> dict[str, str]:
    """The variables that point a Claude Code at a gateway, sized for the first model of the
    tier (or the model itself, when `tier` names one of the profile's models), with the /model
    picker labelled by what each tier runs and the statusline's files named."""
    main = profile.find(tier) or profile.chain(tier_of(tier))[0]
    env = {"ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_AUTH_TOKEN": token,
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "API_TIMEOUT_MS": API_TIMEOUT_MS,
           # Ask for what the model can give: an answer that stops at a cap Claude Code did not
           # set reads to it as "exceeded the 128000 output token maximum".
           "CLAUDE_CODE_MAX_OUTPUT_TOKENS": str(main.max_output_tokens),
           sessions.DIR_ENV: str(home.sessions_dir())}
    env.update(compact_env(main.context_window))
    env.update(picker_env(profile))
    return env


def child_env(base: Mapping[str, str], base_url: str, token: str, profile: Profile, claude_args: Sequence[str]) -> dict:
    """The child's environment: ours without the upstream keys, pointed at the gateway. A
    timeout, output cap or tier model the user set stays theirs."""
    env = dict(base)
    for var in ("ANTHROPIC_API_KEY", "FREECLAUDE_CLAUDE", *profile.key_vars()):
        env.pop(var, None)  # upstream keys stay with the gateway
    ours = gateway_env(base_url, token, profile, main_model(claude_args))
    for tier in TIERS:  # a tier the user pointed at a model of their choosing keeps it, unlabelled by us
        model_var, *labels = tier_vars(tier)
        if model_var in base:
            for var in (model_var, *labels):
                ours.pop(var, None)
    for var, value in ours.items():
        if var in USER_KEEPS:
            env.setdefault(var, value)
        else:
            env[var] = value
    return env


def compact_env(window: int) -> dict[str, str]:
    """Auto-compact where the main model's window really ends, not at Claude's own window.

    Claude Code (2.1.330) reads an auto-compact window under 100k as 100k, so a smaller
    window is given as a percentage of that 100k instead."""
    if window >= AUTO_COMPACT_MIN:
        return {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": str(window)}
    return {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": str(AUTO_COMPACT_MIN),
            "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": str(max(1, window * 100 // AUTO_COMPACT_MIN))}


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
    claude = claude or find_claude(env)
    config = Config(profile=profile, ledger_path=home.ledger_path(), state_dir=home.sessions_dir(), env=env)
    config.keys()  # a missing key is said now, before Claude Code takes the terminal
    config.sock = listen(config.host, port)
    base_url = "http://%s:%d" % config.sock.getsockname()[:2]
    previous = _hold_signals()
    slim = lean.Launch()
    try:
        try:
            cwd = os.getcwd()
            level = lean_level or profile.lean
            slim = lean.for_run(level, claude_args, env, Path(cwd), home.data_dir(), version)
            child_environment = {**child_env(env, base_url, config.token, profile, claude_args), **slim.env}
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
            return None if told else daemon.daemon(home.claude_dir(env), child.proc.pid, started, time.time(), cwd)

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


def _forward_signals(proc) -> list[int]:
    """Passes SIGTERM and SIGHUP on; the list it returns fills with the signals received."""
    received: list[int] = []

    def forward(sig, frame) -> None:
        received.append(sig)
        if proc.returncode is None:
            proc.send_signal(sig)

    for sig in _FORWARDED:
        signal.signal(sig, forward)
    return received
