"""`freeclaude doctor`: says what is wrong and how to fix it; exit code 1 when anything is."""

import json
import sys

from tests.conftest import KEY
from tests.service.test_background import User, free_port
from tests.support.fakes import Json, completion


def claude_standin(folder) -> str:
    """What `claude --version` prints (Claude Code 2.1.330, as run here)."""
    path = folder / "claude"
    path.write_text(f"#!{sys.executable}\nprint('2.1.330 (Claude Code)')\n")
    path.chmod(0o755)
    return str(path)


def doctor_user(tmp_path, url: str) -> User:
    user = User(tmp_path, url)
    (user.home / "config.toml").write_text('default_profile = "p"\n')
    user.env["FREECLAUDE_CLAUDE"] = claude_standin(tmp_path)
    return user


async def doctor(user: User) -> tuple[int, dict]:
    r = await user.arun("doctor", "--json")
    return r.returncode, {c["name"]: c for c in json.loads(r.stdout)["checks"]}


async def test_all_well_is_exit_code_0(tmp_path, fake):
    fake.default = Json(completion({"content": "pong"}))
    user = doctor_user(tmp_path, fake.url)
    code, checks = await doctor(user)
    assert code == 0, checks
    assert checks["claude"]["detail"].endswith("(Claude Code 2.1.330)")
    assert checks["$FAKE_KEY"]["status"] == "ok"
    tier = checks["opus/sonnet/haiku/fable (p)"]
    assert tier["status"] == "ok" and tier["detail"].startswith("fake:up-model answered in")
    assert fake.last.body["model"] == "up-model" and fake.last.body["max_tokens"] == 64
    assert checks["gateway"]["status"] == "ok"
    human = await user.arun("doctor")
    assert human.returncode == 0 and "ok   claude:" in human.stdout and KEY not in human.stdout + human.stderr


async def test_a_missing_key_is_named_never_shown(tmp_path, fake):
    user = doctor_user(tmp_path, fake.url)
    user.env["FAKE_KEY"] = ""
    code, checks = await doctor(user)
    assert code == 1
    assert checks["$FAKE_KEY"] == {"name": "$FAKE_KEY", "status": "fail", "detail": "not set; profile p needs it",
                                   "fix": "export FAKE_KEY=<your key>"}
    assert not fake.received  # nothing is probed without its key


async def test_a_tier_that_does_not_answer_fails(tmp_path, fake):
    fake.default = Json({"error": {"message": "model overloaded"}}, status=503)
    code, checks = await doctor(doctor_user(tmp_path, fake.url))
    assert code == 1
    tier = checks["opus/sonnet/haiku/fable (p)"]
    assert tier["status"] == "fail" and "fake:up-model: 5" in tier["detail"] and "overloaded" in tier["detail"]
    assert "freeclaude profile test p" in tier["fix"]


async def test_claude_not_found(tmp_path, fake):
    fake.default = Json(completion({"content": "pong"}))
    user = doctor_user(tmp_path, fake.url)
    user.env["FREECLAUDE_CLAUDE"] = str(tmp_path / "nowhere" / "claude")
    code, checks = await doctor(user)
    assert code == 1 and checks["claude"]["fix"] == "npm install -g @anthropic-ai/claude-code"


async def test_settings_pointing_at_a_gateway_that_moved_or_stopped(tmp_path, fake):
    fake.default = Json(completion({"content": "pong"}))
    user = doctor_user(tmp_path, fake.url)
    first, second = free_port(), free_port()
    try:
        assert (await user.arun("start", "--port", str(first))).returncode == 0
        assert (await user.arun("ide", "install", "claude")).returncode == 0
        code, checks = await doctor(user)
        assert code == 0 and checks["ide claude"]["status"] == "ok", checks
        assert (await user.arun("stop")).returncode == 0
        code, checks = await doctor(user)
        assert code == 1 and checks["gateway"]["detail"] == "not running, and the settings of claude point at it"
        assert (await user.arun("start", "--port", str(second))).returncode == 0
        code, checks = await doctor(user)
        assert code == 1
        assert checks["ide claude"]["detail"].endswith(f"points at http://127.0.0.1:{first}, but the gateway runs "
                                                       f"at http://127.0.0.1:{second}")
    finally:
        await user.arun("stop")


async def test_the_background_gateways_profile_must_still_load(tmp_path, fake):
    fake.default = Json(completion({"content": "pong"}))
    user = doctor_user(tmp_path, fake.url)
    try:
        assert (await user.arun("start", "--profile", "q", "--port", str(free_port()))).returncode == 0
        (user.home / "profiles" / "q.toml").unlink()
        code, checks = await doctor(user)
        assert code == 1 and checks["profile q"]["detail"].startswith("the background gateway's: no profile named 'q'")
    finally:
        await user.arun("stop")


async def test_a_settings_file_it_cannot_read_is_a_failed_check(tmp_path, fake):
    fake.default = Json(completion({"content": "pong"}))
    user = doctor_user(tmp_path, fake.url)
    try:
        assert (await user.arun("start", "--port", str(free_port()))).returncode == 0
        assert (await user.arun("ide", "install", "claude")).returncode == 0
        settings = tmp_path / "user-home" / ".claude" / "settings.json"
        settings.write_bytes(b"\xff" + settings.read_bytes())
        code, checks = await doctor(user)
        assert code == 1 and checks["ide claude"]["status"] == "fail"
        assert checks["ide claude"]["detail"] == f"{settings} is not UTF-8 text: freeclaude left it untouched"
        assert checks["gateway"]["status"] == "ok"  # and the rest is still checked
    finally:
        await user.arun("stop")
