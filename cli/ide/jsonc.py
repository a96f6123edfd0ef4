"""JSON with comments and trailing commas (VS Code's settings.json; plain JSON is a subset), read
and edited as text: a top-level member is replaced, inserted or removed, and every other byte
(comments, formatting, the order of keys) stays as it was.

The scanner knows strings (with escapes), `//` and `/* */` comments and trailing commas; a
brace, slash or quote inside a string or a comment is never taken for structure.
"""

import dataclasses
import json
import re
from typing import Any

_SPACE = " \t\r\n"
_END_OF_SCALAR = re.compile(r"[\s,}\]/]")


class JsoncError(ValueError):
    """The text is not JSON with comments (or not an object at the top)."""


@dataclasses.dataclass
class Member:
    key: str
    start: int  # the key's opening quote
    value_start: int
    value_end: int  # one past the value
    comma: int | None  # the comma after the value, if there is one


@dataclasses.dataclass
class Top:
    open: int  # the top-level object's `{`
    close: int  # and its `}`
    members: list[Member]

    def find(self, key: str) -> Member | None:
        """The member named `key`; of duplicates the last, which is the one JSON parsers keep."""
        found = [m for m in self.members if m.key == key]
        return found[-1] if found else None


def _skip(text: str, i: int) -> int:
    """Past whitespace and comments."""
    n = len(text)
    while i < n:
        if text[i] in _SPACE:
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise JsoncError(f"a /* comment is never closed (line {_line(text, i)})")
            i = end + 2
        else:
            break
    return i


def _string_end(text: str, i: int) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
        elif text[j] == '"':
            return j + 1
        else:
            j += 1
    raise JsoncError(f"a string is never closed (line {_line(text, i)})")


def _value_end(text: str, i: int) -> int:
    if i >= len(text):
        raise JsoncError("the text ends where a value should be")
    if text[i] == '"':
        return _string_end(text, i)
    if text[i] in "{[":
        closers, j = [], i
        while j < len(text):
            j = _skip(text, j)
            if j >= len(text):
                break
            c = text[j]
            if c == '"':
                j = _string_end(text, j)
                continue
            if c in "{[":
                closers.append("}" if c == "{" else "]")
            elif c in "}]":
                if c != closers.pop():
                    raise JsoncError(f"a '{c}' closes what it did not open (line {_line(text, j)})")
                if not closers:
                    return j + 1
            j += 1
        raise JsoncError(f"an object or array is never closed (line {_line(text, i)})")
    match = _END_OF_SCALAR.search(text, i)
    end = match.start() if match else len(text)
    if end == i:
        raise JsoncError(f"a value is missing (line {_line(text, i)})")
    return end


def top(text: str) -> Top | None:
    """The top-level object's members; None for a text of only whitespace and comments."""
    i = _skip(text, 0)
    if i == len(text):
        return None
    if text[i] != "{":
        raise JsoncError("the settings are not a JSON object")
    opened, i, members = i, i + 1, []
    while True:
        i = _skip(text, i)
        if i < len(text) and text[i] == "}":
            break
        if i >= len(text) or text[i] != '"':
            raise JsoncError(f"a key is expected (line {_line(text, i)})")
        start, key_end = i, _string_end(text, i)
        i = _skip(text, key_end)
        if i >= len(text) or text[i] != ":":
            raise JsoncError(f"a ':' is expected (line {_line(text, i)})")
        value_start = _skip(text, i + 1)
        value_end = _value_end(text, value_start)
        i = _skip(text, value_end)
        comma = None
        if i < len(text) and text[i] == ",":
            comma, i = i, i + 1
        elif i >= len(text) or text[i] != "}":
            raise JsoncError(f"a ',' or '}}' is expected (line {_line(text, i)})")
        members.append(Member(json.loads(text[start:key_end]), start, value_start, value_end, comma))
    if _skip(text, i + 1) != len(text):
        raise JsoncError(f"text follows the settings object (line {_line(text, i + 1)})")
    return Top(opened, i, members)


