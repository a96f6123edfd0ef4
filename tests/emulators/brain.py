"""What the scripted model behind every emulator says: the same for both wire formats. A brain
gets a View of the request and answers with a Turn (reasoning, text, tool calls)."""

import re
from dataclasses import dataclass, field


@dataclass
class Call:
    name: str
    args: dict
    id: str = ""


@dataclass
class Turn:
    reasoning: str = ""
    text: str = ""
    calls: list[Call] = field(default_factory=list)


@dataclass
class View:
    """A request as a brain sees it, the same for both wire formats."""

    tools: list[str]
    user: str  # the text of the last user message, tool results left out
    results: list[str]  # every tool result's text so far, in order
    system: str
    stream: bool


def probe_answer(view: View) -> Turn | None:
    """The answers `freeclaude profile test` checks for."""
    if "single word: pong" in view.user:
        return Turn(text="pong")
    if "Count from 1 to 10" in view.user:
        return Turn(text="1 2 3 4 5 6 7 8 9 10")
    if "get_weather" in view.tools and not view.results:
        cities = ["Paris", "Tokyo"] if "Tokyo" in view.user else ["Paris"]
        return Turn(reasoning="The user wants the weather; the tool gives it.",
                    calls=[Call("get_weather", {"city": c, "unit": "celsius"}) for c in cities])
    return None


_FILES = re.compile(r"\b([\w-]+\.txt)\b")


class Writer:
    """Claude Code's tool loop: asked to write some .txt files (named in the prompt), it writes
    them one Write call per turn, thinking before each, then says so; where Claude Code offers no
    Write (its minimal mode: lean = "minimal"), with Edit, which makes a new file from an empty
    old_string. Everything else Claude Code asks on the side (titles, summaries) gets a short answer."""

    def __init__(self, project) -> None:
        self.project = project

    def __call__(self, view: View) -> Turn:
        probe = probe_answer(view)
        if probe:
            return probe
        files = list(dict.fromkeys(_FILES.findall(view.user)))
        tool = next((t for t in ("Write", "Edit") if t in view.tools), None)
        if tool and files:
            written = sum(1 for r in view.results if "success" in r.lower() or "created" in r.lower())
            if written < len(files):
                name = files[written]
                path, content = str(self.project / name), f"{name} ok\n"
                args = {"file_path": path, "content": content} if tool == "Write" else {
                    "file_path": path, "old_string": "", "new_string": content}
                return Turn(reasoning=f"Step {written + 1}: write {name} with the {tool} tool.",
                            text=f"Writing {name}.", calls=[Call(tool, args)])
            return Turn(reasoning="Every file is written.", text=f"Wrote {', '.join(files)}.")
        return Turn(text="OK")


def default_brain(view: View) -> Turn:
    return probe_answer(view) or Turn(text="OK")


class WriteRead:
    """Claude Code's three-step loop: asked to write a file and read it back (the file named in
    the prompt), it writes it (with Write, or with Bash where Claude Code's minimal mode has no
    Write), reads it with Read, then says what it holds."""

    def __init__(self, project, name: str = "notes.txt", content: str = "hello from a free plan") -> None:
        self.project, self.name, self.content = project, name, content

    def __call__(self, view: View) -> Turn:
        probe = probe_answer(view)
        if probe:
            return probe
        tools = set(view.tools)
        if self.name not in view.user or "Read" not in tools or not tools & {"Write", "Bash"}:
            return Turn(text="OK")
        path = str(self.project / self.name)
        if not view.results:
            write = (Call("Write", {"file_path": path, "content": self.content + "\n"}) if "Write" in tools
                     else Call("Bash", {"command": f"printf '{self.content}\\n' > '{path}'", "description": "Write the file"}))
            return Turn(reasoning="First write the file.", text=f"Writing {self.name}.", calls=[write])
        if len(view.results) == 1:
            return Turn(reasoning="Now read it back.", calls=[Call("Read", {"file_path": path})])
        said = self.content if self.content in view.results[-1] else "something else"
        return Turn(reasoning="It is read.", text=f"{self.name} says: {said}")
