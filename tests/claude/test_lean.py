"""Lean levels (freeclaude.claude.lean): what `run` adds to Claude Code at each level, what the user
passes that stays theirs, the profile's key and `run --lean`, through `freeclaude run` with the
stand-in `claude`. tests/e2e/test_claude_code_lean.py drives the real Claude Code."""

import asyncio
import json

import pytest

from freeclaude.claude import lean
from freeclaude.profiles import schema, store
from freeclaude.profiles.schema import ProfileError
from tests.support.standin import seen, start_run

CORE = "--tools=Bash,Read,Edit,Write,Glob,Grep"
V = (2, 1, 330)


def launch(level, *args, env=None, cwd=None, data_dir=None, version=V):
    return lean.for_run(level, list(args), env or {}, cwd, data_dir, version)


@pytest.mark.parametrize("level,args,unset", [
    ("off", [lean.EXCLUDE_DYNAMIC], [lean.SIMPLE]),
    ("core", [CORE, lean.EXCLUDE_DYNAMIC], [lean.SIMPLE]),
])
def test_off_and_core(level, args, unset):
    got = launch(level, "-p", "hi")
    assert (got.args, got.claude_args, got.env, got.unset) == (args, ["-p", "hi"], {}, unset)


def test_the_exclude_flag_needs_a_claude_code_that_has_it():
    assert lean.EXCLUDE_DYNAMIC not in launch("off", version=(2, 1, 97)).args
    assert lean.EXCLUDE_DYNAMIC not in launch("off", version=None).args  # not known: not risked
    assert launch("off", version=(2, 1, 98)).args == [lean.EXCLUDE_DYNAMIC]


@pytest.mark.parametrize("level", lean.LEVELS)
def test_the_users_bare_is_minimal_mode_of_their_own(level, tmp_path):
    got = launch(level, "--bare", "-p", "hi", cwd=tmp_path, data_dir=tmp_path)
    assert (got.args, got.env, got.unset, got.private) == ([], {}, [], None)
    assert lean.settings_env(level, ["--bare"]) == {}


@pytest.mark.parametrize("args", [["--tools", "Bash"], ["--tools=Read,Edit"]])
def test_the_users_tools_win_over_core(args):
    assert launch("core", *args).args == [lean.EXCLUDE_DYNAMIC]


def test_the_users_exclude_flag_is_not_doubled():
    assert launch("core", lean.EXCLUDE_DYNAMIC).args == [CORE]


def test_flags_after_a_double_dash_are_the_prompts():
    assert launch("core", "-p", "--", "--tools").args == [CORE, lean.EXCLUDE_DYNAMIC]


def test_minimal_appends_the_memory_files(tmp_path):
    (tmp_path / "CLAUDE.md").write_text("Use tabs.")
    got = launch("minimal", "-p", "hi", env={"HOME": str(tmp_path / "nohome")}, cwd=tmp_path, data_dir=tmp_path)
    assert got.env == {lean.SIMPLE: "1"} and got.claude_args == ["-p", "hi"]
    [flag] = got.args
    assert flag == f"--append-system-prompt-file={got.private}"
    assert "Use tabs." in got.private.read_text() and oct(got.private.stat().st_mode)[-3:] == "600"
    got.remove()
    assert not got.private.exists()


def test_minimal_without_memory_files_adds_no_file(tmp_path):
    got = launch("minimal", env={"HOME": str(tmp_path)}, cwd=tmp_path, data_dir=tmp_path)
    assert (got.args, got.env, got.private) == ([], {lean.SIMPLE: "1"}, None)


@pytest.mark.parametrize("form", ["two words", "one word"])
def test_minimal_reads_the_users_append_file_into_its_own(tmp_path, form):
    (tmp_path / "CLAUDE.md").write_text("Use tabs.")
    theirs = tmp_path / "mine.md"
    theirs.write_text("Answer in French.")
    flag = ["--append-system-prompt-file", str(theirs)] if form == "two words" else [f"--append-system-prompt-file={theirs}"]
    got = launch("minimal", "-p", "hi", *flag, "--model", "haiku", env={"HOME": str(tmp_path / "nohome")},
                 cwd=tmp_path, data_dir=tmp_path)
    assert got.args == []  # one flag only: Claude Code keeps the last of two
    assert got.claude_args == ["-p", "hi", f"--append-system-prompt-file={got.private}", "--model", "haiku"]
    text = got.private.read_text()
    assert text.index("Use tabs.") < text.index("Answer in French.")
    assert theirs.read_text() == "Answer in French."


