"""A project's .freeclaude.toml picks the profile of run and serve; --profile still wins; a bad
file is an error that names it; the exit summary says which profile ran and why."""

import asyncio
import os
import subprocess
import sys

import pytest

from freeclaude.profiles.project import FILE, choose
from freeclaude.profiles.schema import ProfileError
from freeclaude.profiles.store import Store
from tests.support.standin import profile_toml, start_run


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path / "config")
    store.dir.mkdir(parents=True)
    for name in ("main", "work"):
        (store.dir / f"{name}.toml").write_text(profile_toml("http://127.0.0.1:9/v1"))
    store.set_default("main")
    return store


def test_the_nearest_file_above_picks_the_profile(tmp_path, store):
    project = tmp_path / "repo"
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    (project / FILE).write_text('profile = "work"\n')
    profile, why = choose(store, None, deep)
    assert profile.name == "work" and why == f"from {project / FILE}"
    assert choose(store, "main", deep)[0].name == "main"  # --profile wins
    assert choose(store, None, tmp_path)[1] == "the default"


@pytest.mark.parametrize("text,says", [
    ("profile = ", "bad TOML"),
    ('profile = "nope"\n', "no profile named 'nope'"),
    ("profile = 3\n", 'expected profile = "NAME"'),
    ('profile = "work"\nmodel = "x"\n', "model is not a setting here"),
])
def test_a_bad_file_is_an_error_that_names_it(tmp_path, store, text, says):
    (tmp_path / FILE).write_text(text)
    with pytest.raises(ProfileError) as e:
        choose(store, None, tmp_path)
    assert str(e.value).startswith(str(tmp_path / FILE)) and says in str(e.value)


async def run_in_project(tmp_path, standin, fake, text: str | bytes):
    """`freeclaude run` (no --profile) in a project whose .freeclaude.toml holds `text`."""
    project = tmp_path / "project"
    project.mkdir()
    (project / FILE).write_bytes(text if isinstance(text, bytes) else text.encode())
    proc = await start_run(tmp_path, standin, fake.url, "--exit", "0", run_opts=())
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, stderr.decode(), project / FILE


async def test_run_uses_it_and_the_summary_says_so(tmp_path, standin, fake):
    code, stderr, path = await run_in_project(tmp_path, standin, fake, 'profile = "p"\n')
    assert code == 0 and f"profile p (from {path})" in stderr.replace("\n", "")


async def test_a_bad_file_stops_run_with_one_line(tmp_path, standin, fake):
    code, stderr, path = await run_in_project(tmp_path, standin, fake, 'profile = "missing"\n')
    assert code == 1 and stderr.startswith(f"freeclaude: {path}: no profile named 'missing'")
    assert "Traceback" not in stderr


NOT_UTF8 = 'profile = "caf\u00e9"\n'.encode("latin-1")


async def test_a_file_that_is_not_utf8_stops_run_with_one_line(tmp_path, standin, fake):
    code, stderr, path = await run_in_project(tmp_path, standin, fake, NOT_UTF8)
    assert code == 1 and "Traceback" not in stderr
    assert stderr.startswith(f"freeclaude: {path}: not UTF-8 (an invalid byte at offset 14)")


def test_a_file_that_is_not_utf8_stops_serve_with_one_line(tmp_path):
    (tmp_path / "home" / "profiles").mkdir(parents=True)
    (tmp_path / "home" / "profiles" / "p.toml").write_text(profile_toml("http://127.0.0.1:9/v1"))
    (tmp_path / FILE).write_bytes(NOT_UTF8)
    env = {**os.environ, "FREECLAUDE_HOME": str(tmp_path / "home"), "FAKE_KEY": "k"}
    done = subprocess.run([sys.executable, "-m", "freeclaude", "serve"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"freeclaude: {tmp_path / FILE}: not UTF-8 (an invalid byte at offset 14)")
