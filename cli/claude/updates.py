"""Claude Code's updates: the newest version freeclaude was tested with, and one warning when the
Claude Code that `run` starts is newer. Free on the common run: the version is cached by the
executable's resolved path and mtime, so a run does a stat and reads one small file; only an
executable not seen before is asked its version, in a thread, while Claude Code starts."""

import json
import os
import subprocess
import threading
from pathlib import Path

from freeclaude.claude import facts
from freeclaude.claude.facts import TESTED

CACHE = "claude-version.json"


class VersionCheck:
    """Started before Claude Code, read after it has exited (a warning printed while it owns the
    terminal would be drawn over)."""

    def __init__(self, claude: str, data_dir: Path) -> None:
        self.cache = data_dir / CACHE
        self.entry: dict[str, object] | None = None
        self._thread: threading.Thread | None = None
        path = os.path.realpath(claude)
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return
        try:
            entry = json.loads(self.cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entry = None
        if isinstance(entry, dict) and entry.get("path") == path and entry.get("mtime_ns") == mtime:
            self.entry = entry
            return
        self._thread = threading.Thread(target=self._probe, args=(claude, path, mtime), daemon=True)
        self._thread.start()

    def _probe(self, claude: str, path: str, mtime: int) -> None:
        try:
            out = subprocess.run([claude, "--version"], capture_output=True, text=True, timeout=30,
                                 stdin=subprocess.DEVNULL).stdout
        except (OSError, subprocess.SubprocessError):
            return  # asked again next run
        self.entry = {"path": path, "mtime_ns": mtime, "version": out.strip(), "warned": False}
        self._save()

    def version(self, wait: float = 2.0) -> tuple[int, ...] | None:
        """This Claude Code's version; an executable not seen before is waited for (its
        `--version` answers at once)."""
        if self._thread is not None:
            self._thread.join(wait)
        return facts.version(str(self.entry.get("version", ""))) if self.entry else None

    def warning(self, wait: float = 2.0) -> str | None:
        """The warning, the first time this Claude Code is seen to be newer than TESTED."""
        if self._thread is not None:
            self._thread.join(wait)
        entry = self.entry
        if entry is None or entry.get("warned"):
            return None
        seen, tested = facts.version(str(entry.get("version", ""))), facts.version(TESTED)
        if seen is None or tested is None or seen <= tested:
            return None
        entry["warned"] = True
        self._save()
        shown = ".".join(map(str, seen))
        return (f"Claude Code {shown} is newer than {TESTED}, the newest freeclaude was tested with; if it "
                f"misbehaves, `npm install -g @anthropic-ai/claude-code@{TESTED}` goes back (warned once)")

    def _save(self) -> None:
        from freeclaude.service.files import write_atomic

        try:
            write_atomic(self.cache, json.dumps(self.entry).encode(), sync=False)
        except OSError:
            pass  # a cache that cannot be written only means asking again next time
