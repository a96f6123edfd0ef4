"""A project's .freeclaude.toml picks the profile of run and serve; --profile still wins; a bad
file is an error that names it; the exit summary says which profile ran and why."""

import asyncio

import pytest

from freeclaude.profiles import ProfileError, Store
from freeclaude.project import FILE, choose
from tests.standin import profile_toml, start_run


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


async def test_run_uses_it_and_the_summary_says_so(tmp_path, standin, fake):
    project = tmp_path / "project"
    project.mkdir()
    (project / FILE).write_text('profile = "p"\n')
    proc = await start_run(tmp_path, standin, fake.url, "--exit", "0", run_opts=())
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0
    assert f"profile p (from {project / FILE})" in stderr.decode().replace("\n", "")


async def test_a_bad_file_stops_run_with_one_line(tmp_path, standin, fake):
    project = tmp_path / "project"
    project.mkdir()
    (project / FILE).write_text('profile = "missing"\n')
    proc = await start_run(tmp_path, standin, fake.url, "--exit", "0", run_opts=())
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert stderr.decode().startswith(f"freeclaude: {project / FILE}: no profile named 'missing'")
    assert "Traceback" not in stderr.decode()
