"""Tools on the way up and tool calls on the way down: names, ids and the OpenAI tool shapes."""

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Literal

from freeclaude.profiles.providers import Quirks
from freeclaude.translate.schema import clean_schema

MAX_TOOL_NAME = 64
_ID_BAD = re.compile(r"[^a-zA-Z0-9_-]")


class ToolNames:
    """Tool names over the 64 characters OpenAI allows, shortened stably and mapped back."""

    __slots__ = ("_down",)

    def __init__(self) -> None:
        self._down: dict[str, str] = {}

    def up(self, name: str) -> str:
        if len(name) <= MAX_TOOL_NAME:
            return name
        short = name[: MAX_TOOL_NAME - 9] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]
        self._down[short] = name
        return short

    def down(self, name: str) -> str:
        return self._down.get(name, name)


def tool_id(raw: object) -> str:
    """An id Anthropic clients accept ([a-zA-Z0-9_-]); the same raw id always maps alike."""
    return _ID_BAD.sub("_", raw) if isinstance(raw, str) and raw else ""


def function(t: Mapping[str, Any], q: Quirks, names: ToolNames) -> dict[str, Any] | None:
    """An Anthropic tool as an OpenAI function, or None for a server tool."""
    schema = t.get("input_schema")
    if schema is None and t.get("type") not in (None, "custom"):
        return None  # a server tool (web search, code execution): runs at Anthropic only
    schema = schema or {"type": "object", "properties": {}}
    fn: dict[str, Any] = {"name": names.up(t["name"]), "parameters": clean_schema(schema) if q.clean_schema else schema}
    if t.get("description"):
        fn["description"] = t["description"]
    return {"type": "function", "function": fn}


def choice(tc: Mapping[str, Any], names: ToolNames) -> Literal["required", "none", "auto"] | dict[str, Any] | None:
    """Anthropic's tool_choice as OpenAI's; None when the request sets none."""
    kind = tc.get("type")
    if kind == "any":
        return "required"
    if kind == "none":
        return "none"
    if kind == "tool":
        return {"type": "function", "function": {"name": names.up(tc["name"])}}
    return "auto" if kind == "auto" else None
