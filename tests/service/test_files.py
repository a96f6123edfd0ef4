"""Files other programs read are replaced whole, keep their permissions and links; secrets are
created private, once; and everything freeclaude keeps is the user's alone."""

import asyncio
import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import aiohttp
from typer.testing import CliRunner

from freeclaude.app import app
from freeclaude.service.files import create_private, write_atomic
from freeclaude.usage.ledger import Ledger
from tests.conftest import KEY
from tests.service.test_background import free_port
from tests.support.fakes import Json, completion
from tests.support.standin import profile_toml, start_run


def test_write_atomic_replaces_keeps_the_mode_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("old")
    path.chmod(0o640)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["settings.json"]
    write_atomic(tmp_path / "deep" / "er" / "state.json", b"{}", mode=0o600)
    assert stat.S_IMODE((tmp_path / "deep" / "er" / "state.json").stat().st_mode) == 0o600


def test_write_atomic_writes_through_a_symlink(tmp_path):
    (tmp_path / "dotfiles").mkdir()
    target = tmp_path / "dotfiles" / "real.json"
    target.write_text("old")
    link = tmp_path / "settings.json"
    link.symlink_to(target)
    write_atomic(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_create_private_makes_one_file_however_many_race(tmp_path):
    path = tmp_path / "token"
    won = []
    threads = [threading.Thread(target=lambda i=i: won.append(create_private(path, f"token-{i}".encode())))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won.count(True) == 1 and path.read_text() in {f"token-{i}" for i in range(8)}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_private(path, b"other") is False and path.read_text() != "other"
    assert sorted(os.listdir(tmp_path)) == ["token"]  # no temporary left behind


# ---------------------------------------------------------------- what freeclaude keeps is private


def modes(root: Path) -> dict[str, int]:
    """The permission bits of `root` (as ".") and of every folder and file under it."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def open_to_others(root: Path) -> dict[str, str]:
    """What under `root` is not the owner's alone: folders other than 0700, files other than 0600."""
    return {name: oct(mode) for name, mode in modes(root).items()
            if not stat.S_ISLNK((root / name).lstat().st_mode)
            and mode != (0o700 if (root / name).is_dir() else 0o600)}


async def freeclaude(env: dict, *args: str) -> subprocess.CompletedProcess:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "freeclaude", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


async def test_everything_freeclaude_keeps_is_the_users_alone(tmp_path, standin, fake):
    """A home freeclaude made itself, after `profile add`, a `run`, and a background gateway that
    answered a Claude Code session and was installed for Claude Code: every folder 0700, every file
    0600, SQLite's -wal and -shm (which SQLite creates itself) included."""
    fake.default = Json(completion({"content": "hi"}))
    home = tmp_path / "home"  # where start_run keeps it: created here by `profile add`, not by the test
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE", "FREECLAUDE"))}
    env.update(FREECLAUDE_HOME=str(home), HOME=str(tmp_path / "user-home"), FAKE_KEY=KEY)
    added = await freeclaude(env, "profile", "add", "p", "--base-url", fake.url, "--api-key-env", "FAKE_KEY",
                             "--opus", "big", "--sonnet", "small")
    assert added.returncode == 0, added.stderr
    proc = await start_run(tmp_path, standin, fake.url, "--ask", "--exit", "0")
    assert await asyncio.wait_for(proc.wait(), 60) == 0
    port = free_port()
    try:
        assert (await freeclaude(env, "start", "--profile", "p", "--port", str(port))).returncode == 0
        async with aiohttp.ClientSession() as s:
            token = (home / "gateway.token").read_text()
            body = {"model": "claude-opus-5-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
            async with s.post(f"http://127.0.0.1:{port}/v1/messages", json=body,
                              headers={"Authorization": f"Bearer {token}", "X-Claude-Code-Session-Id": "cc-1"}) as resp:
                assert resp.status == 200
        installed = await freeclaude(env, "ide", "install", "claude")
        assert installed.returncode == 0, installed.stderr
        assert json.loads((await freeclaude(env, "status", "--json")).stdout)["today"]["requests"] == 2
        kept = modes(home)
        for name in ("config.toml", "profiles/p.toml", "usage.db", "usage.db-wal", "usage.db-shm", "logs/server.log",
                     "logs/gateway.log", "gateway.token", "gateway.json", "sessions/cc-1.json", "ide/claude.json"):
            assert name in kept  # all there while the gateway runs, -wal and -shm included
        assert open_to_others(home) == {}
        settings = tmp_path / "user-home" / ".claude" / "settings.json"
        assert stat.S_IMODE(settings.stat().st_mode) == 0o600  # it holds the token
    finally:
        await freeclaude(env, "stop")
    assert open_to_others(home) == {}


def test_what_an_older_version_left_open_is_closed(tmp_path):
    """0755 folders and 0644 files from before: the next command, whichever, closes them all,
    but not what a link in there points at."""
    home = tmp_path / "fc-home"
    for folder in ("", "profiles", "logs", "sessions", "ide"):
        (home / folder).mkdir(exist_ok=True)
    (home / "profiles" / "p.toml").write_text(profile_toml("http://127.0.0.1:9/v1"))
    (home / "config.toml").write_text('default_profile = "p"\n')
    for name in ("logs/server.log", "logs/gateway.log", "logs/gateway.log.1", "gateway.token", "sessions/cc-1.json",
                 "claude-version.json"):
        (home / name).write_text("{}")
    (tmp_path / "dotfiles").mkdir()
    (tmp_path / "dotfiles" / "q.toml").write_text(profile_toml("http://127.0.0.1:9/v1"))
    (home / "profiles" / "q.toml").symlink_to(tmp_path / "dotfiles" / "q.toml")
    db = sqlite3.connect(home / "usage.db")  # open, so that its -wal and -shm are there too
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        for name in modes(home):
            if not (home / name).is_symlink():
                (home / name).chmod(0o755 if (home / name).is_dir() else 0o644)
        assert {"usage.db-wal", "usage.db-shm"} <= set(modes(home))
        assert len(open_to_others(home)) == 16
        r = CliRunner().invoke(app, ["profile", "list"], env={"FREECLAUDE_HOME": str(home), "COLUMNS": "200"})
        assert r.exit_code == 0 and "fake:big" in r.output
        assert open_to_others(home) == {}
        assert stat.S_IMODE((tmp_path / "dotfiles" / "q.toml").stat().st_mode) == 0o644  # not ours
    finally:
        db.close()


def test_a_ledger_left_open_to_others_is_closed_when_opened(tmp_path):
    """The home itself private already, its ledger not (copied in, or made by hand): opening the
    ledger closes it and its -wal and -shm."""
    db = sqlite3.connect(tmp_path / "usage.db")
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        for name in ("usage.db", "usage.db-wal", "usage.db-shm"):
            (tmp_path / name).chmod(0o644)
        Ledger(tmp_path / "usage.db").close()
        assert {n: oct(m) for n, m in modes(tmp_path).items() if n.startswith("usage")} == {
            n: "0o600" for n in ("usage.db", "usage.db-wal", "usage.db-shm")}
    finally:
        db.close()
