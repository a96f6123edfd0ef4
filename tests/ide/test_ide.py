"""`freeclaude ide install|uninstall`: the gateway's variables in each client's settings, and the
files given back as they were."""

import json
import os
import stat

import pytest

from freeclaude.commands import ide as ide_command
from freeclaude.errors import FreeclaudeError
from freeclaude.ide import clients, jsonc
from tests.service.test_background import User, free_port

VARS = {"ANTHROPIC_BASE_URL": "http://127.0.0.1:24817", "ANTHROPIC_AUTH_TOKEN": "fc-token",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "API_TIMEOUT_MS": "1800000"}
# A settings file as people keep them: their own order, spacing, unicode, no final newline.
USERS_OWN = ('{"model":"opus",   "env" : {"FOO": "bär", "ANTHROPIC_BASE_URL": "https://corp.example"},\n'
             '"permissions": {"allow": ["Bash(ls:*)"]}}').encode()


@pytest.fixture
def homes(tmp_path, monkeypatch):
    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path / "fc-home"))
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    (tmp_path / "user-home").mkdir()
    return tmp_path / "user-home"


def settings_path(home):
    return home / ".claude" / "settings.json"


def test_install_creates_what_is_missing_and_uninstall_takes_it_all_away(homes):
    s = clients.claude_settings()
    assert s.path == settings_path(homes)
    clients.install("claude", [s], VARS)
    assert json.loads(s.path.read_text()) == {"env": VARS}
    assert clients.uninstall("claude") == [f"{s.path}: removed (freeclaude had created it)"]
    assert not (homes / ".claude").exists()  # the folder freeclaude made goes too
    assert clients.uninstall("claude") == ["nothing of freeclaude's is installed for claude"]


@pytest.mark.parametrize("raw", [USERS_OWN, b"\xef\xbb\xbf" + USERS_OWN, USERS_OWN.replace(b"\n", b"\r\n"), b"{}", b""])
def test_uninstall_gives_back_the_very_bytes(homes, raw):
    path = settings_path(homes)
    path.parent.mkdir()
    path.write_bytes(raw)
    clients.install("claude", [clients.claude_settings()], VARS)
    data = json.loads(path.read_bytes().decode("utf-8-sig"))
    assert data["env"]["ANTHROPIC_BASE_URL"] == VARS["ANTHROPIC_BASE_URL"]
    if raw.strip(b"\xef\xbb\xbf"):
        assert data.get("model", "opus") == "opus"
    clients.install("claude", [clients.claude_settings()], {**VARS, "ANTHROPIC_BASE_URL": "http://127.0.0.1:9999"})  # again
    assert clients.uninstall("claude") == [f"{path}: restored byte for byte"]
    assert path.read_bytes() == raw


def test_edits_made_in_between_survive_and_replaced_values_come_back(homes):
    path = settings_path(homes)
    path.parent.mkdir()
    path.write_bytes(USERS_OWN)
    clients.install("claude", [clients.claude_settings()], VARS)
    data = json.loads(path.read_text())
    data["theme"] = "light"  # as Claude Code's /config would write it
    data["env"]["BAR"] = "baz"
    path.write_text(json.dumps(data, indent=2))
    said = clients.uninstall("claude")
    assert said == [f"{path}: took out what freeclaude had put in; your changes since stay"]
    assert json.loads(path.read_text()) == {"model": "opus", "theme": "light",
                                            "env": {"FOO": "bär", "ANTHROPIC_BASE_URL": "https://corp.example", "BAR": "baz"},
                                            "permissions": {"allow": ["Bash(ls:*)"]}}


@pytest.mark.parametrize("raw, error", [(b'{"env": {', "is not valid JSON"), (b"\xff\xfe{}", "is not UTF-8"),
                                        (b'{"env": {"A": 1,},}', "is not valid JSON")])
def test_a_file_that_cannot_be_read_is_refused_and_left_alone(homes, raw, error):
    path = settings_path(homes)
    path.parent.mkdir()
    path.write_bytes(raw)
    with pytest.raises(FreeclaudeError, match=error):
        clients.install("claude", [clients.claude_settings()], VARS)
    assert path.read_bytes() == raw and clients.records("claude") == {}


def test_a_symlinked_settings_file_stays_a_link(homes):
    dotfiles = homes / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "claude.json").write_bytes(USERS_OWN)
    (homes / ".claude").mkdir()
    settings_path(homes).symlink_to(dotfiles / "claude.json")
    clients.install("claude", [clients.claude_settings()], VARS)
    assert settings_path(homes).is_symlink()
    assert json.loads((dotfiles / "claude.json").read_text())["env"]["ANTHROPIC_AUTH_TOKEN"] == "fc-token"
    clients.uninstall("claude")
    assert settings_path(homes).is_symlink() and (dotfiles / "claude.json").read_bytes() == USERS_OWN


