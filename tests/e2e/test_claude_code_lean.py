"""Lean levels through the real Claude Code: what the upstream receives at each level (size, tool
set, the memory files' text), the system prompt the same bytes in two folders where
--exclude-dynamic-system-prompt-sections is used, what the user passes kept, and the memory walk
checked against Claude Code's own."""

import asyncio
import json
import re
from pathlib import Path

import pytest

from freeclaude.claude import lean, memory
from tests.conftest import run_claude
from tests.e2e.test_claude_code import fake_profile
from tests.support.fakes import Stream, chunk, usage

pytestmark = pytest.mark.claude

PROJECT_RULE = "Project rule 7f3a: indent with tabs."
IMPORTED_RULE = "Imported rule 91bd: no trailing spaces."
USER_RULE = "User rule c52e: answer briefly."


def _reply(body: dict):
    return Stream([chunk({"content": "OK"}), chunk(finish="stop"), chunk(usage=usage(100, 1))])


def _memory_files(root: Path) -> None:
    """A project CLAUDE.md importing a file, and the user's own, where run_claude puts them."""
    project, home = root / "project", root / "user-home"
    for path, text in {project / "CLAUDE.md": f"{PROJECT_RULE}\nSee @docs/style.md for the rest.\n",
                       project / "docs" / "style.md": IMPORTED_RULE, home / ".claude" / "CLAUDE.md": USER_RULE}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


async def _main_requests(fake, claude_bin, runs: list[tuple[Path, str, tuple]]) -> list[dict]:
    """Runs `freeclaude run -- -p "Say OK." ARGS` in each root at each level (a few Claude Codes at a
    time: each is a Node process on two cores); returns each one's main-loop request (the first
    offering tools), told apart by its project folder."""
    fake.default = _reply
    gate = asyncio.Semaphore(3)

    async def one(root: Path, level: str, args: tuple) -> None:
        async with gate:
            code, out, err, _, _ = await run_claude(root, claude_bin, {**fake_profile(fake.url), "lean": level},
                                                    "-p", "Say OK.", *args)
        assert code == 0 and "OK" in out, f"{root} {level}: stdout: {out}\nstderr: {err}"

    await asyncio.gather(*(one(*run) for run in runs))
    mains = [r.body for r in fake.received if r.body.get("tools")]
    return [next(b for b in mains if f'{root / "project"}"' in json.dumps(b) or f"{root / 'project'}\\n" in json.dumps(b))
            for root, _, _ in runs]


def _tools(body: dict) -> set[str]:
    """The tools offered, but the one Claude Code sends with any restricted set to keep its
    deferred loading on ("never call this tool"; defer_loading means nothing upstream)."""
    return {t["function"]["name"] for t in body["tools"]} - {"DeferredToolPlaceholder"}


def _system(body: dict) -> str:
    return body["messages"][0]["content"] if body["messages"][0]["role"] == "system" else ""


async def test_each_level_through_the_real_claude_code(tmp_path, fake, claude_bin):
    runs = [(tmp_path / level / folder, level, ()) for level in lean.LEVELS for folder in ("a", "b")]
    for root, _, _ in runs:
        _memory_files(root)
    bodies = dict(zip([(level, root.name) for root, level, _ in runs], await _main_requests(fake, claude_bin, runs)))
    got = {level: bodies[level, "a"] for level in lean.LEVELS}
    size = {level: len(json.dumps(body)) for level, body in got.items()}
    assert size["core"] < size["off"] / 2 and size["minimal"] < size["core"] / 3, size
    assert {"Agent", "Bash", "Edit", "Read", "Write"} <= _tools(got["off"])
    assert not _tools(got["core"]) & set(lean.OTHER_TOOLS) and {"Glob", "Grep", "Write"} <= _tools(got["core"])
    assert _tools(got["minimal"]) == {"Bash", "Edit", "Read"}
    for level, body in got.items():  # the memory files reach the model at every level
        text = json.dumps(body)
        assert PROJECT_RULE in text and IMPORTED_RULE in text and USER_RULE in text, level
    assert PROJECT_RULE in _system(got["minimal"])  # appended to the system prompt there
    # the same system prompt in another folder, but at minimal (which keeps its working directory)
    for level in lean.LEVELS:
        assert (_system(bodies[level, "a"]) == _system(bodies[level, "b"])) == (level != "minimal"), level
        assert bodies[level, "a"]["tools"] == bodies[level, "b"]["tools"]
    assert str(tmp_path / "minimal" / "a" / "project") in _system(got["minimal"])


async def test_what_the_user_passes_stays_theirs(tmp_path, fake, claude_bin):
    mine = tmp_path / "mine.md"
    mine.write_text("My own addition 5e1c.")
    runs = [(tmp_path / "tools", "core", ("--tools", "Bash,Read")), (tmp_path / "bare", "minimal", ("--bare",)),
            (tmp_path / "append", "minimal", ("--append-system-prompt-file", str(mine)))]
    for root, _, _ in runs:
        _memory_files(root)
    tools, bare, append = await _main_requests(fake, claude_bin, runs)
    assert _tools(tools) == {"Bash", "Read"}
    assert _tools(bare) == {"Bash", "Edit", "Read"} and PROJECT_RULE not in json.dumps(bare)
    assert PROJECT_RULE in _system(append) and "My own addition 5e1c." in _system(append)


async def test_the_memory_walk_is_claude_codes_own(tmp_path, fake, claude_bin):
    """The memory files Claude Code itself loads (at off) from a folder inside a repository, with
    a memory file above the repository, a rule, a local file and imports in and out of the working
    directory, are the ones memory.load finds, in the same order."""
    repo = tmp_path / "repo"
    project, home = repo / "project", repo / "user-home"
    for path, text in {tmp_path / "CLAUDE.md": "ABOVE", repo / "CLAUDE.md": "ROOT @docs/a.md",
                       repo / "docs" / "a.md": "A (outside the working directory)", repo / "CLAUDE.local.md": "LOCAL",
                       repo / ".claude" / "rules" / "r.md": "RULE", project / "CLAUDE.md": "HERE @./s.md and not `@./n.md`",
                       project / "s.md": "S @t.md", project / "t.md": "T", project / "n.md": "N",
                       home / ".claude" / "CLAUDE.md": "USER @~/prefs.md", home / "prefs.md": "PREFS"}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (repo / ".git").mkdir()
    [body] = await _main_requests(fake, claude_bin, [(repo, "off", ())])
    loaded = re.findall(r"Contents of (\S+) \(", json.dumps(body))
    ours = [str(m.path) for m in memory.load(project, {"HOME": str(home)})]
    assert len(loaded) == 9 and loaded == ours, (loaded, ours)
