"""The statusline: the gateway keeps a state file per Claude Code session, and `freeclaude
statusline`, run as Claude Code runs it (its session JSON on stdin, as 2.1.330 sends it), shows
the model that answered, tokens, cost against Anthropic's price, fallbacks and cooldowns; any
failure prints nothing and exits 0. And when `run` gives Claude Code one, and when it does not."""

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from freeclaude.claude.sessions import KEEP_SECONDS, MAX_HELD, Board, read, session_file
from freeclaude.claude.statusline import command, render
from freeclaude.service import home
from tests.conftest import ROOT, TOKEN
from tests.support.fakes import Json, completion, profile

CAPTURE = json.loads((ROOT / "tests" / "captures" / "claude-code-2.1.330-statusline.json").read_text())["stdin"]
SESSION = CAPTURE["session_id"]


def statusline(directory: Path, stdin: bytes | str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`freeclaude statusline` in its own process, as Claude Code runs it."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([sys.executable, "-m", "freeclaude", "statusline"], input=data, capture_output=True,
                          timeout=30, env={**os.environ, "FREECLAUDE_SESSIONS_DIR": str(directory), **(env or {})})


async def ask(server, model="claude-opus-5-5", session=SESSION):
    async with aiohttp.ClientSession() as s:
        async with s.post(server.base_url + "/v1/messages", headers={"Authorization": f"Bearer {TOKEN}",
                                                                     "X-Claude-Code-Session-Id": session},
                          json={"model": model, "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}) as r:
            return r.status


async def test_the_line_shows_what_answered_this_session(tmp_path, fake, gateway):
    fake.default = Json(completion({"content": "ok"}, prompt=1200, completion_tokens=34))
    server = await gateway(profile(fake.url, tiers={"opus": ["fake:up-model"], "haiku": ["fake:small"]},
                                   extra_models={"small": {"input_price": 0.0, "output_price": 0.0}}),
                           state_dir=tmp_path)
    assert await ask(server) == 200
    assert await ask(server, "claude-haiku-5-5") == 200  # a side request on another tier
    assert await ask(server, session="another-session") == 200
    server.flush()
    done = statusline(tmp_path, json.dumps(CAPTURE))
    assert done.returncode == 0 and done.stderr == b""
    # the main loop's model (opus, as the capture says), this session's two requests only
    assert done.stdout.decode() == "fake:up-model · 2.4k in / 68 out · $0.0013 (Anthropic $0.0056)\n"
    on_haiku = {**CAPTURE, "model": {"id": "claude-haiku-5-5", "display_name": "Haiku 5.5"}}
    assert statusline(tmp_path, json.dumps(on_haiku)).stdout.decode().startswith("fake:small · ")


async def test_a_fallback_and_a_cooldown_show(tmp_path, fake, gateway):
    data = {"providers": {"fake": {"kind": "openai", "base_url": fake.url, "api_key_env": "FAKE_KEY",
                                   "models": {"a": {}, "b": {}}}}, "tiers": {"opus": ["fake:a", "fake:b"]}}
    from freeclaude.profiles.schema import parse

    fake.queue(Json({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "30"}),
               Json(completion({"content": "ok"})))
    server = await gateway(parse(data, "chain", "test"), state_dir=tmp_path)
    assert await ask(server) == 200
    server.flush()
    line = statusline(tmp_path, json.dumps(CAPTURE)).stdout.decode()
    assert line.startswith("fake:b (fallback #1) · ") and line.rstrip().endswith("· cooling: fake:a 30s")
    state = read(str(tmp_path), SESSION)
    assert state["requests"] == 1  # two attempts, one request


async def test_a_limit_holding_a_request_back_shows_while_it_waits(tmp_path, fake, gateway):
    # The answer says nothing is left of the minute's requests for 4 s more.
    spent = {"x-ratelimit-limit-requests": "30", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "4s"}
    fake.default = Json(completion({"content": "ok"}), headers=spent)
    server = await gateway(profile(fake.url), state_dir=tmp_path)
    assert await ask(server) == 200
    waiting = asyncio.create_task(ask(server))
    await asyncio.sleep(0.5)
    server.flush()
    line = statusline(tmp_path, json.dumps(CAPTURE)).stdout.decode()
    assert re.search(r" · waiting: fake:up-model requests/min [1-4]s$", line.rstrip()), line
    assert await waiting == 200 and len(fake.received) == 2
    server.flush()
    assert "waiting" not in statusline(tmp_path, json.dumps(CAPTURE)).stdout.decode()


def test_render_matches_the_main_loops_model():
    now = 1000.0
    state = {"input_tokens": 1_500_000, "output_tokens": 999, "cost_usd": 0.5, "list_price_usd": 12.0,
             "routes": {"fake:big": {"tier": "default", "model": "fake:big", "position": 0, "outcome": "ok", "at": 1},
                        "claude-sonnet-5-5": {"tier": "sonnet", "model": "fake:s", "position": 0,
                                              "outcome": "rate_limit_error", "at": 2}},
             "cooling": {"fake:old": now - 1, "fake:s": now + 4.4}}
    # Claude Code shows some ids with a window suffix
    assert render(state, "fake:big[1m]", now) == "fake:big · 1.50M in / 999 out · $0.50 (Anthropic $12.00) · cooling: fake:s 4s"
    # another name of the same tier; a failure says so
    assert render(state, "claude-sonnet-4-6", now).startswith("fake:s failed (rate_limit_error) · ")
    # no request of the main loop's yet: the totals alone
    assert render(state, "claude-opus-5-5", now).startswith("1.50M in / 999 out · ")
    assert render(None, "claude-opus-5-5") == ""


@pytest.mark.parametrize("stdin", [b"", b"not json", b"[]", json.dumps({"session_id": "../../etc/passwd"}).encode(),
                                   json.dumps({"session_id": "no-such-session"}).encode(), b"\xff\xfe"])
def test_anything_wrong_prints_nothing_and_exits_0(tmp_path, stdin):
    done = statusline(tmp_path, stdin)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_a_broken_state_file_prints_nothing(tmp_path):
    (tmp_path / f"{SESSION}.json").write_text('{"routes": 3, "input_tokens": "x"}')
    done = statusline(tmp_path, json.dumps(CAPTURE))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_a_closed_stdout_is_no_error(tmp_path):
    Board(str(tmp_path)).record(_row(), {})
    proc = subprocess.Popen([sys.executable, "-m", "freeclaude", "statusline"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "FREECLAUDE_SESSIONS_DIR": str(tmp_path)})
    proc.stdout.close()  # Claude Code gave up on it
    _, err = proc.communicate(json.dumps(CAPTURE).encode(), timeout=30)
    assert proc.returncode == 0 and err == b""


def test_without_the_variable_it_finds_the_data_dir(tmp_path):
    Board(str(tmp_path / "sessions")).record(_row(), {})
    env = {k: v for k, v in os.environ.items() if k != "FREECLAUDE_SESSIONS_DIR"}
    done = subprocess.run([sys.executable, "-m", "freeclaude", "statusline"], input=json.dumps(CAPTURE).encode(),
                          capture_output=True, timeout=30, env={**env, "FREECLAUDE_HOME": str(tmp_path)})
    assert done.stdout.decode().startswith("fake:m · 100 in / 5 out")


# ---------------------------------------------------------------- the gateway's side


def _row(session=SESSION, **kw):
    from freeclaude.usage.ledger import Row

    fields = dict(session="g", request_id="req_1", profile="p", tier="opus", requested_model="claude-opus-5-5",
                  provider="fake", upstream_model="m", stream=True, position=0, attempt=0, input_tokens=100,
                  output_tokens=5, cost_usd=0.001, list_price_usd=0.01, client_session=session)
    fields.update(kw)
    return Row(**fields)


def test_a_resumed_session_goes_on_from_its_file(tmp_path):
    Board(str(tmp_path)).record(_row(), {})
    Board(str(tmp_path)).record(_row(request_id="req_2"), {})  # a new gateway (the next run), same session
    state = read(str(tmp_path), SESSION)
    assert (state["requests"], state["input_tokens"], state["output_tokens"]) == (2, 200, 10)


def test_sessions_without_a_usable_id_leave_no_file(tmp_path):
    board = Board(str(tmp_path))
    for sid in (None, "", "../x", "a/b", "x" * 101):
        board.record(_row(session=sid), {})
    assert list(tmp_path.iterdir()) == []
    assert session_file(str(tmp_path), "../x") is None


def test_old_files_are_pruned_and_memory_is_bounded(tmp_path):
    old, fresh = tmp_path / "old.json", tmp_path / "fresh.json"
    old.write_text("{}")
    fresh.write_text("{}")
    os.utime(old, (time.time() - KEEP_SECONDS - 60,) * 2)
    board = Board(str(tmp_path))
    board.prune()
    assert not old.exists() and fresh.exists()
    for i in range(MAX_HELD + 5):
        board.record(_row(session=f"s{i}"), {})
    assert len(board._held) == MAX_HELD and "s0" not in board._held and f"s{MAX_HELD + 4}" in board._held


@pytest.mark.parametrize("platform,executable,expected", [
    ("linux", "/opt/my venv/bin/python", "'/opt/my venv/bin/python' -m freeclaude statusline"),
    ("win32", r"C:\Program Files\Python\python.exe", r'"C:\Program Files\Python\python.exe" -m freeclaude statusline'),
])
def test_the_command_quotes_the_interpreter(platform, executable, expected):
    assert command(executable, platform) == expected


def test_the_sessions_dir_is_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path))
    assert home.sessions_dir() == tmp_path / "sessions"
