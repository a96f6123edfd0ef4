"""Port squatting: on a shared machine another user can bind the gateway's port first, and every
Claude Code pointed there would send that process its prompts and the token. `status` and
`doctor` say so, `start` refuses to report a gateway that is not the user's, and the token is
not sent to a listener known to be someone else's. Real listeners on real ports (squatter.py),
run as another user (nobody) where the tests run as root."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from freeclaude.app import app
from freeclaude.gateway import config
from freeclaude.ide import clients
from freeclaude.service import listeners
from tests.service.test_background import User, free_port
from tests.support.squatter import Squatter

NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"  # one another user can run (the venv's may live under /root)
as_nobody = pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK),
    reason="a listener of another user needs root (to start one as nobody) and Linux's /proc/net/tcp")

# kind, run as, what status says holds the port
SQUATTERS = [
    pytest.param("proxy", None, "a server that takes any token, which no freeclaude gateway does", id="a-proxy-taking-any-token"),
    pytest.param("gateway", None, "a freeclaude gateway that does not know your token (another user's, "
                 "or one started with another FREECLAUDE_HOME)",
                 id="another-gateway"),
    pytest.param("web", None, "a server that is not a freeclaude gateway (GET / answered 404)", id="a-web-server"),
    pytest.param("proxy", NOBODY, "a process of another user (nobody, uid 65534)", id="another-users-proxy",
                 marks=as_nobody),
]


def squat(port: int, kind: str, uid: int | None) -> Squatter:
    return Squatter(port, kind, uid, SYSTEM_PYTHON if uid is not None else sys.executable)


def dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


@pytest.mark.parametrize("kind, uid, held_by", SQUATTERS)
def test_a_crashed_gateways_port_taken_by_someone_else(tmp_path, kind, uid, held_by):
    """The gateway crashed (its state file names a pid that no longer runs) and someone took its
    port. Nothing may call that listener the user's gateway, point a Claude Code at it, or send
    it the token before it has shown it is no stranger."""
    user = User(tmp_path)
    port = free_port()
    (user.home / "gateway.json").write_text(json.dumps({
        "pid": dead_pid(), "base_url": f"http://127.0.0.1:{port}", "profile": "p", "started": time.time(),
        "session": "x"}))
    with squat(port, kind, uid) as squatter:
        status = user.status()
        assert status["running"] is False
        assert [(f["port"], f["held_by"]) for f in status["foreign_listeners"]] == [(port, held_by)]
        text = user.run("status")
        assert f"warning: 127.0.0.1:{port} is held by {held_by}, not by your gateway" in text.stderr
        env = user.run("env")
        assert env.returncode == 1 and env.stdout == "" and f"127.0.0.1:{port} is held by {held_by}" in env.stderr
        start = user.run("start", "--profile", "p", "--port", str(port))
        assert start.returncode == 1 and "gateway running" not in start.stderr
        assert f"not started: 127.0.0.1:{port} is held by {held_by}" in start.stderr.replace("\n", "")
        assert not (user.home / "gateway.json").exists()
    token = (user.home / "gateway.token").read_text()
    # only a listener that answered as a freeclaude gateway of the user's own uid is sent the token
    assert (f"Bearer {token}" in squatter.headers) == (kind == "gateway" and uid is None)


@pytest.mark.parametrize("kind, uid, held_by", SQUATTERS)
def test_status_and_doctor_check_where_claude_code_is_sent(tmp_path, monkeypatch, kind, uid, held_by):
    """No gateway has run: the default port, and the port `ide install` wrote, are looked at."""
    default, recorded = free_port(), free_port()
    monkeypatch.setattr(config, "BACKGROUND_PORT", default)
    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path / "fc-home"))
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.setenv("FREECLAUDE_CLAUDE", "/nonexistent/claude")
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    clients.install("claude", [clients.claude_settings()], {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{recorded}",
                                                    "ANTHROPIC_AUTH_TOKEN": "fc-x"})
    with squat(default, kind, uid), squat(recorded, kind, uid):
        status = CliRunner().invoke(app, ["status", "--json"])
        assert status.exit_code == 0
        assert [(f["port"], f["held_by"]) for f in json.loads(status.stdout)["foreign_listeners"]] == sorted(
            [(default, held_by), (recorded, held_by)])
        doctor = CliRunner().invoke(app, ["doctor", "--json"])
        checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
        assert doctor.exit_code == 1
        for port in (default, recorded):
            assert checks[f"port {port}"]["status"] == "fail"
            assert checks[f"port {port}"]["detail"].startswith(f"127.0.0.1:{port} is held by {held_by}")
            assert "--port" in checks[f"port {port}"]["fix"]
    status = CliRunner().invoke(app, ["status", "--json"])
    assert json.loads(status.stdout)["foreign_listeners"] == []  # gone with them


def test_the_users_own_gateway_is_no_squatter(tmp_path):
    user = User(tmp_path)
    port = free_port()
    try:
        assert user.run("start", "--profile", "p", "--port", str(port)).returncode == 0
        status = user.status()
        assert status["running"] and status["foreign_listeners"] == []
        doctor = json.loads(user.run("doctor", "--json").stdout)
        assert not [c for c in doctor["checks"] if c["name"].startswith("port ")]
    finally:
        user.run("stop")


def test_the_sockets_that_take_loopback_connections_are_told_apart():
    port = free_port()
    assert listeners.listening_uids(port) == set()
    for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        with socket.socket(family) as s:
            s.bind((address, port))
            s.listen()
            assert listeners.listening_uids(port) == {os.getuid()}, address
    with socket.socket(socket.AF_INET6) as s:  # IPv6's own loopback: no IPv4 connection reaches it
        s.bind(("::1", port))
        s.listen()
        assert listeners.listening_uids(port) == set()
    with socket.socket() as s:  # bound, not listening
        s.bind(("127.0.0.1", port))
        assert listeners.listening_uids(port) == set()
    assert listeners.listening_uids(port, Path("/nonexistent")) is None  # not Linux: cannot tell


@as_nobody
def test_another_users_listener_is_seen_in_proc_net_tcp():
    port = free_port()
    with squat(port, "web", NOBODY):
        assert listeners.listening_uids(port) == {NOBODY}
        held = listeners.examine(f"http://127.0.0.1:{port}", "fc-secret")
        assert (held.kind, held.who) == (listeners.OTHER, "a process of another user (nobody, uid 65534)")
