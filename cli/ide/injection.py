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
from typing import Any

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


def settings(text: str, strict: bool, where: str) -> dict[str, Any]:
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


def inject(text: str, wanted: dict[str, Any], *, strict: bool, where: str, indent: str = "  ") -> tuple[str, dict[str, Any]]:
    """`text` with the wanted keys set; and the record `eject` needs."""
    data = settings(text, strict, where)
    record: dict[str, Any] = {}
    for key, value in wanted.items():
        existed = key in data
        if isinstance(value, Env):
            current = data.get(key)
            box = _Box.of(current, value.shape, key, where)
            added: dict[str, dict[str, Any]] = {}
            for name, v in value.values.items():
                had = box.has(name)
                if had and name in value.keep:
                    continue
                added[name] = {"ours": v, "had": had, "before": box.get(name) if had else None}
                box.set(name, v)
            record[key] = {"existed": existed, "vars": added}
            text = jsonc.set_member(text, key, box.value, indent)
        elif isinstance(value, Entries):
            holder, entries = _entries(data.get(key), value.name, key, where)
            new = [v for v in value.values if v not in entries]
            record[key] = {"existed": existed, "list": value.name, "had_list": value.name in holder, "entries": new}
            if new:
                text = jsonc.set_member(text, key, {**holder, value.name: entries + new}, indent)
        else:
            record[key] = {"existed": existed, "before": data.get(key), "ours": value}
            text = jsonc.set_member(text, key, value, indent)
    return text, record


def eject(text: str, record: dict[str, Any], *, strict: bool, where: str) -> tuple[str, list[str]]:
    """`text` without what `inject` recorded, as far as it is still there unchanged; and the
    names (keys, variables) it took out."""
    data = settings(text, strict, where)
    taken: list[str] = []
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
                holder, entries = _entries(data[key], entry["list"], key, where)
            except FreeclaudeError:
                continue  # the user made it something else: theirs now
            listed = [v for v in entry["entries"] if v in entries]
            if not listed:
                continue
            rest = [v for v in entries if v not in listed]
            if rest or entry["had_list"]:
                holder[entry["list"]] = rest
            else:
                holder.pop(entry["list"], None)
            text = (jsonc.remove_member(text, key) if not holder and not entry["existed"]
                    else jsonc.set_member(text, key, holder))
            taken += listed
        elif data[key] == entry["ours"]:
            text = (jsonc.set_member(text, key, entry["before"]) if entry["existed"]
                    else jsonc.remove_member(text, key))
            taken.append(key)
    return text, taken


def _entries(current: Any, name: str, key: str, where: str) -> tuple[dict[str, Any], list[Any]]:
    """The key's object (a copy) and its list `name`."""
    box = dict(current) if isinstance(current, dict) else {} if current is None else None
    entries = box.get(name, []) if box is not None else None
    if box is None or not isinstance(entries, list):
        raise FreeclaudeError(f"{key}{'.' + name if box is not None else ''} in {where} is not what Claude Code "
                              "reads there: fix it first; freeclaude left the file untouched")
    return box, list(entries)


class _Box:
    """Environment variables as the file holds them: an object, or a list of {name, value}."""

    def __init__(self, value: dict[str, Any] | list[dict[str, Any]]) -> None:
        self.value = value

    @classmethod
    def of(cls, current: Any, shape: str, key: str, where: str) -> "_Box":
        if current is None:
            return cls([] if shape == "list" else {})
        if isinstance(current, dict) or (isinstance(current, list) and all(isinstance(e, dict) for e in current)):
            return cls(current)
        raise FreeclaudeError(f"{key} in {where} is neither an object nor a list of {{name, value}}: "
                              "fix it first; freeclaude left the file untouched")

    def _entries(self, name: str) -> list[dict[str, Any]]:
        assert isinstance(self.value, list)
        return [e for e in self.value if e.get("name") == name]

    def has(self, name: str) -> bool:
        return name in self.value if isinstance(self.value, dict) else bool(self._entries(name))

    def get(self, name: str) -> Any:
        return self.value[name] if isinstance(self.value, dict) else self._entries(name)[-1].get("value")

    def set(self, name: str, v: Any) -> None:
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
