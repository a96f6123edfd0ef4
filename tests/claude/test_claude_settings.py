"""The --settings file run gives Claude Code: our statusLine unless the user has one, and run's
gateway where a settings `env` would send Claude Code elsewhere."""

import json
from pathlib import Path

from freeclaude.claude.settings import for_run
from freeclaude.claude.statusline import command


def configured(env, cwd) -> bool:
    """Whether run leaves the statusLine to a settings file the user has (it then passes none)."""
    return not for_run(env, cwd, [], Path(cwd) / "data", {}, statusline=True).args


GATEWAY = {"ANTHROPIC_BASE_URL": "http://127.0.0.1:40001", "ANTHROPIC_AUTH_TOKEN": "fc-this-run",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}


def test_a_statusline_the_user_configured_is_left_alone(tmp_path):
    user, project = tmp_path / "user", tmp_path / "project"
    (user / ".claude").mkdir(parents=True)
    (project / ".claude").mkdir(parents=True)
    env = {"HOME": str(user)}
    assert not configured(env, project)
    (user / ".claude" / "settings.json").write_text('{"model": "opus"}')
    assert not configured(env, project)
    for path in (user / ".claude" / "settings.json", project / ".claude" / "settings.json",
                 project / ".claude" / "settings.local.json"):
        path.write_text('{"statusLine": {"type": "command", "command": "mine"}}')
        assert configured(env, project), path
        path.unlink()
    (user / ".claude" / "settings.json").write_text('{"statusLine": {"type": "command", // a comment\n}}')
    assert configured(env, project)  # unreadable as JSON: it may have one, so it has one
    (user / ".claude" / "settings.json").unlink()
    other = tmp_path / "elsewhere"
    (other / "settings.json").parent.mkdir()
    (other / "settings.json").write_text('{"statusLine": {"type": "command", "command": "mine"}}')
    assert configured({**env, "CLAUDE_CONFIG_DIR": str(other)}, project)
    (project / ".claude" / "settings.json").write_text('{"statusLine": {"type": "command", "command": "mine"}}')
    assert not configured(env, project / "sub")  # 2.1.330 reads the project's settings from the cwd alone


def test_the_settings_file_run_passes(tmp_path):
    env = {"HOME": str(tmp_path)}
    run = for_run(env, tmp_path, ["-p", "hi"], tmp_path / "data", GATEWAY, statusline=True)
    assert run.args == ["--settings", str(tmp_path / "data" / "statusline-settings.json")] and run.private is None
    setting = json.loads(Path(run.args[1]).read_text())["statusLine"]
    assert setting["type"] == "command" and setting["command"] == command() and setting["refreshInterval"] >= 1
    assert "env" not in json.loads(Path(run.args[1]).read_text())  # nothing to override: no token on disk
    assert for_run(env, tmp_path, ["--settings", "mine.json"], tmp_path / "data", GATEWAY, True).args == []
    assert for_run(env, tmp_path, ["--settings={}"], tmp_path / "data", GATEWAY, True).args == []
    assert for_run(env, tmp_path, [], tmp_path / "data", GATEWAY, statusline=False).args == []


def test_the_gateway_wins_over_a_settings_env_that_names_another(tmp_path):
    """`ide install claude` puts the background gateway in the user's settings `env`, which
    Claude Code applies over its own environment: run's --settings puts run's gateway back."""
    user = tmp_path / "user"
    (user / ".claude").mkdir(parents=True)
    (user / ".claude" / "settings.json").write_text(json.dumps(
        {"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:24817", "ANTHROPIC_AUTH_TOKEN": "fc-background", "FOO": "1"},
         "statusLine": {"type": "command", "command": "mine"}}))
    run = for_run({"HOME": str(user)}, tmp_path, [], tmp_path / "data", GATEWAY, statusline=True)
    written = json.loads(run.private.read_text())
    assert written == {"env": {"ANTHROPIC_BASE_URL": GATEWAY["ANTHROPIC_BASE_URL"],
                               "ANTHROPIC_AUTH_TOKEN": GATEWAY["ANTHROPIC_AUTH_TOKEN"]}}  # theirs: statusLine, FOO
    assert run.args == ["--settings", str(run.private)] and run.private.stat().st_mode & 0o777 == 0o600
    run.remove()
    assert not run.private.exists()


def test_a_settings_file_that_cannot_be_written_is_not_passed(tmp_path):
    (tmp_path / "data").write_text("a file where the data dir should be")
    assert for_run({"HOME": str(tmp_path)}, tmp_path, [], tmp_path / "data", GATEWAY, True).args == []
