"""The request checks the translation relies on: a 400 that names the field, never a crash later."""

from typing import Any, NoReturn


class InvalidRequest(ValueError):
    """The client's request is malformed; the message names the field."""


def _bad(field: str, what: str) -> NoReturn:
    raise InvalidRequest(f"{field}: {what}")


def _need(cond: bool, field: str, what: str) -> None:
    if not cond:
        _bad(field, what)


def validate(body: object, *, count_only: bool = False) -> dict[str, Any]:
    """Checks the shape the translation relies on; unknown fields are fine. The body, known now
    to be a request."""
    if not isinstance(body, dict):
        _bad("body", "must be a JSON object")
    _need(isinstance(body.get("model"), str) and body["model"] != "", "model", "must be a non-empty string")
    if not count_only:
        mt = body.get("max_tokens")
        _need(isinstance(mt, int) and not isinstance(mt, bool) and mt >= 1, "max_tokens", "must be a positive integer")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        _bad("messages", "must be a non-empty list")
    for i, m in enumerate(msgs):
        f = f"messages.{i}"
        if not isinstance(m, dict):
            _bad(f, "must be an object")
        _need(m.get("role") in ("user", "assistant", "system"), f + ".role", "must be user, assistant or system")
        _check_content(m.get("content"), f + ".content")
    system = body.get("system")
    if system is not None:
        _check_content(system, "system")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            _bad("tools", "must be a list")
        for i, t in enumerate(tools):
            if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not t["name"]:
                _bad(f"tools.{i}.name", "must be a non-empty string")
            schema = t.get("input_schema")
            _need(schema is None or isinstance(schema, dict), f"tools.{i}.input_schema", "must be an object")
            desc = t.get("description")
            _need(desc is None or isinstance(desc, str), f"tools.{i}.description", "must be a string")
    tc = body.get("tool_choice")
    if tc is not None:
        if not isinstance(tc, dict) or tc.get("type") not in ("auto", "any", "tool", "none"):
            _bad("tool_choice.type", "must be auto, any, tool or none")
        if tc["type"] == "tool":
            _need(isinstance(tc.get("name"), str), "tool_choice.name", "must be a string")
    for key in ("temperature", "top_p"):
        v = body.get(key)
        _need(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)), key, "must be a number")
    stops = body.get("stop_sequences")
    _need(stops is None or (isinstance(stops, list) and all(isinstance(s, str) for s in stops)),
          "stop_sequences", "must be a list of strings")
    _need(body.get("stream") in (None, True, False), "stream", "must be a boolean")
    for key in ("thinking", "output_config", "metadata"):
        _need(body.get(key) is None or isinstance(body[key], dict), key, "must be an object")
    return body


def _check_content(content: object, field: str) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        _bad(field, "must be a string or a list of blocks")
    for j, b in enumerate(content):
        if not isinstance(b, dict) or not isinstance(b.get("type"), str):
            _bad(f"{field}.{j}.type", "must be a string")
        t = b["type"]
        if t == "text":
            _need(isinstance(b.get("text"), str), f"{field}.{j}.text", "must be a string")
        elif t == "tool_use":
            _need(isinstance(b.get("id"), str) and isinstance(b.get("name"), str), f"{field}.{j}",
                  "tool_use needs string id and name")
        elif t == "tool_result":
            _need(isinstance(b.get("tool_use_id"), str), f"{field}.{j}.tool_use_id", "must be a string")
            inner = b.get("content")
            if inner is not None:
                _check_content(inner, f"{field}.{j}.content")
        elif t in ("image", "document"):
            source = b.get("source")
            if not isinstance(source, dict):
                _bad(f"{field}.{j}.source", "must be an object")
            if t == "document" and source.get("type") == "content":  # its text is read (request.py)
                _check_content(source.get("content"), f"{field}.{j}.source.content")