def loads(text: str) -> Any:
    """Parses JSON with comments and trailing commas; an empty text is an empty object.
    Comments and dropped commas become spaces, so an error's line and column are the file's."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        elif text.startswith(("//", "/*"), i):
            end = _skip(text, i)
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == ",":
            following = _skip(text, i + 1)
            out.append(" " if following < n and text[following] in "}]" else ",")
            i += 1
        else:
            out.append(c)
            i += 1
    cleaned = "".join(out)
    if not cleaned.strip():
        return {}
    try:
        return json.loads(cleaned)
    except ValueError as e:
        raise JsoncError(str(e)) from None


def dump(value: Any, unit: str, level: int = 1, newline: str = "\n") -> str:
    """`value` as JSON laid out to sit `level` indents deep."""
    text = json.dumps(value, indent=unit, ensure_ascii=False)
    return text.replace("\n", newline + unit * level)


def indent_unit(text: str, found: Top | None, default: str) -> str:
    """The indent the file's top-level members use (a member's leading whitespace)."""
    for m in found.members if found else ():
        line_start = text.rfind("\n", 0, m.start) + 1
        lead = text[line_start:m.start]
        if lead and not lead.strip():
            return lead
    return default


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def set_member(text: str, key: str, value: Any, default_indent: str = "  ") -> str:
    """`text` with the top-level `key` set to `value`: its value replaced where it exists,
    else a new first member. A text of only whitespace and comments gets an object."""
    found = top(text)
    nl = newline_of(text)
    unit = indent_unit(text, found, default_indent)
    member = f"{json.dumps(key, ensure_ascii=False)}: {dump(value, unit, 1, nl)}"
    if found is None:
        lead = text.rstrip() + nl if text.strip() else ""
        return f"{lead}{{{nl}{unit}{member}{nl}}}{nl}"
    existing = found.find(key)
    if existing:
        return text[:existing.value_start] + dump(value, unit, 1, nl) + text[existing.value_end:]
    after_brace = found.open + 1
    line_end = text.find("\n", after_brace)
    rest = text[after_brace:line_end if line_end >= 0 else len(text)].strip()
    if line_end >= 0 and (not rest or rest.startswith("//")):  # the object opens a line of its own
        comma = "," if found.members else ""
        return text[:line_end + 1] + f"{unit}{member}{comma}{nl}" + text[line_end + 1:]
    if found.members:  # e.g. {"a": 1} on one line
        first = found.members[0].start
        return text[:first] + member + ", " + text[first:]
    return text[:after_brace] + f"{nl}{unit}{member}{nl}" + text[after_brace:].lstrip(" \t")


def remove_member(text: str, key: str) -> str:
    """`text` without the top-level `key` (its last occurrence); comments around it stay."""
    found = top(text)
    member = found.find(key) if found else None
    if found is None or member is None:
        return text
    index = found.members.index(member)
    start = member.start
    line_start = text.rfind("\n", 0, start) + 1
    if not text[line_start:start].strip():
        start = line_start
    end = member.comma + 1 if member.comma is not None else member.value_end
    line_end = text.find("\n", end)
    if not text[end:line_end if line_end >= 0 else len(text)].strip():
        end = line_end + 1 if line_end >= 0 else len(text)
    elif start == member.start and member.comma is not None:
        while text[end] in " \t":  # a member inline with others: the space after its comma goes too
            end += 1
    if member.comma is None and index > 0:
        # the last member goes: the comma before it would now trail (plain JSON refuses that)
        before = found.members[index - 1].comma
        assert before is not None  # top() refuses members not parted by a comma
        return text[:before] + text[before + 1:start] + text[end:]
    return text[:start] + text[end:]


def _line(text: str, i: int) -> int:
    return text.count("\n", 0, i) + 1