def test_minimal_leaves_an_unreadable_append_file_to_claude_code(tmp_path):
    (tmp_path / "CLAUDE.md").write_text("Use tabs.")
    got = launch("minimal", "--append-system-prompt-file", str(tmp_path / "missing.md"),
                 env={"HOME": str(tmp_path)}, cwd=tmp_path, data_dir=tmp_path)
    assert got.claude_args == ["--append-system-prompt-file", str(tmp_path / "missing.md")] and got.private is None


def test_what_settings_and_the_environment_can_carry():
    assert lean.settings_env("minimal", []) == {lean.SIMPLE: "1"}
    assert lean.settings_env("core", []) == {lean.SIMPLE: "0"}
    assert lean.variables("minimal") == {lean.SIMPLE: "1"} and lean.variables("core") == {}
    assert lean.denied("core") == lean.OTHER_TOOLS and lean.denied("minimal") == ()
    assert not set(lean.OTHER_TOOLS) & set(lean.CORE_TOOLS)
    assert lean.reach("off", "claude") == "" and "Glob" in lean.reach("core", "claude")
    assert "no variable" in lean.reach("core", "env") and "CLAUDE.md" in lean.reach("minimal", "vscode")


def test_the_profile_key_is_checked():
    data = {"providers": {"x": {"kind": "openai", "base_url": "http://h/v1"}}, "tiers": {"opus": ["x:m"]}}
    assert schema.parse(data, "t", "t").lean == "off"
    assert schema.parse({**data, "lean": "minimal"}, "t", "t").lean == "minimal"
    with pytest.raises(ProfileError, match="t: lean must be one of off, core, minimal"):
        schema.parse({**data, "lean": "tiny"}, "t", "t")


# ---------------------------------------------------------------- through `freeclaude run`


async def _run(tmp_path, standin, fake, *claude_args, run_opts=("--profile", "p"), lean=None, env=None):
    proc = await start_run(tmp_path, standin, fake.url, *claude_args, run_opts=run_opts, env=env, lean=lean)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, stderr.decode()
    return seen(tmp_path), stderr.decode()


async def test_run_lean_minimal(tmp_path, standin, fake):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "CLAUDE.md").write_text("Project rule: tabs.")
    got, _ = await _run(tmp_path, standin, fake, "-p", "hi", run_opts=("--profile", "p", "--lean", "minimal"))
    assert got["env"][lean.SIMPLE] == "1"
    assert "Project rule: tabs." in got["appended"]
    assert not list((tmp_path / "home").rglob("run-*-memory.md"))  # gone once Claude Code exited


async def test_the_profiles_lean_and_run_lean_over_it(tmp_path, standin, fake):
    got, _ = await _run(tmp_path, standin, fake, "-p", "hi", lean="core")
    assert CORE in got["argv"] and lean.SIMPLE not in got["env"]
    got, _ = await _run(tmp_path, standin, fake, "-p", "hi", run_opts=("--profile", "p", "--lean", "off"))
    assert CORE not in got["argv"] and lean.EXCLUDE_DYNAMIC in got["argv"]


async def test_run_takes_minimal_mode_from_its_level_not_the_shell(tmp_path, standin, fake):
    """`eval "$(freeclaude env)"` for a minimal gateway leaves CLAUDE_CODE_SIMPLE in the shell."""
    got, _ = await _run(tmp_path, standin, fake, "-p", "hi", env={lean.SIMPLE: "1"})
    assert lean.SIMPLE not in got["env"]


async def test_run_overrides_minimal_mode_that_a_settings_file_sets(tmp_path, standin, fake):
    """`ide install claude` for a minimal gateway puts CLAUDE_CODE_SIMPLE in the user's settings,
    which Claude Code applies over its environment: run's --settings says this run's level."""
    settings = tmp_path / "user-home" / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"env": {lean.SIMPLE: "1"}}))
    got, _ = await _run(tmp_path, standin, fake, "-p", "hi")
    assert got["settings"]["env"] == {lean.SIMPLE: "0"}
    got, _ = await _run(tmp_path, standin, fake, "-p", "hi", lean="minimal")
    assert got["settings"]["env"] == {lean.SIMPLE: "1"}


def test_profile_show_says_the_level(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from freeclaude.app import app

    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path))
    CliRunner().invoke(app, ["profile", "add", "g", "--template", "groq"])
    shown = CliRunner().invoke(app, ["profile", "show", "g"], env={"COLUMNS": "200"}).output
    assert f"lean: {store.template('groq').get('lean', 'off')}" in shown
