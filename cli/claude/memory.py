"""The memory files (CLAUDE.md) Claude Code reads at start, found and read the way it finds and
reads them, for `lean = "minimal"`: Claude Code's minimal mode reads none, so `run` appends them
to its system prompt instead.

What the real Claude Code 2.1.330 and 2.1.332 load (measured 2026-12-02 through a loopback
upstream, tests/claude/test_memory.py holds the cases), which Claude Code's memory docs confirm where
they say (docs.anthropic.com/en/docs/claude-code/memory, checked 2026-12-02):

- the organization's CLAUDE.md and .claude/rules/*.md (/etc/claude-code on Linux);
- the user's CLAUDE.md in ~/.claude (or $CLAUDE_CONFIG_DIR), then its rules/*.md;
- in each folder from the top (the filesystem root itself left out) down to the working
  directory, past the repository root too: CLAUDE.md, .claude/CLAUDE.md, .claude/rules/*.md,
  CLAUDE.local.md;
- each file's @imports, right after it: `@path` at the start of a line or after white space,
  never inside code blocks, code spans or HTML comments; `#…` cut off, `\\ ` an escaped space;
  relative to the importing file, `~/` for the home folder; text files only; up to four imports
  deep (the docs' "five hops" count the first file); every file once;
- a project file's import outside the working directory only once the user approved the
  project's external imports (`hasClaudeMdExternalIncludesApproved` in ~/.claude.json, under
  the repository root); the user's own imports always;
- a rule whose front matter names `paths` only when Claude Code reads a matching file: never here.
Front matter and HTML comments are not part of what the model reads.
"""

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MAX_DEPTH = 4  # imports deep: the importing file is depth 0
MAX_BYTES = 4 * 1024 * 1024  # a bigger file is skipped, as Claude Code skips it
MANAGED = {"linux": "/etc/claude-code", "darwin": "/Library/Application Support/ClaudeCode",
           "win32": r"C:\Program Files\ClaudeCode"}
# What Claude Code takes as a text file in an @import (an import without an extension too).
TEXT = set((
    ".md .txt .text .json .yaml .yml .toml .xml .csv .html .htm .css .scss .sass .less .js .ts .tsx .jsx .mjs "
    ".cjs .mts .cts .py .pyi .pyw .rb .erb .rake .go .rs .java .kt .kts .scala .c .cpp .cc .cxx .h .hpp .hxx .cs "
    ".swift .sh .bash .zsh .fish .ps1 .bat .cmd .env .ini .cfg .conf .config .properties .sql .graphql .gql .proto "
    ".vue .svelte .astro .ejs .hbs .pug .jade .php .pl .pm .lua .r .R .dart .ex .exs .erl .hrl .clj .cljs .cljc "
    ".edn .hs .lhs .elm .ml .mli .f .f90 .f95 .for .cmake .make .makefile .gradle .sbt .rst .adoc .asciidoc .org "
    ".tex .latex .lock .log .diff .patch").split())
KINDS = {
    "managed": "the organization's instructions",
    "user": "the user's own instructions for all projects",
    "project": "the project's instructions, checked into the codebase",
    "local": "the user's own instructions for this project, not checked in",
}
_IMPORT = re.compile(r"(?:^|\s)@((?:[^\s\\]|\\ )+)")
_LIST_ITEM = re.compile(r"( {0,3}(?:[-+*]|\d{1,9}[.)]) +)\S")
_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n\s*\n).)+?)(?<!`)\1(?!`)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


@dataclass
class Memory:
    path: Path
    kind: str  # a KINDS key
    text: str


def load(cwd: Path, env: Mapping[str, str], platform: str = sys.platform) -> list[Memory]:
    """Every memory file Claude Code would load at start in `cwd`, in its order."""
    from freeclaude.claude import facts

    cwd = Path(cwd).absolute()
    found = _Walk(cwd, Path(env.get("HOME") or env.get("USERPROFILE") or Path.home()),
                  _external_approved(cwd, env))
    managed = MANAGED.get(platform)
    if managed:
        found.file(Path(managed) / "CLAUDE.md", "managed")
        found.rules(Path(managed) / ".claude" / "rules", "managed")
    user = facts.claude_dir(env)
    found.file(user / "CLAUDE.md", "user")
    found.rules(user / "rules", "user")
    for folder in reversed([cwd, *cwd.parents][:-1]):  # the filesystem root is never read
        found.file(folder / "CLAUDE.md", "project")
        found.file(folder / ".claude" / "CLAUDE.md", "project")
        found.rules(folder / ".claude" / "rules", "project")
        found.file(folder / "CLAUDE.local.md", "local")
    return found.memories


def render(memories: list[Memory]) -> str:
    """What the system prompt gets: each file's text under its path and what it is."""
    if not memories:
        return ""
    parts = ["# Memory files (CLAUDE.md)\n\nInstructions the user and the project keep for you in memory files. "
             "Follow them: they take precedence over your default behaviour."]
    parts += [f"## {m.path} ({KINDS[m.kind]})\n\n{m.text.strip()}" for m in memories]
    return "\n\n".join(parts) + "\n"


