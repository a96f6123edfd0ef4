"""Putting values into a settings file and taking them out again, as text (freeclaude.ide.jsonc), so
that nothing else in the file moves. Pure: text in, text and a record out.

What `inject` is given, per top-level key: `Env` (environment variables, merged one by one into
what the user already has there: an object of NAME: value, or VS Code's list of {"name",
"value"}), `Entries` (strings added to a list inside an object, as Claude Code's
permissions.deny) or a plain value. The record says what each key and variable held before, so
that `eject` removes exactly what was added, puts back what was replaced, and leaves alone
whatever the user changed since.
"""

import dataclasses
import json

from freeclaude.errors import FreeclaudeError
from freeclaude.ide import jsonc


@dataclasses.dataclass
class Env:
    values: dict[str, str]
    shape: str = "dict"  # for a key not there yet: "dict" (NAME: value) or "list" ({"name", "value"})
    keep: tuple[str, ...] = ()  # variables a value the user set wins over (a timeout, an output cap)


@dataclasses.dataclass
class Entries:
    """Strings for the list `name` inside the key's object; those already there stay the user's."""

    name: str
    values: tuple[str, ...]


def parse(text: str, strict: bool, where: str) -> dict:
    """The settings as data. `strict`: plain JSON, as Claude Code reads its settings."""
    try:
        data = (json.loads(text) if text.strip() else {}) if strict else jsonc.loads(text)
        if isinstance(data, dict):
            jsonc.top(text)  # the editor finds its way where the parser did
    except ValueError as e:
        kind = "JSON" if strict else "JSON (with comments)"
        raise FreeclaudeError(f"{where} is not valid {kind} ({e}): fix it first; freeclaude left it untouched") from None
    if not isinstance(data, dict):
        raise FreeclaudeError(f"{where} does not hold a JSON object: fix it first; freeclaude left it untouched")
    return data


def inject(text: str, wanted: dict, *, strict: bool, where: str, indent: str = "  ") -> tuple[str, dict]:
    """`text` with the wanted keys set; and the record `eject` needs."""
    data = parse(text, strict, where)
    record = {}
    for key, value in wanted.items():
        existed = key in data
        if isinstance(value, Env):
            current = data.get(key)
            box = _Box.of(current, value.shape, key, where)
            added = {}
            for name, v in value.values.items():
                had = box.has(name)
                if had and name in value.keep:
                    continue
                added[name] = {"ours": v, "had": had, "before": box.get(name) if had else None}
                box.set(name, v)
            record[key] = {"existed": existed, "vars": added}
            text = jsonc.set_member(text, key, box.value, indent)
        elif isinstance(value, Entries):
            box, entries = _entries(data.get(key), value.name, key, where)
            added = [v for v in value.values if v not in entries]
            record[key] = {"existed": existed, "list": value.name, "had_list": value.name in box, "entries": added}
            if added:
                text = jsonc.set_member(text, key, {**box, value.name: entries + added}, indent)
        else:
            record[key] = {"existed": existed, "before": data.get(key), "ours": value}
            text = jsonc.set_member(text, key, value, indent)
    return text, record


def eject(text: str, record: dict, *, strict: bool, where: str) -> tuple[str, list[str]]:
    """`text` without what `inject` recorded, as far as it is still there unchanged; and the
    names (keys, variables) it took out."""
    data = parse(text, strict, where)
    taken = []
    for key, entry in record.items():
        if key not in data:
            continue  # the user took it out already
        if "vars" in entry:
            try:
                box = _Box.of(data[key], "dict", key, where)
            except FreeclaudeError:
                continue  # the user made it something else: theirs now
            ours = [n for n, var in entry["vars"].items() if box.has(n) and box.get(n) == var["ours"]]
            if not ours:
                continue  # each changed since: the user's values now
            for name in ours:
                var = entry["vars"][name]
                if var["had"]:
                    box.set(name, var["before"])
                else:
                    box.remove(name)
            taken += ours
            if not entry["existed"] and box.empty():
                text = jsonc.remove_member(text, key)
            else:
                text = jsonc.set_member(text, key, box.value)
        elif "entries" in entry:
            try:
                box, entries = _entries(data[key], entry["list"], key, where)
            except FreeclaudeError:
                continue  # the user made it something else: theirs now
            ours = [v for v in entry["entries"] if v in entries]
            if not ours:
                continue
            rest = [v for v in entries if v not in ours]
            if rest or entry["had_list"]:
                box[entry["list"]] = rest
            else:
                box.pop(entry["list"], None)
            text = (jsonc.remove_member(text, key) if not box and not entry["existed"]
                    else jsonc.set_member(text, key, box))
            taken += ours
        elif data[key] == entry["ours"]:
            text = (jsonc.set_member(text, key, entry["before"]) if entry["existed"]
                    else jsonc.remove_member(text, key))
            taken.append(key)
    return text, taken


def _entries(current, name: str, key: str, where: str) -> tuple[dict, list]:
    """The key's object (a copy) and its list `name`."""
    box = dict(current) if isinstance(current, dict) else {} if current is None else None
    entries = box.get(name, []) if box is not None else None
    if not isinstance(entries, list):
        raise FreeclaudeError(f"{key}{'.' + name if box is not None else ''} in {where} is not what Claude Code "
                              "reads there: fix it first; freeclaude left the file untouched")
    return box, list(entries)


class _Box:
    """Environment variables as the file holds them: an object, or a list of {name, value}."""

    def __init__(self, value) -> None:
        self.value = value

    @classmethod
    def of(cls, current, shape: str, key: str, where: str) -> "_Box":
        if current is None:
            return cls([] if shape == "list" else {})
        if isinstance(current, dict) or (isinstance(current, list) and all(isinstance(e, dict) for e in current)):
            return cls(current)
        raise FreeclaudeError(f"{key} in {where} is neither an object nor a list of {{name, value}}: "
                              "fix it first; freeclaude left the file untouched")

    def _entries(self, name: str) -> list[dict]:
        return [e for e in self.value if e.get("name") == name]

    def has(self, name: str) -> bool:
        return name in self.value if isinstance(self.value, dict) else bool(self._entries(name))

    def get(self, name: str):
        return self.value[name] if isinstance(self.value, dict) else self._entries(name)[-1].get("value")

    def set(self, name: str, v) -> None:
        if isinstance(self.value, dict):
            self.value[name] = v
        elif self._entries(name):
            for e in self._entries(name):
                e["value"] = v
        else:
            self.value.append({"name": name, "value": v})

    def remove(self, name: str) -> None:
        if isinstance(self.value, dict):
            del self.value[name]
        else:
            self.value[:] = [e for e in self.value if e.get("name") != name]

    def empty(self) -> bool:
        return not self.value
