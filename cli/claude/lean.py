"""Lean levels: how much of Claude Code's own prompt reaches the model (a profile's `lean`,
`run --lean`). Measured on Claude Code 2.1.330 and 2.1.332 (2026-12-02), first request of
`claude -p hello` (README, "Lean levels", has the table):

- off: Claude Code as it is (50 kB, 12 tools).
- core: its own system prompt, its built-in tools limited to CORE_TOOLS (21 kB). Glob and Grep
  are not in its default set but come when --tools names them.
- minimal: its minimal mode, CLAUDE_CODE_SIMPLE=1, which `--bare` also sets (4.5 kB: a
  one-line system prompt, Bash, Edit and Read; --tools cannot add others there), plus the memory
  files it would have loaded (memory.py), which that mode leaves out, appended to the system prompt.

What the user passes is theirs: their --bare is minimal mode without memory files, and nothing
is added; their --tools wins over core's; their own --append-system-prompt-file is read into ours
(Claude Code keeps only the last of a repeated flag); their --append-system-prompt and
--system-prompt[-file] stay as they are. CLAUDE_CODE_SIMPLE is the level's, like the gateway's
variables: one in the environment or a settings file is most likely what `env` or
`ide install` put there for the background gateway.

Everything added goes before the user's arguments in `--flag=value` form: a variadic option like
--tools given as two words swallows the prompt that follows it.
"""

import os
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path

from freeclaude.service.files import Removable


class Level(StrEnum):
    off = "off"
    core = "core"
    minimal = "minimal"


LEVELS = tuple(level.value for level in Level)
CORE_TOOLS = ("Bash", "Read", "Edit", "Write", "Glob", "Grep")
# Every other built-in tool of Claude Code 2.1.330-2.1.332 (the same in both, interactive and
# -p; the deferred ones listed once ToolSearch is denied): `ide install claude` denies them in
# Claude Code's settings, which take no tool list. Glob and Grep are not in the default set.
OTHER_TOOLS = ("Agent", "AskUserQuestion", "CronCreate", "CronDelete", "CronList", "EnterPlanMode", "EnterWorktree",
               "ExitPlanMode", "ExitWorktree", "ListAgents", "Monitor", "NotebookEdit", "ReportFindings",
               "ScheduleWakeup", "SendMessage", "Skill", "TaskStop", "ToolSearch", "WebFetch", "WebSearch", "Workflow")
SIMPLE = "CLAUDE_CODE_SIMPLE"
# Moves the working directory and the auto-memory path out of the system prompt into the first
# message, so that the system prompt is the same bytes in every folder (measured: README). Claude
# Code 2.1.98 added it; older ones refuse the flag; interactive sessions ignore it. In minimal mode
# it drops the working directory altogether, so it is not used there.
EXCLUDE_DYNAMIC = "--exclude-dynamic-system-prompt-sections"
EXCLUDE_SINCE = (2, 1, 98)


class Launch(Removable):
    """What a run adds: arguments before the user's, the user's own (one file of theirs may be
    read into ours), variables for the child to have and not to have, and the file to remove
    once Claude Code exits."""

    def __init__(self, claude_args: Sequence[str] = ()) -> None:
        self.args: list[str] = []
        self.claude_args = list(claude_args)
        self.env: dict[str, str] = {}
        self.unset: list[str] = []


def for_run(level: str, claude_args: Sequence[str], env: Mapping[str, str], cwd: Path, data_dir: Path,
            version: tuple[int, ...] | None) -> Launch:
    launch = Launch(claude_args)
    if given(claude_args, "--bare"):
        return launch  # minimal mode, the user's own choice: nothing to add
    if level == "minimal":
        launch.env[SIMPLE] = "1"
        _append_memory(launch, env, cwd, data_dir)
        return launch
    launch.unset.append(SIMPLE)
    if level == "core" and not given(claude_args, "--tools"):
        launch.args.append("--tools=" + ",".join(CORE_TOOLS))
    if version and version >= EXCLUDE_SINCE and not given(claude_args, EXCLUDE_DYNAMIC):
        launch.args.append(EXCLUDE_DYNAMIC)
    return launch


def settings_env(level: str, claude_args: Sequence[str]) -> dict[str, str]:
    """For run's --settings: the minimal-mode switch as this run's level wants it, over one that
    a settings file sets in its `env` (`ide install claude` puts it there for a minimal profile)."""
    return {} if given(claude_args, "--bare") else {SIMPLE: "1" if level == "minimal" else "0"}


def variables(level: str) -> dict[str, str]:
    """What the environment can carry (`env`, `ide install`): minimal mode. Core needs a tool
    list, which no variable gives; the memory files need a working directory, which a shared
    gateway does not have."""
    return {SIMPLE: "1"} if level == "minimal" else {}


def denied(level: str) -> tuple[str, ...]:
    """What Claude Code's settings can carry of core (`ide install claude`): the other built-in
    tools, denied."""
    return OTHER_TOOLS if level == "core" else ()


def reach(level: str, target: str) -> str:
    """What of the background gateway's level reaches a Claude Code that `env` or `ide install
    TARGET` points at it, said plainly."""
    if level == "minimal":
        return ("lean = minimal: Claude Code runs in its minimal mode (CLAUDE_CODE_SIMPLE=1), which loads no "
                "CLAUDE.md; only `freeclaude run` appends the memory files (a shared gateway has no working directory)")
    if level == "core" and target == "claude":
        return ("lean = core: the other built-in tools are denied in Claude Code's settings (it takes no tool list "
                "there; Glob and Grep cannot be added) for every Claude Code, `freeclaude run --lean off` included, "
                "until `freeclaude ide uninstall claude`")
    if level == "core":
        return "lean = core does not reach Claude Code through the environment: no variable limits its tools"
    return ""


def given(args: Sequence[str], flag: str) -> bool:
    """Whether the user's arguments hold the flag (alone or as --flag=value), before any `--`."""
    for arg in args:
        if arg == "--":
            return False
        if arg == flag or arg.startswith(flag + "="):
            return True
    return False


def _append_memory(launch: Launch, env: Mapping[str, str], cwd: Path, data_dir: Path) -> None:
    from freeclaude.claude import memory
    from freeclaude.service.files import write_atomic

    text = memory.render(memory.load(cwd, env))
    flag = "--append-system-prompt-file"
    theirs = _last_value(launch.claude_args, flag)
    if theirs is not None:
        index, given = theirs
        try:
            text = "\n".join(t for t in (text, Path(given).expanduser().read_text(encoding="utf-8")) if t)
        except OSError:
            return  # Claude Code says what is wrong with their file; ours waits for a good one
    if not text:
        return
    path = data_dir / f"run-{os.getpid()}-memory.md"
    try:
        write_atomic(path, text.encode("utf-8"), mode=0o600, sync=False)  # CLAUDE.local.md is private
    except OSError:
        return
    launch.private = path
    if theirs is None:
        launch.args.append(f"{flag}={path}")
    else:
        launch.claude_args[index:index + (1 if "=" in launch.claude_args[index] else 2)] = [f"{flag}={path}"]


def _last_value(args: list[str], flag: str) -> tuple[int, str] | None:
    """Where the last `flag VALUE` or `flag=VALUE` is, and its value."""
    found = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == flag and i + 1 < len(args):
            found = (i, args[i + 1])
        elif arg.startswith(flag + "="):
            found = (i, arg.split("=", 1)[1])
    return found