class _Walk:
    def __init__(self, cwd: Path, home: Path, external: bool) -> None:
        self.cwd, self.home, self.external = cwd, home, external
        self.seen: set[Path] = set()
        self.memories: list[Memory] = []

    def file(self, path: Path, kind: str, depth: int = 0) -> None:
        key = Path(os.path.normpath(path))
        if key in self.seen or depth > MAX_DEPTH:
            return
        if depth and kind != "user" and not self.external and not _inside(key, self.cwd):
            return  # an import from outside the working directory, not approved
        if depth and key.suffix and key.suffix.lower() not in TEXT:
            return
        raw = _read(key)
        if raw is None:
            return
        self.seen.add(key)
        text = front_matter(raw)[0]
        shown = strip_comments(text)
        if shown.strip():
            self.memories.append(Memory(key, kind, shown))
            for target in imports(text):
                self.file(_resolve(target, key.parent, self.home), kind, depth + 1)

    def rules(self, folder: Path, kind: str) -> None:
        """Every rule file in the folder and under it, but those that wait for a matching path."""
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.is_dir():
                self.rules(entry, kind)
            elif entry.suffix == ".md":
                raw = _read(entry)
                if raw is not None and not front_matter(raw)[1]:
                    self.file(entry, kind)


def front_matter(raw: str) -> tuple[str, bool]:
    """The text without its YAML front matter, and whether that names `paths` other than `**`
    (a rule Claude Code applies only while the files it works on match)."""
    match = re.match(r"---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", raw, re.S)
    if not match:
        return raw, False
    lines, paths = (match.group(1) or "").splitlines(), []
    for i, line in enumerate(lines):
        key = re.match(r"paths\s*:(.*)", line)
        if key:
            paths = re.findall(r"[^\s\[\],'\"]+", key.group(1))
            for item in map(re.compile(r"\s*-\s*(.*)").match, lines[i + 1:] if not paths else ()):
                if not item:
                    break
                paths.append(item.group(1).strip().strip("'\""))
            break
    return raw[match.end():], any(p.removesuffix("/**") not in ("", "**") for p in paths)


def strip_comments(text: str) -> str:
    """The text without the HTML comments that start a line outside code, as the model reads it."""
    lines, out, fence = text.replace("\r\n", "\n").split("\n"), [], None
    i = 0
    while i < len(lines):
        line, i = lines[i], i + 1
        if fence is None and line.lstrip(" ").startswith("<!--"):
            while "-->" not in line and i < len(lines):
                line, i = line + "\n" + lines[i], i + 1
            rest = _COMMENT.sub("", line)
            if rest.strip():
                out.append(rest)
            continue
        fence = _fence(line, fence, 3)
        out.append(line)
    return "\n".join(out)


def imports(text: str) -> list[str]:
    """The @paths a memory file imports, in order: outside code blocks, code spans and comments."""
    prose, fence, blank, code, item = [], None, True, False, 0
    for line in text.replace("\r\n", "\n").split("\n"):
        flat = line.expandtabs(4)
        indent = len(flat) - len(flat.lstrip(" "))
        if fence is not None or not line.strip():
            if fence is not None:
                fence = _fence(line, fence, item + 3)
            blank = fence is None  # a blank line, or the end of a fenced block
            prose.append("")
            continue
        if (blank or code) and indent >= item + 4:  # an indented code block
            code, blank = True, False
            prose.append("")
            continue
        listed = _LIST_ITEM.match(flat)
        if listed:
            item = len(listed.group(1))
        elif blank and indent < item:
            item = 0  # out of the list
        code, blank = False, False
        fence = _fence(line, None, item + 3)
        prose.append("" if fence else line)
    found = []
    for match in _IMPORT.finditer(_COMMENT.sub(" ", _SPAN.sub(" ", "\n".join(prose)))):
        target = match.group(1).split("#", 1)[0].replace("\\ ", " ")
        if target and (target.startswith(("./", "~/")) or (target.startswith("/") and target != "/")
                       or re.match(r"[A-Za-z0-9._-]", target)) and target not in found:
            found.append(target)
    return found


def _fence(line: str, fence: str | None, indent: int) -> str | None:
    """The fence open after this line: a line of three or more ` or ~ opens a code block, and
    one of the same character, at least as long, with nothing after it closes it."""
    match = re.match(rf" {{0,{indent}}}(`{{3,}}|~{{3,}})(.*)", line.expandtabs(4))
    if fence is None:
        return match.group(1) if match and "`" not in match.group(2) else None
    closes = match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) and not match.group(2).strip()
    return None if closes else fence


def _resolve(target: str, base: Path, home: Path) -> Path:
    if target.startswith("~/"):
        return home / target[2:]
    return base / target


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _external_approved(cwd: Path, env: Mapping[str, str]) -> bool:
    """Whether the user let this project's memory import files from outside it: Claude Code keeps
    that in its global config (~/.claude.json, or .claude.json in $CLAUDE_CONFIG_DIR) under the
    repository root, else the working directory."""
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    config = Path(env["CLAUDE_CONFIG_DIR"]) / ".claude.json" if env.get("CLAUDE_CONFIG_DIR") else home / ".claude.json"
    try:
        projects = json.loads(config.read_text(encoding="utf-8")).get("projects") or {}
    except (OSError, ValueError, AttributeError):
        return False
    root = next((p for p in (cwd, *cwd.parents) if (p / ".git").exists()), cwd)
    entry = projects.get(str(root)) if isinstance(projects, dict) else None
    return isinstance(entry, dict) and entry.get("hasClaudeMdExternalIncludesApproved") is True
