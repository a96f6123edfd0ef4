"""What freeclaude knows about Claude Code's surroundings, in one place: the version it is
tested with, where the executable and its own directory are, and the variables that point a
Claude Code at a gateway. `run` gives them to its child, `env` prints them, `ide install`
writes them into settings files, `doctor` checks them.

Each fact was checked against TESTED by the claude-marked tests (and against the newest release
where a comment says so)."""

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from freeclaude.claude import sessions
from freeclaude.claude.picker import picker_env, tier_vars
from freeclaude.errors import FreeclaudeError
from freeclaude.profiles.schema import Profile
from freeclaude.profiles.tiers import TIERS, tier_of
from freeclaude.service import home

# The version package.json pins for the tests, which the claude-marked tests pass on; CI also
# runs them on the newest from npm. Bump the two together (tests/claude/test_updates.py holds them equal).
TESTED = "2.1.330"
# Local models can take minutes to read Claude Code's prompt before the first token.
API_TIMEOUT_MS = "1800000"
INSTALL_HINT = "npm install -g @anthropic-ai/claude-code"
AUTO_COMPACT_MIN = 100_000
# What gateway_env sizes for the model that a value the user set stays theirs over.
USER_KEEPS = ("API_TIMEOUT_MS", "CLAUDE_CODE_MAX_OUTPUT_TOKENS")


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


def child_env(base: Mapping[str, str], base_url: str, token: str, profile: Profile,
              claude_args: Sequence[str]) -> dict[str, str]:
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

    Claude Code reads an auto-compact window under 100k as 100k, so a smaller
    window is given as a percentage of that 100k instead."""
    if window >= AUTO_COMPACT_MIN:
        return {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": str(window)}
    return {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": str(AUTO_COMPACT_MIN),
            "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": str(max(1, window * 100 // AUTO_COMPACT_MIN))}




def claude_dir(env: Mapping[str, str]) -> Path:
    """Claude Code's own directory: CLAUDE_CONFIG_DIR, else ~/.claude, as Claude Code finds it."""
    if env.get("CLAUDE_CONFIG_DIR"):
        return Path(env["CLAUDE_CONFIG_DIR"])
    return Path(env.get("HOME") or env.get("USERPROFILE") or Path.home()) / ".claude"


def version(text: str) -> tuple[int, ...] | None:
    """ "2.1.331 (Claude Code)" (what `claude --version` prints) -> (2, 1, 331)."""
    try:
        return tuple(int(part) for part in text.split()[0].split("."))
    except (IndexError, ValueError):
        return None
