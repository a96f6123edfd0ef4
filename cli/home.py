"""Where freeclaude keeps its files: FREECLAUDE_HOME, else the platform's config and data dirs."""

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
