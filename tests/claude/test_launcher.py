"""`freeclaude run` with a stand-in `claude`: environment, arguments, exit code, signals,
teardown, and no key leaked anywhere."""

import asyncio
import json
import os
import signal
import socket
import sqlite3
from urllib.parse import urlparse

import pytest

from freeclaude.claude.facts import child_env, compact_env, find_claude, gateway_env, main_model
from freeclaude.claude.launcher import exit_code
from freeclaude.profiles.schema import parse
from freeclaude.service import home
from tests.conftest import KEY
from tests.support.fakes import Json, completion
from tests.support.standin import seen, start_run, until_ready


async def test_environment_arguments_exit_code_and_bill(tmp_path, standin, fake):
    fake.queue(Json(completion({"content": "hello"}, prompt=1234, completion_tokens=56)))
    proc = await start_run(tmp_path, standin, fake.url, "-p", "say hi", "--model", "sonnet", "--ask", "--exit", "7")
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 7
    got = seen(tmp_path)
    # Claude Code's own arguments, after the statusLine setting (no statusLine of the user's here)
    # and lean off's one flag (the profile sets no lean; the stand-in says it is 2.1.330)
    settings = tmp_path / "home" / "statusline-settings.json"
    assert got["argv"] == ["--settings", str(settings), "--exclude-dynamic-system-prompt-sections",
                           "-p", "say hi", "--model", "sonnet", "--ask", "--exit", "7"]
    env = got["env"]
    assert urlparse(env["ANTHROPIC_BASE_URL"]).hostname == "127.0.0.1"
    assert env["ANTHROPIC_AUTH_TOKEN"].startswith("fc-")
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert int(env["API_TIMEOUT_MS"]) >= 600000
    assert env["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] == "8192"  # the sonnet model's output cap
    # --model sonnet: the sonnet model's 16k window, as Claude Code can take it (a share of 100k)
    assert (env["CLAUDE_CODE_AUTO_COMPACT_WINDOW"], env["CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"]) == ("100000", "16")
    assert "ANTHROPIC_API_KEY" not in env and "FAKE_KEY" not in env
    assert KEY not in json.dumps(env)
    assert got["answer"]["content"][0]["text"] == "hello"
    # stdout belongs to claude; the bill goes to stderr
    assert stdout.decode() == "the answer went to stdout\n"
    summary = stderr.decode()
    assert "sonnet" in summary and "1,234" in summary and "56" in summary
    # the port is closed once claude has exited
    with pytest.raises(OSError):
        socket.create_connection((urlparse(env["ANTHROPIC_BASE_URL"]).hostname, urlparse(env["ANTHROPIC_BASE_URL"]).port), 1)
    # the key is nowhere on disk: ledger and log
    home = tmp_path / "home"
    for path in home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    rows = sqlite3.connect(home / "usage.db").execute("SELECT tier, input_tokens, output_tokens FROM attempts").fetchall()
    assert rows == [("sonnet", 1234, 56)]


async def test_quiet_prints_nothing(tmp_path, standin, fake):
    proc = await start_run(tmp_path, standin, fake.url, "--exit", "3", run_opts=["--profile", "p", "--quiet"])
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 3 and stdout == b"" and stderr == b""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
async def test_sigterm_and_sighup_are_forwarded(tmp_path, standin, fake, sig):
    proc = await start_run(tmp_path, standin, fake.url, "--wait")
    await until_ready(tmp_path)
    proc.send_signal(sig)
    await asyncio.wait_for(proc.communicate(), 30)
    assert seen(tmp_path)["signal"] == sig
    assert proc.returncode == 128 + sig


async def test_ctrl_c_reaches_claude_and_freeclaude_survives_to_report(tmp_path, standin, fake):
    proc = await start_run(tmp_path, standin, fake.url, "--wait", new_session=True)
    await until_ready(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the whole foreground group
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert seen(tmp_path)["signal"] == signal.SIGINT
    assert proc.returncode == 130
    assert b"Traceback" not in stderr and b"KeyboardInterrupt" not in stderr
    assert b"no model requests this session" in stderr


async def test_child_killed_by_a_signal(tmp_path, standin, fake):
    proc = await start_run(tmp_path, standin, fake.url, "--wait")
    await until_ready(tmp_path)
    os.kill(seen(tmp_path)["pid"], signal.SIGKILL)
    await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 128 + signal.SIGKILL


def test_missing_claude_says_how_to_install(tmp_path):
    from freeclaude.errors import FreeclaudeError
    with pytest.raises(FreeclaudeError, match="npm install -g @anthropic-ai/claude-code"):
        find_claude({"PATH": str(tmp_path)})


def test_child_env_unit():
    p = parse({"providers": {"a": {"kind": "openai", "base_url": "http://h/v1", "api_key_env": "A_KEY",
                                   "models": {"m": {"context_window": 50000}}}},
               "tiers": {"opus": ["a:m"]}}, "p", "t")
    env = child_env({"A_KEY": "s", "ANTHROPIC_API_KEY": "x", "API_TIMEOUT_MS": "5", "HOME": "/h"}, "http://127.0.0.1:1", "tok",
                    p, [])
    picker = {k: v for k, v in env.items() if k.startswith("ANTHROPIC_DEFAULT_") or "DISCOVERY" in k}
    assert env.pop("FREECLAUDE_SESSIONS_DIR") == str(home.sessions_dir())  # for the statusline
    assert {k: v for k, v in env.items() if k not in picker} == {
        "HOME": "/h", "API_TIMEOUT_MS": "5", "ANTHROPIC_BASE_URL": "http://127.0.0.1:1",
        "ANTHROPIC_AUTH_TOKEN": "tok", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "100000", "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "50",
        "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "8192"}
    assert picker["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "claude-sonnet-5-5"
    assert picker["ANTHROPIC_DEFAULT_SONNET_MODEL_NAME"] == "Sonnet · a:m"  # sonnet borrows the opus chain


def test_a_tier_model_the_user_set_stays_theirs():
    p = parse({"providers": {"a": {"kind": "openai", "base_url": "http://h/v1"}}, "tiers": {"opus": ["a:m"]}}, "p", "t")
    env = child_env({"ANTHROPIC_DEFAULT_HAIKU_MODEL": "mine"}, "http://127.0.0.1:1", "tok", p, [])
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "mine" and "ANTHROPIC_DEFAULT_HAIKU_MODEL_NAME" not in env
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL_NAME"] == "Opus · a:m"


def test_the_window_is_the_main_models():
    p = parse({"providers": {"a": {"kind": "openai", "base_url": "http://h/v1", "models": {
        "big": {"context_window": 300000, "max_output_tokens": 20000}, "small": {"context_window": 120000}}}},
        "tiers": {"opus": ["a:big"], "haiku": ["a:small"]}}, "p", "t")
    for main, window in (("opus", "300000"), ("claude-haiku-5-5", "120000"), ("a:small", "120000"),
                         ("freeclaude/a:small", "120000")):
        assert gateway_env("http://127.0.0.1:1", "tok", p, main)["CLAUDE_CODE_AUTO_COMPACT_WINDOW"] == window, main


def test_large_windows_are_given_as_they_are():
    assert compact_env(262144) == {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "262144"}


@pytest.mark.parametrize("args,model", [([], "opus"), (["--model", "haiku"], "haiku"),
                                        (["--model=claude-sonnet-5-5"], "claude-sonnet-5-5"), (["-p", "--model"], "opus")])
def test_main_model(args, model):
    assert main_model(args) == model


def test_exit_code():
    assert exit_code(0) == 0 and exit_code(3) == 3 and exit_code(-15) == 143
