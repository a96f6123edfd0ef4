"""Background sessions Claude Code starts from inside `run` (2.1.330: a daemon, detached, with
run's gateway in its environment) keep a gateway to talk to: run serves until the daemon ends."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

from freeclaude.claude.daemon import LOCK, daemon
from freeclaude.service.processes import alive
from tests.support.standin import start_run, until_ready


def lock(tmp_path, pid: int, spawner: int, cwd: str = "/somewhere", started: float | None = None) -> None:
    started = time.time() if started is None else started
    (tmp_path / LOCK).write_text(json.dumps({"pid": pid, "startedAt": int(started * 1000), "origin": "transient",
                                             "spawnedBy": {"label": "claude", "cwd": cwd, "pid": spawner}}))


def test_a_daemon_our_claude_started_is_found_while_it_lives(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        now = time.time()
        lock(tmp_path, proc.pid, spawner=4242)
        assert daemon(tmp_path, 4242, now - 5, now + 5, "/here") == proc.pid  # started by our child
        assert daemon(tmp_path, 1111, now - 5, now + 5, "/here") is None  # by someone else, elsewhere
        lock(tmp_path, proc.pid, spawner=1111, cwd="/here")
        assert daemon(tmp_path, 4242, now - 5, now + 5, "/here") == proc.pid  # by a wrapper, here, meanwhile
        assert daemon(tmp_path, 4242, now + 60, now + 70, "/here") is None  # not while ours ran
    finally:
        proc.kill()
        proc.wait()
    lock(tmp_path, proc.pid, spawner=4242)
    assert daemon(tmp_path, 4242, 0, time.time() + 5, "/here") is None  # ended


def test_no_lock_or_a_strange_one_is_no_daemon(tmp_path):
    assert daemon(tmp_path, 1, 0, time.time(), "/") is None
    for text in ("", "[]", '{"pid": "x"}', '{"spawnedBy": 3}', "{"):
        (tmp_path / LOCK).write_text(text)
        assert daemon(tmp_path, 1, 0, time.time(), "/") is None, text


def test_alive_on_each_platform():
    assert alive(os.getpid()) and not alive(2 ** 22 + 12345)
    # Windows asks for the exit code (os.kill there would end the process); elsewhere that call
    # is not to be had, which reads as "cannot tell", never as an error
    assert alive(os.getpid(), platform="win32") is (True if sys.platform == "win32" else None)  # no Windows API here


async def test_run_serves_a_daemon_left_behind_until_it_ends(tmp_path, standin, fake):
    from tests.support.fakes import Json, completion

    fake.default = Json(completion({"content": "still here"}, prompt=10, completion_tokens=2))
    proc = await start_run(tmp_path, standin, fake.url, "--daemon", "--exit", "0")
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    text = stderr.decode()
    assert proc.returncode == 0
    assert "background sessions use this gateway" in text
    # the daemon asked after the stand-in (Claude Code) had exited, and was answered
    answer = json.loads((tmp_path / "standin.json.daemon").read_text())["answer"]
    assert answer["content"][0]["text"] == "still here"
    assert "sonnet" in text  # its request is on the bill


async def test_ctrl_c_stops_serving_a_daemon_at_once(tmp_path, standin, fake):
    proc = await start_run(tmp_path, standin, fake.url, "--daemon", "--exit", "0",
                           env={"STANDIN_DAEMON_DELAY": "30"}, new_session=True)
    daemon_pid = None
    try:
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert b"background sessions use this gateway" in line
        daemon_pid = json.loads((tmp_path / "user-home" / ".claude" / LOCK).read_text())["pid"]
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal's whole foreground group
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0 and b"Traceback" not in stderr and b"no model requests" in stderr
        assert alive(daemon_pid)  # it was not ours to end
    finally:
        if daemon_pid:
            os.kill(daemon_pid, signal.SIGKILL)


async def test_told_to_stop_it_does_not_wait_for_a_daemon(tmp_path, standin, fake):
    proc = await start_run(tmp_path, standin, fake.url, "--daemon", "--wait", env={"STANDIN_DAEMON_DELAY": "30"})
    daemon_pid = None
    try:
        await until_ready(tmp_path)  # the lock is written before
        daemon_pid = json.loads((tmp_path / "user-home" / ".claude" / LOCK).read_text())["pid"]
        proc.send_signal(signal.SIGTERM)  # to freeclaude alone, as a service manager sends it
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 128 + signal.SIGTERM and b"background sessions" not in stderr
    finally:
        if daemon_pid:
            os.kill(daemon_pid, signal.SIGKILL)
