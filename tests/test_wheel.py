"""Packaging must not lose a module (issue 18): the wheel built from this tree holds every module
under cli/ and every template as freeclaude.…, and each imports from the wheel alone."""

import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Every module but __main__, which runs the CLI when imported (it is run below, as `-m freeclaude`).
MODULES = sorted(".".join(("freeclaude", *p.relative_to(ROOT / "cli").with_suffix("").parts)).removesuffix(".__init__")
                 for p in (ROOT / "cli").rglob("*.py") if p.name != "__main__.py")
TEMPLATES = sorted(p.name for p in (ROOT / "profiles").glob("*.toml"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built by pip (in its own build environment) from a copy of the tree, so the
    build's own files (build/, *.egg-info) stay out of the checkout."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".*", "node_modules", "build", "dist", "*.egg-info",
                                                             "__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "out"), str(src)],
                          capture_output=True, text=True, timeout=300, cwd=tmp)
    assert done.returncode == 0, done.stderr
    (built,) = (tmp / "out").glob("freeclaude-*.whl")
    return built


def test_every_module_and_template_is_in_the_wheel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "cli").rglob("*.py"):
        assert "freeclaude/" + path.relative_to(ROOT / "cli").as_posix() in names, path
    for name in TEMPLATES:
        assert f"freeclaude/templates/{name}" in names, name
    assert "freeclaude/templates/__init__.py" in names and len(MODULES) > 80


def test_each_module_imports_from_the_wheel_alone(wheel, tmp_path):
    """Unpacked, first on the path of an isolated interpreter (-I: no PYTHONPATH, no cwd) run
    outside the checkout; the dependencies come from this environment's site-packages, where the
    editable install would answer for any module the wheel lacks, hence the check of __file__."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = f"""
import importlib, json, sys
sys.path.insert(0, {str(site)!r})
from freeclaude.profiles import store
found = {{}}
for name in {MODULES!r}:
    found[name] = importlib.import_module(name).__file__
print(json.dumps({{"files": found, "templates": sorted(store.templates())}}))
"""
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    outside = {name: file for name, file in seen["files"].items() if not file.startswith(str(site) + "/")}
    assert not outside, outside
    assert seen["templates"] == sorted(name.removesuffix(".toml") for name in TEMPLATES)
    version = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys, runpy; sys.path.insert(0, {str(site)!r}); sys.argv = ['freeclaude', "
         "'--version']; runpy.run_module('freeclaude', run_name='__main__')"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path)
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert (version.returncode, version.stdout.strip()) == (0, pinned), version.stderr
