"""The --settings file `run` gives Claude Code. Claude Code 2.1.330 lets --settings override the
user's ~/.claude/settings.json (or $CLAUDE_CONFIG_DIR) and the project's .claude/settings*.json
(read from the working directory alone), each key and each `env` entry. So:

- our statusLine, unless one of those files has its own (then it stays) or --no-statusline;
- the gateway's variables, when one of those files sets them in its `env` (`ide install claude`
  does, pointing at the background gateway): without this, that `env` would win over the
  child's environment and this run's Claude Code would talk to another gateway.

A --settings of the user's own is left alone, and then ours is not passed at all."""

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from freeclaude.claude import facts
from freeclaude.claude.statusline import REFRESH_SECONDS, command
from freeclaude.service.files import Removable, write_atomic

SHARED = "statusline-settings.json"  # no secret in it: one file for every run


class RunSettings(Removable):
    """The arguments to pass, and the file to remove once Claude Code has exited (one holding
    this run's token is this run's alone, 0600)."""

    def __init__(self, args: list[str], private: Path | None = None) -> None:
        self.args = args
        self.private = private


def for_run(env: Mapping[str, str], cwd: str, claude_args: Sequence[str], data_dir: Path, gateway: dict[str, str],
            statusline: bool) -> RunSettings:
    if any(a == "--settings" or a.startswith("--settings=") for a in claude_args):
        return RunSettings([])
    files = [_read(p) for p in _files(env, cwd)]
    wanted: dict[str, Any] = {}
    if statusline and not _has_statusline(files):
        wanted["statusLine"] = {"type": "command", "command": command(), "refreshInterval": REFRESH_SECONDS}
    theirs = set().union(*(f.get("env") or {} for f in files if f and isinstance(f.get("env"), dict)))
    overridden = {var: value for var, value in gateway.items() if var in theirs}
    if overridden:
        wanted["env"] = overridden
    if not wanted:
        return RunSettings([])
    text = json.dumps(wanted).encode()
    try:
        if overridden:  # it holds this run's token: a file of its own, removed when the run ends
            path = data_dir / f"run-{os.getpid()}-settings.json"
            write_atomic(path, text, mode=0o600, sync=False)
            return RunSettings(["--settings", str(path)], path)
        path = data_dir / SHARED
        if _bytes(path) != text:
            write_atomic(path, text, sync=False)
    except OSError:
        return RunSettings([])  # a --settings file that is not there would stop Claude Code from starting
    return RunSettings(["--settings", str(path)])


def _has_statusline(files: list[dict[str, Any] | None]) -> bool:
    return any(f is None or f.get("statusLine") for f in files)  # one we cannot parse may have one


def _files(env: Mapping[str, str], cwd: str) -> list[Path]:
    project = Path(cwd) / ".claude"
    return [p for p in (facts.claude_dir(env) / "settings.json", project / "settings.json",
                        project / "settings.local.json") if p.is_file()]


def _read(path: Path) -> dict[str, Any] | None:
    """A settings file's object; None when it cannot be read as one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
