"""A real `freeclaude serve` in its own process, for what only a process can show: signals,
kill -9, open-file limits, what `ps` sees."""

import asyncio
import dataclasses
import os
import sys
from pathlib import Path

import tomli_w

from freeclaude.usage.ledger import Ledger
from tests.conftest import KEY

TOKEN = "served-token"


@dataclasses.dataclass
class Served:
    proc: asyncio.subprocess.Process
    base_url: str
    home: Path

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {TOKEN}"}

    def rows(self, columns: str = "request_id, outcome, status") -> list[dict]:
        with Ledger(self.home / "usage.db") as ledger:
            return [dict(r) for r in ledger.db.execute(f"SELECT {columns} FROM attempts ORDER BY id")]


async def serve(tmp_path: Path, profile: dict, *args: str, env: dict | None = None, preexec_fn=None) -> Served:
    """`freeclaude serve --profile p ARGS` with the token in $FREECLAUDE_TOKEN; returns once it
    listens. Its log is the process's stderr, in `tmp_path/serve.log`."""
    home = tmp_path / "fc-home"
    (home / "profiles").mkdir(parents=True, exist_ok=True)
    (home / "profiles" / "p.toml").write_text(tomli_w.dumps(profile))
    environ = {**os.environ, "FREECLAUDE_HOME": str(home), "FAKE_KEY": KEY, "FREECLAUDE_TOKEN": TOKEN, **(env or {})}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "freeclaude", "serve", "--profile", "p", *args, env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=open(tmp_path / "serve.log", "ab"), preexec_fn=preexec_fn)
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
    assert line.startswith("ANTHROPIC_BASE_URL="), line
    return Served(proc, line.split("=", 1)[1], home)
