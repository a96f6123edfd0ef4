"""Where freeclaude keeps its files (FREECLAUDE_HOME, else the platform's config and data dirs),
and that they are the user's alone."""

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


def server_log() -> Path:
    return data_dir() / "logs" / "server.log"


def sessions_dir() -> Path:
    """One file per Claude Code session, for the statusline (see sessions.py)."""
    return data_dir() / "sessions"


def secure() -> None:
    """Makes the config and data dirs, and everything in them, the user's alone when an older
    version left them open to others (0755 folders; 0644 logs, ledger, profiles). Once a dir is
    0700 this costs one stat: everything freeclaude creates in it since is private already."""
    from freeclaude.service.files import tighten

    for root in {config_dir(), data_dir()}:
        try:
            if not os.stat(root).st_mode & 0o077:
                continue
        except OSError:
            continue  # not made yet: it will be made private
        for folder, dirs, names in os.walk(root):
            for name in dirs + names:
                path = Path(folder, name)
                if not path.is_symlink():  # a link's target is not ours to change
                    tighten(path)
        tighten(root)  # last: a sweep cut short is done again next time
