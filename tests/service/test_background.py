"""`freeclaude start | stop | status | env`: the gateway in the background, driven through the
real CLI, each command its own process, as a user runs them."""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
import pytest
import tomli_w

from freeclaude.commands import env as env_command
from freeclaude.gateway.config import BACKGROUND_PORT
from freeclaude.service import background, listeners, processes
from tests.conftest import KEY
from tests.support.fakes import Json, completion, profile


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class User:
    """A freeclaude home with profile `p` (and `q`) and the environment a user's shell has."""

    def __init__(self, root: Path, url: str = "http://127.0.0.1:9/v1") -> None:
        self.home = root / "fc-home"
        (self.home / "profiles").mkdir(parents=True)
        for name in ("p", "q"):
            (self.home / "profiles" / f"{name}.toml").write_text(tomli_w.dumps(profile(url).data))
        (root / "user-home").mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE", "FREECLAUDE"))}
        self.env.update(FREECLAUDE_HOME=str(self.home), HOME=str(root / "user-home"), FAKE_KEY=KEY, COLUMNS="200")

    def run(self, *args, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "freeclaude", *args], env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=60)

    async def arun(self, *args) -> subprocess.CompletedProcess:
        """The same, without blocking the loop a fake upstream in this test answers on."""
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "freeclaude", *args, env=self.env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())

    def status(self) -> dict:
        r = self.run("status", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def state(self) -> dict:
        return json.loads((self.home / "gateway.json").read_text())


@pytest.fixture
def user(tmp_path):
    u = User(tmp_path)
    yield u
    u.run("stop")
    if (u.home / "gateway.json").exists():  # a test that failed half way: end what it started
        os.kill(u.state()["pid"], signal.SIGKILL)


def gone(pid: int, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if processes.alive(pid) is False:
            return True
        time.sleep(0.05)
    return False


async def test_start_serve_status_env_stop(tmp_path, fake):
    fake.default = Json(completion({"content": "from the background"}))
    user = User(tmp_path, fake.url)
    port = free_port()
    try:
        r = await user.arun("start", "--profile", "p", "--port", str(port))
        assert r.returncode == 0, r.stderr
        assert f"gateway running at http://127.0.0.1:{port} (profile p" in r.stderr
        status = json.loads((await user.arun("status", "--json")).stdout)
        assert status["running"] is True and status["base_url"] == f"http://127.0.0.1:{port}"
        assert status["profile"] == "p" and status["port"] == port and status["uptime_s"] >= 0
        pid = status["pid"]
        token = (user.home / "gateway.token").read_text().strip()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert token.encode() not in f.read()  # `ps` shows it to every user: the gateway reads a file
        exports = (await user.arun("env")).stdout
        # a real shell reads the lines: what it ends up with is what Claude Code would get
        shell = subprocess.run(["sh", "-c", 'eval "$(cat)"; env'], input=exports, capture_output=True, text=True,
                               env={"ANTHROPIC_API_KEY": "sk-ant-mine", "PATH": os.environ["PATH"]})
        got = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
        assert got["ANTHROPIC_BASE_URL"] == status["base_url"] and "ANTHROPIC_API_KEY" not in got
        assert got["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1" and got["API_TIMEOUT_MS"]
        body = {"model": "claude-opus-5-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
        async with aiohttp.ClientSession() as s:
            async with s.post(status["base_url"] + "/v1/messages", json=body,
                              headers={"Authorization": f"Bearer {got['ANTHROPIC_AUTH_TOKEN']}",
                                       "X-Claude-Code-Session-Id": "cc-session-1"}) as resp:
                assert resp.status == 200 and (await resp.json())["content"][0]["text"] == "from the background"
        status = json.loads((await user.arun("status", "--json")).stdout)
        assert status["today"]["requests"] == 1 and status["today"]["sessions"] == 1
        assert status["gateway"]["requests"] == 1
        assert "today: 1 requests" in (await user.arun("status")).stdout
        stats = json.loads((await user.arun("stats", "--json")).stdout)
        assert list(stats["by_session"]) == ["cc-session-1"]
        r = await user.arun("stop")
        assert r.returncode == 0 and f"stopped the gateway at {status['base_url']} (pid {pid})" in r.stderr
        assert gone(pid) and not (user.home / "gateway.json").exists()
        assert (await user.arun("status", "--json")).stdout.count('"running": false') == 1
        assert KEY not in (user.home / "logs" / "gateway.log").read_text()
    finally:
        await user.arun("stop")


def test_the_token_survives_restarts_and_is_private(user):
    port = str(free_port())
    assert user.run("start", "--profile", "p", "--port", port).returncode == 0
    token = (user.home / "gateway.token").read_text()
    first = user.state()["pid"]
    assert user.run("stop").returncode == 0
    assert user.run("start", "--profile", "p", "--port", port).returncode == 0
    assert (user.home / "gateway.token").read_text() == token and user.state()["pid"] != first
    assert f"ANTHROPIC_AUTH_TOKEN={token}" in user.run("env").stdout
    for name in ("gateway.token", "gateway.json"):
        assert (user.home / name).stat().st_mode & 0o777 == 0o600


def test_a_second_start_says_where_it_runs(user):
    port = str(free_port())
    assert user.run("start", "--profile", "p", "--port", port).returncode == 0
    pid = user.state()["pid"]
    again = user.run("start", "--profile", "p")
    assert again.returncode == 0 and f"already running at http://127.0.0.1:{port} (profile p, pid {pid})" in again.stderr
    other = user.run("start", "--profile", "q")
    assert other.returncode == 1 and "`freeclaude stop` it first" in other.stderr
    assert user.run("start", "--port", str(free_port())).returncode == 1
    assert user.state()["pid"] == pid


def test_the_default_port_is_fixed(user):
    r = user.run("start", "--profile", "p")
    assert r.returncode == 0, r.stderr
    assert user.status()["base_url"] == f"http://127.0.0.1:{BACKGROUND_PORT}"


def test_a_crash_leaves_a_stale_state_that_start_recovers(user):
    port = str(free_port())
    assert user.run("start", "--profile", "p", "--port", port).returncode == 0
    pid = user.state()["pid"]
    os.kill(pid, signal.SIGKILL)  # no handler runs: the state file stays behind
    assert gone(pid)
    status = user.status()
    assert (status["running"], status["stale"]) == (False, True)
    env = user.run("env")
    assert env.returncode == 1 and env.stdout == ""
    assert f"no background gateway is running (the last one did not stop cleanly: pid {pid} no longer runs)" in env.stderr
    again = user.run("start", "--profile", "p", "--port", port)
    assert again.returncode == 0 and "removed a stale gateway.json" in again.stderr
    assert user.status()["running"] and user.state()["pid"] != pid


def dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


@pytest.mark.parametrize("field, value", [("pid", "1"), ("base_url", ["http://127.0.0.1:9"]),
                                          ("base_url", "http://127.0.0.1:99999")])
def test_a_state_file_no_gateway_wrote_is_as_good_as_none(tmp_path, field, value):
    user = User(tmp_path)
    state = {"pid": dead_pid(), "base_url": "http://127.0.0.1:9", "profile": "p", "started": 0, "session": "x"}
    (user.home / "gateway.json").write_text(json.dumps({**state, field: value}))
    for args in (("status", "--json"), ("stop",), ("env",)):
        r = user.run(*args)
        assert "Traceback" not in r.stderr, args
    assert user.status()["running"] is False


@pytest.mark.parametrize("token", [b"\xff\xfe", None])
def test_a_token_file_that_is_not_one_is_named(tmp_path, token):
    user = User(tmp_path)
    path = user.home / "gateway.token"
    if token is None:
        path.mkdir()  # a folder in its place
    else:
        path.write_bytes(token)
    (user.home / "gateway.json").write_text(json.dumps(
        {"pid": dead_pid(), "base_url": "http://127.0.0.1:9", "profile": "p", "started": 0, "session": "x"}))
    for args in (("status",), ("start", "--profile", "p", "--port", str(free_port()))):
        r = user.run(*args)
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert r.stderr.startswith(f"freeclaude: {path} cannot be read as a token (")


def test_a_state_naming_a_live_process_that_is_not_ours_is_left_alone(user):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead_url = f"http://127.0.0.1:{free_port()}"
        (user.home / "gateway.json").write_text(json.dumps(
            {"pid": sleeper.pid, "base_url": dead_url, "profile": "p", "started": time.time(), "session": "x"}))
        assert user.status()["stale"]
        r = user.run("stop")
        assert f"pid {sleeper.pid} runs, but is not a freeclaude gateway answering at {dead_url} (left alone)" in r.stderr
        assert sleeper.poll() is None and not (user.home / "gateway.json").exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_gateway_that_cannot_start_says_why(user):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = user.run("start", "--profile", "p", "--port", str(port))
    assert r.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr  # the line from its log, shown here
    assert "the gateway exited with code 1 before it answered; its log:" in r.stderr
    assert not (user.home / "gateway.json").exists()
    missing = user.run("start", "--profile", "p", env={"FAKE_KEY": ""})
    assert missing.returncode == 1 and "needs its key in $FAKE_KEY" in missing.stderr


def test_start_detaches(user):
    assert user.run("start", "--profile", "p", "--port", str(free_port())).returncode == 0
    pid = user.state()["pid"]
    assert os.getsid(pid) == pid  # its own session: no terminal of ours, no hangup from one
    assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
    assert os.readlink(f"/proc/{pid}/fd/2") == str(user.home / "logs" / "gateway.log")


def test_stop_the_windows_way(user, monkeypatch):
    """On Windows os.kill is TerminateProcess and a pid cannot be asked whether it lives: stop
    waits for the gateway to stop answering, and never reaches for SIGKILL."""
    assert user.run("start", "--profile", "p", "--port", str(free_port())).returncode == 0
    pid = user.state()["pid"]
    monkeypatch.setenv("FREECLAUDE_HOME", str(user.home))
    try:
        state, said = background.stop(platform="win32")
        assert said.startswith("stopped the gateway") and not listeners.examine(state.base_url, background.token()).ours
        assert gone(pid, 10)
    finally:
        if processes.alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_platform_branches():
    assert background.detach_options("win32") == {"creationflags": 0x00000008 | 0x00000200}
    assert background.detach_options("linux") == {"start_new_session": True}
    assert processes.alive(os.getpid(), "win32") is None
    assert processes.alive(os.getpid(), "linux") is True
    assert env_command.default_shell({}, "win32") == "powershell"
    assert env_command.default_shell({"SHELL": "/usr/bin/fish"}, "linux") == "fish"
    assert env_command.default_shell({"SHELL": "/bin/zsh"}, "darwin") == "sh"


TRICKY = "it's a \\path\\ with $HOME, `cmd`, \"quotes\" and a newline\nhere"


def test_sh_lines_survive_a_real_shell():
    lines = env_command.lines({"FC_TRICKY": TRICKY}, "sh")
    done = subprocess.run(["sh", "-c", 'eval "$(cat)"; printf %s "$FC_TRICKY"'], input="\n".join(lines),
                          capture_output=True, text=True)
    assert done.stdout == TRICKY


def _fish_single_quoted(word: str) -> str:
    """fish's reading of a single-quoted word: inside, only \\' and \\\\ are escapes (fish-language(1),
    "Quotes", checked 2026-12-01)."""
    assert word[0] == word[-1] == "'"
    out, i, body = [], 0, word[1:-1]
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in "'\\":
            out.append(body[i + 1])
            i += 2
        else:
            assert body[i] != "'", "an unescaped quote would end the word"
            out.append(body[i])
            i += 1
    return "".join(out)


def _powershell_single_quoted(word: str) -> str:
    """PowerShell's single-quoted string: verbatim, a quote written twice stands for one
    (about_Quoting_Rules, learn.microsoft.com, checked 2026-12-01)."""
    assert word[0] == word[-1] == "'"
    body = word[1:-1]
    assert "'" not in body.replace("''", ""), "a lone quote would end the string"
    return body.replace("''", "'")


def test_fish_and_powershell_lines_read_back_as_written():
    fish_set, *fish_unset = env_command.lines({"FC_TRICKY": TRICKY}, "fish")
    assert fish_set.startswith("set -gx FC_TRICKY ") and fish_unset[0] == "set -e ANTHROPIC_API_KEY"
    assert _fish_single_quoted(fish_set.split(" ", 3)[3]) == TRICKY
    ps_set, *ps_unset = env_command.lines({"FC_TRICKY": TRICKY}, "powershell")
    assert ps_set.startswith("$env:FC_TRICKY = ")
    assert _powershell_single_quoted(ps_set.split(" = ", 1)[1]) == TRICKY
    assert ps_unset[0] == "Remove-Item Env:ANTHROPIC_API_KEY -ErrorAction SilentlyContinue"


def test_env_in_each_shell_names_the_same_variables(user):
    assert user.run("start", "--profile", "p", "--port", str(free_port())).returncode == 0
    pattern = {"sh": r"export (\w+)=", "fish": r"set -gx (\w+) ", "powershell": r"\$env:(\w+) = "}
    names = {}
    for shell, assign in pattern.items():
        r = user.run("env", "--shell", shell)
        assert r.returncode == 0, r.stderr
        names[shell] = re.findall(assign, r.stdout)
    assert names["sh"] == names["fish"] == names["powershell"]
    assert {"ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_MAX_OUTPUT_TOKENS"} <= set(names["sh"])
    assert user.run("env", "--shell", "csh").returncode == 2  # Typer refuses what is not a choice


def test_a_large_log_is_rotated_at_start(user):
    log = user.home / "logs" / "gateway.log"
    log.parent.mkdir(parents=True)
    with open(log, "wb") as f:
        f.write(b"an old line\n")
        f.truncate(background.LOG_ROTATE_BYTES + 1)
    assert user.run("start", "--profile", "p", "--port", str(free_port())).returncode == 0
    assert (log.parent / "gateway.log.1").read_bytes().startswith(b"an old line\n")
    assert log.stat().st_size < 1000 and "gateway listening on" in log.read_text()


def test_a_gateway_slow_to_answer_is_not_taken_for_stale(user):
    """Its pid lives, so it is given longer: stopped for 3 s (as a loaded machine might starve
    it), it still counts as running, and its state file stays."""
    assert user.run("start", "--profile", "p", "--port", str(free_port())).returncode == 0
    pid = user.state()["pid"]
    os.kill(pid, signal.SIGSTOP)
    resume = threading.Timer(3, os.kill, (pid, signal.SIGCONT))
    resume.start()
    try:
        status = user.status()
    finally:
        resume.join()
    assert status["running"] and (user.home / "gateway.json").exists()
