"""The entry point as a new user meets it: `freeclaude --version` prints the version and exits 0,
and does so without loading the CLI."""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from freeclaude import __version__
from freeclaude.app import app

EXE = Path(sys.executable).with_name("freeclaude")


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_from_the_installed_command(flag):
    done = subprocess.run([EXE, flag], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, __version__ + "\n", "")


def test_version_loads_no_cli():
    code = "import sys; sys.argv = ['freeclaude', '--version']; from freeclaude.main import main; main(); " \
           "print(sorted(m for m in ('typer', 'rich', 'aiohttp') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.stdout.splitlines() == [__version__, "[]"]


def test_version_through_typer_too():
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.output) == (0, __version__ + "\n")


def test_no_command_shows_help_not_a_traceback():
    done = subprocess.run([EXE], capture_output=True, text=True, timeout=30)
    assert "Usage: freeclaude" in done.stdout + done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["run", "serve", "start"])
def test_a_port_out_of_range_is_a_usage_error_not_a_traceback(command, tmp_path):
    r = CliRunner().invoke(app, [command, "--port", "99999"],
                           env={"FREECLAUDE_HOME": str(tmp_path), "FREECLAUDE_CLAUDE": "/nonexistent/claude"})
    assert r.exit_code == 2 and "Invalid value for '--port': 99999 is not in the range 0<=x<=65535" in r.output
