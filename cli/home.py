"""Where freeclaude keeps its files (FREECLAUDE_HOME, else the platform's config and data dirs),
and how the small ones other processes read are replaced."""

import os
from pathlib import Path

import platformdirs


def _home() -> Path | None:
    value = os.environ.get("FREECLAUDE_HOME")
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    return _home() or platformdirs.user_config_path("freeclaude")


def data_dir() -> Path:
    return _home() or platformdirs.user_data_path("freeclaude")


def ledger_path() -> Path:
    return data_dir() / "usage.db"


def log_path() -> Path:
    return data_dir() / "logs" / "server.log"


def sessions_dir() -> Path:
    """One file per Claude Code session, for the statusline (see sessions.py)."""
    return data_dir() / "sessions"


def claude_dir(env) -> Path:
    """Claude Code's own directory: CLAUDE_CONFIG_DIR, else ~/.claude (as Claude Code 2.1.330 finds it)."""
    if env.get("CLAUDE_CONFIG_DIR"):
        return Path(env["CLAUDE_CONFIG_DIR"])
    return Path(env.get("HOME") or env.get("USERPROFILE") or Path.home()) / ".claude"
