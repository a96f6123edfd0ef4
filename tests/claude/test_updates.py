"""Claude Code's updates: one warning when the Claude Code run starts is newer than the newest
freeclaude was tested with, and no subprocess on a run whose Claude Code was seen before."""

import asyncio
import json
import os
from pathlib import Path

from freeclaude.claude.facts import TESTED, version
from freeclaude.claude.updates import CACHE, VersionCheck
from tests.conftest import ROOT
from tests.support.standin import start_run


def test_the_tested_version_is_the_one_package_json_pins():
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["@anthropic-ai/claude-code"]
    assert TESTED == pinned, "bump facts.TESTED with package.json's pin (and run the claude tests on it)"


def test_version():
    assert version("2.1.331 (Claude Code)\n") == (2, 1, 331) and version("") is None and version("claude x") is None


def counting_claude(tmp_path, version: str) -> Path:
    """A `claude` that answers --version and counts how often it was asked."""
    path = tmp_path / "claude"
    path.write_text(f"#!/bin/sh\necho x >> {tmp_path / 'asked'}\necho '{version} (Claude Code)'\n")
    path.chmod(0o755)
    return path


def asked(tmp_path) -> int:
    return len((tmp_path / "asked").read_text().splitlines()) if (tmp_path / "asked").exists() else 0


def test_warned_once_then_nothing_and_no_subprocess(tmp_path):
    claude = counting_claude(tmp_path, "2.1.999")
    first = VersionCheck(str(claude), tmp_path)
    assert "Claude Code 2.1.999 is newer than " + TESTED in first.warning()
    assert asked(tmp_path) == 1
    again = VersionCheck(str(claude), tmp_path)
    assert again.warning() is None and asked(tmp_path) == 1  # cached by path and mtime: not asked again
    entry = json.loads((tmp_path / CACHE).read_text())
    assert entry["path"] == os.path.realpath(claude) and entry["warned"] is True


def test_a_new_install_is_asked_again(tmp_path):
    claude = counting_claude(tmp_path, TESTED)
    assert VersionCheck(str(claude), tmp_path).warning() is None  # the tested version: nothing to say
    claude.write_text(claude.read_text().replace(TESTED, "9.0.0"))
    os.utime(claude, ns=(1, 1))  # an update changes the file
    assert "9.0.0" in VersionCheck(str(claude), tmp_path).warning() and asked(tmp_path) == 2


def test_a_claude_that_cannot_say_its_version_is_no_error(tmp_path):
    claude = tmp_path / "claude"
    claude.write_text("#!/bin/sh\nexit 3\n")
    claude.chmod(0o755)
    assert VersionCheck(str(claude), tmp_path).warning() is None
    assert VersionCheck(str(tmp_path / "missing"), tmp_path).warning() is None


async def test_run_warns_after_claude_exits_and_only_once(tmp_path, standin, fake):
    for expect in (True, False):
        proc = await start_run(tmp_path, standin, fake.url, "--exit", "0", env={"STANDIN_VERSION": "2.1.999"})
        _, stderr = await asyncio.wait_for(proc.communicate(), 60)
        text = stderr.decode().replace("\n", " ")
        assert proc.returncode == 0 and ("Claude Code 2.1.999 is newer" in text) is expect
    proc = await start_run(tmp_path, standin, fake.url, "--exit", "0", run_opts=("--profile", "p", "--quiet"))
    assert (await asyncio.wait_for(proc.communicate(), 60))[1] == b""
