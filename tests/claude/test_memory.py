"""The memory files minimal mode gets back (freeclaude.claude.memory): which files, in which order, and
which @imports count. Each case is what the real Claude Code 2.1.330 did with the same files
(captured through a loopback upstream, 2026-12-02); tests/e2e/test_claude_code_lean.py checks the
whole walk against the real Claude Code on every run."""

import json
from pathlib import Path

import pytest

from freeclaude.claude import memory

# (a line of a CLAUDE.md, whether Claude Code imported the file it names)
IMPORTS = [
    ("Top @d/a.md inline.", True),
    ("- item @d/a.md", True),
    ("@d/a.md#section", True),  # the anchor is cut off
    ("@d/my\\ file.md", True),  # an escaped space
    ("@../up/a.md", True),
    ("@./a.md", True),
    ("@~/a.md", True),
    ("@/abs/a.md", True),
    ("@d/noext", True),
    ("mail a@d/a.md", False),  # not after white space
    ("(@d/a.md)", False),
    ("@#d/a.md", False),
    ("Text `@d/a.md` here", False),  # a code span
    ("Text ``x @d/a.md y`` here", False),
    ("<!-- @d/a.md -->", False),
    ("```\n@d/a.md\n```", False),  # a fenced block
    ("~~~\n@d/a.md\n~~~", False),
    ("para\n\n    @d/a.md", False),  # an indented code block
    ("- item\n\n      @d/a.md", False),  # one inside a list item
    ("para\n\t@d/a.md", True),  # the paragraph goes on: no code block
    ("```\ncode\n```\n@d/a.md", True),  # after the fence closes
]


@pytest.mark.parametrize("text,imported", IMPORTS)
def test_what_counts_as_an_import(text, imported):
    assert bool(memory.imports(text)) == imported, memory.imports(text)


def test_import_paths_as_written():
    assert memory.imports("@d/my\\ file.md and @d/a.md#x, @d/a.md again") == ["d/my file.md", "d/a.md"]


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def tree(tmp_path):
    """The layout measured against Claude Code: a folder above a git repository, the repository
    with its memory files and imports, a sub-folder to work in, and a user's home."""
    home = tmp_path / "home"
    repo = tmp_path / "outer" / "repo"
    _write(tmp_path, {
        "outer/CLAUDE.md": "OUTER above the repository root",
        "outer/repo/CLAUDE.md": "ROOT\nSee @docs/a.md and @~/prefs.md and @" + str(tmp_path / "abs.md") + " too\n",
        "outer/repo/docs/a.md": "A @d1.md",
        **{f"outer/repo/docs/d{i}.md": f"D{i} @d{i + 1}.md" for i in range(1, 8)},
        "outer/repo/.claude/CLAUDE.md": "DOTCLAUDE",
        "outer/repo/.claude/rules/r.md": "RULE",
        "outer/repo/.claude/rules/only-src.md": "---\npaths:\n  - \"src/**\"\n---\nCONDITIONAL",
        "outer/repo/CLAUDE.local.md": "LOCAL",
        "outer/repo/sub/CLAUDE.md": "SUB, a cycle @../CLAUDE.md and @./sibling.md",
        "outer/repo/sub/sibling.md": "SIBLING",
        "outer/repo/sub/below/CLAUDE.md": "BELOW the working directory",
        "home/.claude/CLAUDE.md": "---\ntitle: mine\n---\nUSER @userimp.md\n<!-- HIDDEN -->",
        "home/.claude/userimp.md": "USERIMP",
        "home/.claude/rules/u.md": "USERRULE",
        "home/prefs.md": "PREFS",
        "abs.md": "ABS",
    })
    (repo / ".git").mkdir()
    return tmp_path, home, repo


def _names(memories, root: Path) -> list[str]:
    return [str(m.path.relative_to(root)) for m in memories]


def test_the_walk_from_a_folder_inside_a_repository(tree):
    root, home, repo = tree
    found = memory.load(repo / "sub", {"HOME": str(home)}, platform="test")
    assert _names(found, root) == [
        "home/.claude/CLAUDE.md", "home/.claude/userimp.md", "home/.claude/rules/u.md",
        "outer/CLAUDE.md", "outer/repo/CLAUDE.md",  # docs/a.md is outside the working directory
        "outer/repo/.claude/CLAUDE.md", "outer/repo/.claude/rules/r.md", "outer/repo/CLAUDE.local.md",
        "outer/repo/sub/CLAUDE.md", "outer/repo/sub/sibling.md"]
    assert [m.kind for m in found] == ["user"] * 3 + ["project"] * 4 + ["local"] + ["project"] * 2
    assert found[0].text.strip() == "USER @userimp.md"  # front matter and the comment line left out


def test_imports_four_deep_and_external_ones_once_approved(tree):
    root, home, repo = tree
    (home / ".claude.json").write_text(json.dumps({"projects": {str(repo): {"hasClaudeMdExternalIncludesApproved": True}}}))
    names = _names(memory.load(repo, {"HOME": str(home)}, platform="test"), root)
    assert names[4:11] == ["outer/repo/CLAUDE.md", "outer/repo/docs/a.md", "outer/repo/docs/d1.md",
                           "outer/repo/docs/d2.md", "outer/repo/docs/d3.md", "home/prefs.md", "abs.md"]
    assert "outer/repo/docs/d4.md" not in names
    # from the sub-folder too: the approval is kept under the repository's root
    assert "abs.md" in _names(memory.load(repo / "sub", {"HOME": str(home)}, platform="test"), root)


def test_claude_config_dir_moves_the_users_files_and_approvals(tree, tmp_path):
    root, home, repo = tree
    config = tmp_path / "config"
    _write(config, {"CLAUDE.md": "CONFIG DIR", ".claude.json": json.dumps(
        {"projects": {str(repo): {"hasClaudeMdExternalIncludesApproved": True}}})})
    found = memory.load(repo, {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(config)}, platform="test")
    assert found[0].path == config / "CLAUDE.md" and "home/.claude/CLAUDE.md" not in _names(found, root)
    assert "abs.md" in _names(found, root)


def test_the_organizations_file_comes_first(tmp_path, monkeypatch):
    monkeypatch.setitem(memory.MANAGED, "test", str(tmp_path / "etc"))
    _write(tmp_path, {"etc/CLAUDE.md": "ORG", "home/.claude/CLAUDE.md": "USER"})
    found = memory.load(tmp_path / "work", {"HOME": str(tmp_path / "home")}, platform="test")
    assert [(m.kind, m.text) for m in found] == [("managed", "ORG"), ("user", "USER")]


def test_render_names_each_file_and_what_it_is(tree):
    root, home, repo = tree
    text = memory.render(memory.load(repo, {"HOME": str(home)}, platform="test"))
    assert f"## {repo / 'CLAUDE.local.md'} ({memory.KINDS['local']})\n\nLOCAL" in text
    assert text.index("USERIMP") < text.index("OUTER") < text.index("LOCAL")
    assert memory.render([]) == ""


def test_imports_of_text_files_only(tmp_path):
    """Claude Code skips an import whose extension is not a text file's, compared in lower case."""
    _write(tmp_path, {"CLAUDE.md": "@a.png @b.MD @c", "a.png": "PNG", "b.MD": "UPPER", "c": "BARE"})
    found = memory.load(tmp_path, {"HOME": str(tmp_path / "home")}, platform="test")
    assert [m.text for m in found] == ["@a.png @b.MD @c", "UPPER", "BARE"]