def test_claude_config_dir_moves_the_settings(homes, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "elsewhere"))
    assert clients.claude_settings().path == tmp_path / "elsewhere" / "settings.json"


def test_the_records_are_private_and_keep_the_old_file(homes):
    path = settings_path(homes)
    path.parent.mkdir()
    path.write_bytes(USERS_OWN)
    clients.install("claude", [clients.claude_settings()], VARS)
    record_file = homes.parent / "fc-home" / "ide" / "claude.json"
    assert stat.S_IMODE(record_file.stat().st_mode) == 0o600  # it holds the user's own values


@pytest.mark.parametrize("platform, root", [("linux", ".config"), ("darwin", "Library/Application Support"),
                                            ("win32", "AppData/Roaming")])
def test_vscode_settings_where_each_platform_keeps_them(homes, platform, root):
    env = {"APPDATA": str(homes / "AppData" / "Roaming")} if platform == "win32" else {}
    for variant in ("Code", "VSCodium"):
        (homes / root / variant).mkdir(parents=True)
    found = [s.path for s in clients.vscode_settings(platform, env)]
    assert found == [homes / root / v / "User" / "settings.json" for v in ("Code", "VSCodium")]
    assert all(not s.strict for s in clients.vscode_settings(platform, env))


def test_xdg_config_home_moves_vscode_on_linux(homes, tmp_path):
    (tmp_path / "xdg" / "Cursor").mkdir(parents=True)
    found = clients.vscode_settings("linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert [s.path for s in found] == [tmp_path / "xdg" / "Cursor" / "User" / "settings.json"]


VSCODE = (b'// VS Code user settings\n{\n    "editor.fontSize": 14, // big\n    /* the extension */\n'
          b'    "claudeCode.preferredLocation": "panel",\n    "files.exclude": {"**/.git": true,},\n}\n')


def test_vscode_cursor_vscodium_through_the_cli(tmp_path):
    user = User(tmp_path)
    config = tmp_path / "user-home" / ".config"
    (config / "Code" / "User").mkdir(parents=True)
    (config / "Code" / "User" / "settings.json").write_bytes(VSCODE)
    (config / "VSCodium").mkdir()  # installed, never configured
    try:
        assert user.run("start", "--profile", "p", "--port", str(free_port())).returncode == 0
        base_url = user.status()["base_url"]
        r = user.run("ide", "install", "vscode")
        assert r.returncode == 0, r.stderr
        code = (config / "Code" / "User" / "settings.json").read_text()
        assert code.startswith("// VS Code user settings\n{\n") and "// big" in code and "/* the extension */" in code
        data = jsonc.loads(code)
        env = {e["name"]: e["value"] for e in data["claudeCode.environmentVariables"]}
        assert env["ANTHROPIC_BASE_URL"] == base_url and env["ANTHROPIC_AUTH_TOKEN"].startswith("fc-")
        assert data["claudeCode.disableLoginPrompt"] is True and data["editor.fontSize"] == 14
        assert jsonc.loads((config / "VSCodium" / "User" / "settings.json").read_text())["claudeCode.disableLoginPrompt"]
        r = user.run("ide", "uninstall", "vscode")
        assert r.returncode == 0, r.stderr
        assert (config / "Code" / "User" / "settings.json").read_bytes() == VSCODE
        assert not (config / "VSCodium" / "User").exists() and (config / "VSCodium").is_dir()
    finally:
        user.run("stop")


def test_no_editor_found_says_where_it_looked(tmp_path):
    user = User(tmp_path)
    try:
        assert user.run("start", "--profile", "p", "--port", str(free_port())).returncode == 0
        r = user.run("ide", "install", "vscode")
        assert r.returncode == 1 and "no VS Code, Cursor or VSCodium user settings were found under" in r.stderr
    finally:
        user.run("stop")


def test_install_needs_the_gateway_running(tmp_path):
    r = User(tmp_path).run("ide", "install", "claude")
    assert r.returncode == 1 and "no background gateway is running: start one with `freeclaude start`" in r.stderr
    assert not (tmp_path / "user-home" / ".claude").exists()


def test_jetbrains_is_told_what_to_paste(tmp_path, monkeypatch):
    folder = tmp_path / "Program Files" / "freeclaude"
    folder.mkdir(parents=True)
    exe = folder / "freeclaude"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path / "fc-home"))
    posix = ide_command.jetbrains_lines("linux")
    assert any(line.endswith(f"Claude command to:  '{exe}' run --") for line in posix)
    windows = ide_command.jetbrains_lines("win32")
    assert any(line.endswith(f'Claude command to:  "{exe}" run --') for line in windows)
    r = User(tmp_path / "u").run("ide", "install", "jetbrains")  # writes nothing: no gateway needed
    assert r.returncode == 0 and "Settings -> Tools -> Claude Code [Beta]" in r.stderr
    assert "`freeclaude ide install claude`" in r.stderr
    assert not os.listdir(tmp_path / "u" / "user-home")


