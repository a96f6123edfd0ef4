"""`freeclaude run`: the gateway in-process, Claude Code as a child that owns the terminal."""

import asyncio
import logging
import os
import shutil
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from freeclaude import home
from freeclaude.errors import FreeclaudeError
from freeclaude.profiles import Profile
from freeclaude.router import tier_of
from freeclaude.server import Config, Server

# Local models can take minutes to read Claude Code's prompt before the first token.
API_TIMEOUT_MS = "1800000"
INSTALL_HINT = "npm install -g @anthropic-ai/claude-code"
AUTO_COMPACT_MIN = 100_000


def find_claude(env: Mapping[str, str]) -> str:
    name = env.get("FREECLAUDE_CLAUDE") or "claude"
    found = shutil.which(name, path=env.get("PATH"))
    if not found:
        raise FreeclaudeError(
            f"Claude Code ({name}) was not found: install it with `{INSTALL_HINT}`, "
            "or point FREECLAUDE_CLAUDE at the executable"
        )
    return found


def main_tier(claude_args: Sequence[str]) -> str:
    """The tier Claude Code's main loop will ask for: its --model, else opus (its default)."""
    for i, arg in enumerate(claude_args):
        if arg == "--model" and i + 1 < len(claude_args):
            return tier_of(claude_args[i + 1])
        if arg.startswith("--model="):
            return tier_of(arg.split("=", 1)[1])
    return "opus"


def child_env(base: Mapping[str, str], base_url: str, token: str, profile: Profile, claude_args: Sequence[str]) -> dict:
    env = dict(base)
    for var in ("ANTHROPIC_API_KEY", "FREECLAUDE_CLAUDE", *profile.key_vars()):
        env.pop(var, None)  # upstream keys stay with the gateway
    main = profile.chain(main_tier(claude_args))[0]
    env.update(ANTHROPIC_BASE_URL=base_url, ANTHROPIC_AUTH_TOKEN=token, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1")
    env.update(compact_env(main.context_window))
    env.setdefault("API_TIMEOUT_MS", API_TIMEOUT_MS)
    # Ask for what the model can give: an answer that stops at a cap Claude Code did not set
    # reads to it as "exceeded the 128000 output token maximum".
    env.setdefault("CLAUDE_CODE_MAX_OUTPUT_TOKENS", str(main.max_output_tokens))
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
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
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


async def run(profile: Profile, claude_args: Sequence[str], *, port: int = 0,
              env: Mapping[str, str] | None = None) -> tuple[int, Server]:
    """Runs Claude Code through a fresh gateway; returns its exit code and the stopped server."""
    env = os.environ if env is None else env
    claude = find_claude(env)
    server = Server(Config(profile=profile, port=port, ledger_path=home.ledger_path(), env=env))
    base_url = await server.start()
    loop = asyncio.get_running_loop()
    try:
        try:
            proc = await asyncio.create_subprocess_exec(
                claude, *claude_args, env=child_env(env, base_url, server.config.token, profile, claude_args)
            )
        except OSError as e:
            raise FreeclaudeError(f"cannot start {claude}: {e.strerror}") from None
        # Ctrl-C goes from the terminal to the whole foreground group, claude included:
        # we only have to survive it. SIGTERM and SIGHUP are sent to us alone: pass them on.
        loop.add_signal_handler(signal.SIGINT, lambda: None)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, _forward, proc, sig)
        try:
            returncode = await proc.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
    finally:
        await server.stop()
    return exit_code(returncode), server


def _forward(proc: asyncio.subprocess.Process, sig: int) -> None:
    if proc.returncode is None:
        proc.send_signal(sig)
