"""The README's two commands stay true: CI runs exactly its test command."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text().splitlines()
    fence = readme.index("```sh")
    install, test = (line.split("#")[0].strip() for line in readme[fence + 1:fence + 3])
    assert install.endswith("freeclaude run") and "pip install ." in install
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci, f"{test!r} is not a line of .ci/run"


def test_the_lean_table_is_what_the_benchmark_prints():
    """The README's lean-levels table is benchmarks/lean.py's, from its recorded figures and the
    templates as they are now (when a template's limits or level change: `python
    benchmarks/lean.py --table --readme`; when Claude Code changes: the same without --table)."""
    import importlib.util
    import json

    from freeclaude.profiles import store

    spec = importlib.util.spec_from_file_location("lean_benchmark", ROOT / "benchmarks" / "lean.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    readme = (ROOT / "README.md").read_text()
    shown = readme[readme.index(bench.BEGIN) + len(bench.BEGIN):readme.index(bench.END)]
    assert shown == "\n" + bench.table(json.loads(bench.FIGURES.read_text()), store.templates())


def test_the_layout_names_every_package_and_module():
    """'How the code is laid out' is the map a new maintainer reads first: a module added, moved
    or renamed without it fails here."""
    readme = (ROOT / "README.md").read_text()
    tree = readme[readme.index("### How the code is laid out"):]
    tree = tree[tree.index("```\n") + 4:]
    tree = tree[:tree.index("```")]
    named, package = set(), ""
    for line in tree.splitlines():
        words = line.split()
        if not words:
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 2 and words[0].endswith("/"):
            package = words[0]
        elif indent == 2:
            package = ""
        if words[0].endswith(".py"):
            named.add(("" if indent == 2 else package) + words[0])
        elif words[0].endswith("/") and indent == 2:
            named.add(words[0])
    cli = ROOT / "cli"
    modules = {str(p.relative_to(cli)) for p in cli.rglob("*.py")
               if p.name not in ("__init__.py", "__main__.py") and p.parent.name != "commands"}
    packages = {f"{p.name}/" for p in cli.iterdir() if (p / "__init__.py").exists()}
    assert modules - named == set(), "modules the README's layout does not name"
    assert packages - named == set(), "packages the README's layout does not name"
    assert {n for n in named if n.endswith(".py")} - modules == set(), "modules the README names that do not exist"