def test_a_file_that_cannot_be_written_is_said_so(homes):
    # a link into /proc, where no file can be made (not even by root, which tests here run as)
    (homes / ".claude").mkdir()
    settings_path(homes).symlink_to("/proc/freeclaude-settings.json")
    with pytest.raises(FreeclaudeError, match=r"cannot write .*/\.claude/settings\.json: "):
        clients.install("claude", [clients.claude_settings()], VARS)
    assert clients.records("claude") == {}


@pytest.mark.parametrize("target", ["claude", "claude-config-dir", "vscode"])
def test_a_settings_file_given_the_token_is_private_until_uninstall(tmp_path, target):
    """0644 before: 0600 while it holds the gateway's token, 0644 again after uninstall."""
    user = User(tmp_path)
    if target == "claude-config-dir":
        user.env["CLAUDE_CONFIG_DIR"] = str(tmp_path / "claude-config")
        path = tmp_path / "claude-config" / "settings.json"
    elif target == "claude":
        path = tmp_path / "user-home" / ".claude" / "settings.json"
    else:
        path = tmp_path / "user-home" / ".config" / "Code" / "User" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{}" if target != "vscode" else VSCODE)
    path.chmod(0o644)
    target = target.removesuffix("-config-dir")
    try:
        assert user.run("start", "--profile", "p", "--port", str(free_port())).returncode == 0
        assert user.run("ide", "install", target).returncode == 0
        assert "fc-" in path.read_text() and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert user.run("ide", "install", target).returncode == 0  # again: 0644 is still what comes back
        assert user.run("ide", "uninstall", target).returncode == 0
        assert "fc-" not in path.read_text() and stat.S_IMODE(path.stat().st_mode) == 0o644
    finally:
        user.run("stop")


def test_a_mode_the_user_set_since_install_stays(homes):
    path = settings_path(homes)
    path.parent.mkdir()
    path.write_bytes(USERS_OWN)
    path.chmod(0o644)
    clients.install("claude", [clients.claude_settings()], VARS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    clients.uninstall("claude")
    assert path.read_bytes() == USERS_OWN and stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize("records", [b'{"files": {"/x/settings.json": []}}', b'{"files": []}', b"[]"])
def test_damaged_records_are_one_line_naming_them(tmp_path, records):
    user = User(tmp_path)
    (user.home / "ide").mkdir()
    (user.home / "ide" / "claude.json").write_bytes(records)
    r = user.run("ide", "uninstall", "claude")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"freeclaude: {user.home / 'ide' / 'claude.json'} is damaged")


@pytest.mark.parametrize("level,simple,denied", [("minimal", "1", None), ("core", None, True), ("off", None, None)])
def test_the_gateway_profiles_lean_level_reaches_what_it_can(tmp_path, level, simple, denied):
    """minimal: its switch in the variables; core: the other tools denied in Claude Code's settings,
    the user's own rules kept; each said plainly, and taken out again by uninstall."""
    from freeclaude.claude import lean

    user = User(tmp_path)
    path = user.home / "profiles" / "p.toml"
    path.write_text(f'lean = "{level}"\n' + path.read_text())
    settings = tmp_path / "user-home" / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_bytes(USERS_OWN)
    try:
        assert user.run("start", "--profile", "p", "--port", str(free_port())).returncode == 0
        env = user.run("env")
        assert ("export CLAUDE_CODE_SIMPLE=1" in env.stdout) == (simple == "1")
        assert ("unset CLAUDE_CODE_SIMPLE" in env.stdout) == (simple is None)  # one an earlier `env` set
        assert lean.reach(level, "env") in " ".join(env.stderr.split())
        r = user.run("ide", "install", "claude")
        assert r.returncode == 0, r.stderr
        assert lean.reach(level, "claude") in " ".join(r.stderr.split())
        data = json.loads(settings.read_text())
        assert data["env"].get("CLAUDE_CODE_SIMPLE") == simple
        assert data["permissions"]["allow"] == ["Bash(ls:*)"]
        assert (data["permissions"].get("deny") == list(lean.OTHER_TOOLS)) == bool(denied)
        assert user.run("ide", "uninstall", "claude").returncode == 0
        assert settings.read_bytes() == USERS_OWN
    finally:
        user.run("stop")
