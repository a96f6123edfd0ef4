"""The proof of `start` + `ide install claude`: a plain `claude`, started with no freeclaude
variable in its environment, runs its tool loop through the background gateway, because Claude
Code applies the `env` of its user settings; `stats` counts it under Claude Code's own session;
`ide uninstall claude` gives the settings file back byte for byte."""

import asyncio
import json
import os

import pytest
import tomli_w

from freeclaude.profiles.store import template
from tests.emulators import emulate, pointed
from tests.emulators.brain import Writer
from tests.service.test_background import User, free_port

pytestmark = pytest.mark.claude

FILES = ("first.txt", "second.txt")
# The user's own settings, as they keep them: freeclaude must merge into them and give them back.
SETTINGS = b'{\n    "theme": "dark",\n  "env": {"FOO": "bar"},\n  "includeCoAuthoredBy": false\n}'


async def test_a_plain_claude_runs_through_the_background_gateway(tmp_path, claude_bin):
    user = User(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    emulator, server, url = await emulate("openrouter", Writer(project))
    data, keys = pointed(template("openrouter"), url, emulator.key)
    (user.home / "profiles" / "p.toml").write_text(tomli_w.dumps(data))
    user.env.update(keys)
    settings = tmp_path / "user-home" / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_bytes(SETTINGS)
    try:
        r = await user.arun("start", "--profile", "p", "--port", str(free_port()))
        assert r.returncode == 0, r.stderr
        r = await user.arun("ide", "install", "claude")
        assert r.returncode == 0, r.stderr
        assert json.loads(settings.read_text())["env"]["FOO"] == "bar"

        # Claude Code as a user starts it: nothing of freeclaude's (nor the upstream key) in its environment
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ANTHROPIC_", "CLAUDE", "FREECLAUDE")) and k not in keys}
        env.update(HOME=str(tmp_path / "user-home"), COLUMNS="200", CI="1")
        proc = await asyncio.create_subprocess_exec(
            str(claude_bin), "-p", f"Write {FILES[0]} and then {FILES[1]}, one at a time.",
            "--allowedTools", "Write", "--output-format", "json", cwd=project, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 180)
        assert proc.returncode == 0, f"stdout: {out.decode()[-600:]}\nstderr: {err.decode()[-600:]}"
        result = json.loads(out)
        assert [f for f in FILES if (project / f).is_file()] == list(FILES)
        assert f"Wrote {', '.join(FILES)}." in result["result"] and not emulator.rejected
        assert emulator.key not in out.decode() + err.decode()

        stats = json.loads((await user.arun("stats", "--json")).stdout)
        session = stats["by_session"][result["session_id"]]  # Claude Code's own session id
        assert session["requests"] >= 3 and session["errors"] == 0  # two Write turns and the answer, at least
        assert stats["total"]["requests"] == sum(s["requests"] for s in stats["by_session"].values())
        assert "by Claude Code session" in (await user.arun("stats")).stdout
        status = json.loads((await user.arun("status", "--json")).stdout)
        assert status["today"]["sessions"] == 1 and status["gateway"]["requests"] == stats["total"]["requests"]

        r = await user.arun("ide", "uninstall", "claude")
        assert r.returncode == 0 and "restored byte for byte" in r.stderr, r.stderr
        assert settings.read_bytes() == SETTINGS
    finally:
        await user.arun("stop")
        await server.close()
