"""Anthropic Messages request -> OpenAI Chat Completions request."""

import hashlib
import json
import re

from freeclaude.providers import Model, Quirks

# Claude Code's first system block carries a billing line that changes on every call; sent
# upstream it would defeat prompt caching, so it never leaves this process.
BILLING_PREFIX = "x-anthropic-billing-header"
MAX_TOOL_NAME = 64
_ID_BAD = re.compile(r"[^a-zA-Z0-9_-]")
_EFFORT = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}


class InvalidRequest(ValueError):
    """The client's request is malformed; the message names the field."""


def strip_billing(system):
    """The system prompt without Claude Code's per-request billing line."""
    if isinstance(system, str):
        return "" if system.startswith(BILLING_PREFIX) else system
    if isinstance(system, list):
        return [
            b
            for b in system
            if not (isinstance(b, dict) and str(b.get("text", "")).startswith(BILLING_PREFIX))
        ]
    return system


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


def tool_id(raw) -> str:
    """An id Anthropic clients accept ([a-zA-Z0-9_-]); the same raw id always maps alike."""
    return _ID_BAD.sub("_", raw) if isinstance(raw, str) and raw else ""


# ---------------------------------------------------------------- validation


def _need(cond: bool, field: str, what: str) -> None:
    if not cond:
        raise InvalidRequest(f"{field}: {what}")


def validate(body, *, count_only: bool = False) -> None:
    """Checks the shape the translation relies on; unknown fields are fine."""
    _need(isinstance(body, dict), "body", "must be a JSON object")
    _need(isinstance(body.get("model"), str) and body["model"] != "", "model", "must be a non-empty string")
    if not count_only:
        mt = body.get("max_tokens")
        _need(isinstance(mt, int) and not isinstance(mt, bool) and mt >= 1, "max_tokens", "must be a positive integer")
    msgs = body.get("messages")
    _need(isinstance(msgs, list) and len(msgs) > 0, "messages", "must be a non-empty list")
    for i, m in enumerate(msgs):
        f = f"messages.{i}"
        _need(isinstance(m, dict), f, "must be an object")
        _need(m.get("role") in ("user", "assistant", "system"), f + ".role", "must be user, assistant or system")
        _check_content(m.get("content"), f + ".content")
    system = body.get("system")
    if system is not None:
        _check_content(system, "system")
    tools = body.get("tools")
    if tools is not None:
        _need(isinstance(tools, list), "tools", "must be a list")
        for i, t in enumerate(tools):
            _need(isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"], f"tools.{i}.name", "must be a non-empty string")
            schema = t.get("input_schema")
            _need(schema is None or isinstance(schema, dict), f"tools.{i}.input_schema", "must be an object")
            desc = t.get("description")
            _need(desc is None or isinstance(desc, str), f"tools.{i}.description", "must be a string")
    tc = body.get("tool_choice")
    if tc is not None:
        _need(isinstance(tc, dict) and tc.get("type") in ("auto", "any", "tool", "none"), "tool_choice.type", "must be auto, any, tool or none")
        if tc["type"] == "tool":
            _need(isinstance(tc.get("name"), str), "tool_choice.name", "must be a string")
    for key in ("temperature", "top_p"):
        v = body.get(key)
        _need(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)), key, "must be a number")
    stops = body.get("stop_sequences")
    _need(stops is None or (isinstance(stops, list) and all(isinstance(s, str) for s in stops)), "stop_sequences", "must be a list of strings")
    _need(body.get("stream") in (None, True, False), "stream", "must be a boolean")
    for key in ("thinking", "output_config", "metadata"):
        _need(body.get(key) is None or isinstance(body[key], dict), key, "must be an object")


def _check_content(content, field: str) -> None:
    if isinstance(content, str):
        return
    _need(isinstance(content, list), field, "must be a string or a list of blocks")
    for j, b in enumerate(content):
        _need(isinstance(b, dict) and isinstance(b.get("type"), str), f"{field}.{j}.type", "must be a string")
        t = b["type"]
        if t == "text":
            _need(isinstance(b.get("text"), str), f"{field}.{j}.text", "must be a string")
        elif t == "tool_use":
            _need(isinstance(b.get("id"), str) and isinstance(b.get("name"), str), f"{field}.{j}", "tool_use needs string id and name")
        elif t == "tool_result":
            _need(isinstance(b.get("tool_use_id"), str), f"{field}.{j}.tool_use_id", "must be a string")
            inner = b.get("content")
            if inner is not None:
                _check_content(inner, f"{field}.{j}.content")
        elif t == "image":
            _need(isinstance(b.get("source"), dict), f"{field}.{j}.source", "must be an object")


# ---------------------------------------------------------------- translation


def to_openai(body: dict, model: Model, names: ToolNames, *, stream: bool, max_tokens: int) -> dict:
    """The Chat Completions request for `model`; `max_tokens` is already clamped by the caller."""
    q = model.quirks
    out: dict = {"model": model.name, "messages": _messages(body, q, names)}
    out[q.max_tokens_field] = max_tokens
    if stream:
        out["stream"] = True
        if q.stream_options:
            out["stream_options"] = {"include_usage": True}
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            out[key] = body[key]
    if "temperature" not in out and model.temperature is not None:
        out["temperature"] = model.temperature
    if body.get("stop_sequences"):
        out["stop"] = body["stop_sequences"][:4]  # the OpenAI limit
    tools = [t for t in (_tool(t, q, names) for t in body.get("tools") or ()) if t]
    tc = body.get("tool_choice") or {}
    if tools:
        out["tools"] = tools
        choice = _tool_choice(tc, names)
        if choice is not None:
            out["tool_choice"] = choice
        if tc.get("disable_parallel_tool_use"):
            out["parallel_tool_calls"] = False
    if q.reasoning_effort:
        effort = reasoning_effort(body)
        if effort:
            out["reasoning_effort"] = effort
    return out


def reasoning_effort(body: dict) -> str | None:
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "disabled":
        return None
    effort = (body.get("output_config") or {}).get("effort")
    if effort in _EFFORT:
        return _EFFORT[effort]
    if thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens") or 0
        return "low" if budget < 4096 else "medium" if budget < 16384 else "high"
    return None


def text_of(content) -> str:
    """The text of a string or block list, other blocks skipped."""
    if isinstance(content, str):
        return content
    return "\n\n".join(b["text"] for b in content or () if b.get("type") == "text" and b.get("text"))


def _messages(body: dict, q: Quirks, names: ToolNames) -> list[dict]:
    out: list[dict] = []
    system = text_of(strip_billing(body.get("system") or ""))
    if system:
        out.append({"role": "system", "content": system})
    for msg in body["messages"]:
        role, content = msg["role"], msg.get("content") or ""
        if role == "user":
            _user(content, out, q)
        elif role == "assistant":
            _assistant(content, out, q, names)
        elif q.merge_system:
            text = text_of(content)
            if text:
                out.append({"role": "user", "content": reminder(text)})
        else:
            out.append({"role": "system", "content": text_of(content)})
    return _normalize(out)


def reminder(text: str) -> str:
    """A mid-conversation system message, as it travels inside a user turn."""
    return f"<system-reminder>\n{text}\n</system-reminder>"


def fold_system(messages: list[dict]) -> list[dict]:
    """Anthropic messages with mid-conversation system messages carried as reminders in the
    user turn, for upstreams that speak the Messages API but only take `system` at the top.
    A reminder after an assistant turn waits for the next user turn, after its tool results."""
    out: list[dict] = []
    held: list[dict] = []
    for m in messages:
        if m["role"] == "system":
            block = {"type": "text", "text": reminder(text_of(m.get("content")))}
            if out and out[-1]["role"] == "user":
                out[-1] = _with_blocks(out[-1], [block])
            else:
                held.append(block)
            continue
        if held:
            if m["role"] == "user":
                m = _with_blocks(m, held)
            else:
                out.append({"role": "user", "content": held})
            held = []
        out.append(m)
    if held:
        out.append({"role": "user", "content": held})
    return out


def _with_blocks(message: dict, blocks: list[dict]) -> dict:
    content = message.get("content")
    existing = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or ())
    return dict(message, content=existing + blocks)


def _image_part(block: dict, q: Quirks) -> dict:
    src = block.get("source") or {}
    if not q.images:
        return {"type": "text", "text": "[image omitted: this model does not accept images]"}
    if src.get("type") == "url":
        url = src.get("url", "")
    else:
        url = f"data:{src.get('media_type', 'image/png')};base64,{src.get('data', '')}"
    return {"type": "image_url", "image_url": {"url": url}}


def _document_text(block: dict) -> str:
    src = block.get("source") or {}
    title = block.get("title") or "document"
    kind = src.get("type")
    if kind == "text":
        body = src.get("data", "")
    elif kind == "content":
        body = text_of(src.get("content"))
    elif kind == "url":
        return f"[document '{title}' at {src.get('url', '')} not included: this model cannot fetch it]"
    else:
        media = src.get("media_type", "binary")
        return f"[document '{title}' ({media}) not included: this model cannot read {media} files]"
    return f"<document title={json.dumps(title)}>\n{body}\n</document>"


def _part(block: dict, q: Quirks) -> dict | None:
    """One user-visible content part, or None for blocks that carry nothing for the model."""
    t = block["type"]
    if t == "text":
        return {"type": "text", "text": block["text"]}
    if t == "image":
        return _image_part(block, q)
    if t == "document":
        return {"type": "text", "text": _document_text(block)}
    if t == "tool_reference":
        return {"type": "text", "text": f"[tool {block.get('tool_name', '')} is now available]"}
    if isinstance(block.get("text"), str):
        return {"type": "text", "text": block["text"]}
    return None  # thinking, cache markers, server-side blocks


def _user(content, out: list[dict], q: Quirks) -> None:
    if isinstance(content, str):
        out.append({"role": "user", "content": content})
        return
    parts: list[dict] = []
    for block in content:
        if block["type"] == "tool_result":
            text, images = _tool_result(block, q)
            out.append({"role": "tool", "tool_call_id": tool_id(block["tool_use_id"]), "content": text})
            if images:
                # OpenAI tool messages carry text only: images go in the next user message.
                parts.append({"type": "text", "text": f"[images returned by tool call {block['tool_use_id']}]"})
                parts.extend(images)
        else:
            part = _part(block, q)
            if part:
                parts.append(part)
    if parts:
        out.append({"role": "user", "content": _collapse(parts)})


def _collapse(parts: list[dict]):
    """A plain string when every part is text: older chat templates only take strings."""
    if all(p["type"] == "text" for p in parts):
        return "\n\n".join(p["text"] for p in parts)
    return parts


def _tool_result(block: dict, q: Quirks) -> tuple[str, list[dict]]:
    content = block.get("content")
    texts: list[str] = []
    images: list[dict] = []
    if isinstance(content, str):
        texts.append(content)
    else:
        for b in content or ():
            if b["type"] == "image":
                part = _image_part(b, q)
                (images.append(part) if part["type"] == "image_url" else texts.append(part["text"]))
            else:
                part = _part(b, q)
                if part:
                    texts.append(part["text"])
    text = "\n".join(texts)
    if block.get("is_error"):
        text = "Tool error: " + (text or "the tool failed without a message")
    return text, images


def _assistant(content, out: list[dict], q: Quirks, names: ToolNames) -> None:
    if isinstance(content, str):
        out.append({"role": "assistant", "content": content})
        return
    texts, calls, reasoning = [], [], []
    for block in content:
        t = block["type"]
        if t == "text":
            texts.append(block["text"])
        elif t == "tool_use":
            calls.append(
                {
                    "id": tool_id(block["id"]),
                    "type": "function",
                    "function": {
                        "name": names.up(block["name"]),
                        "arguments": json.dumps(block.get("input") or {}, ensure_ascii=False),
                    },
                }
            )
        elif t == "thinking" and q.replay_reasoning and block.get("thinking"):
            reasoning.append(block["thinking"])
    if not (texts or calls or reasoning):
        return
    msg: dict = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        msg["tool_calls"] = calls
    elif msg["content"] is None:
        msg["content"] = ""
    if q.replay_reasoning:
        msg["reasoning_content"] = "\n".join(reasoning)
    out.append(msg)


def _normalize(msgs: list[dict]) -> list[dict]:
    """Make the list acceptable to strict upstreams.

    Every tool call gets exactly one tool message right after its assistant message (a missing
    result gets a stub, a result without its call becomes user text), and adjacent user
    messages merge, since some chat templates demand strict alternation.
    """
    out: list[dict] = []
    pending: list[str] = []  # ids of the last assistant's calls still waiting for results
    held: list[dict] = []  # user messages that arrived between a call and its result
    for m in msgs:
        role = m["role"]
        if role == "tool":
            if m["tool_call_id"] in pending:
                pending.remove(m["tool_call_id"])
                out.append(m)
            else:
                held.append({"role": "user", "content": f"[result of tool call {m['tool_call_id']}]\n{m['content']}"})
            continue
        if pending and role == "user":
            held.append(m)
            continue
        _close_calls(out, pending, held)
        if role == "assistant" and m.get("tool_calls"):
            pending = [c["id"] for c in m["tool_calls"]]
        _append_merged(out, m)
    _close_calls(out, pending, held)
    return out


def _close_calls(out: list[dict], pending: list[str], held: list[dict]) -> None:
    for call_id in pending:
        out.append({"role": "tool", "tool_call_id": call_id, "content": "[no result was recorded for this call]"})
    pending.clear()
    for m in held:
        _append_merged(out, m)
    held.clear()


def _append_merged(out: list[dict], m: dict) -> None:
    if out and m["role"] == "user" and out[-1]["role"] == "user":
        prev = out[-1]
        a, b = prev["content"], m["content"]
        if isinstance(a, str) and isinstance(b, str):
            prev["content"] = a + "\n\n" + b
        else:
            prev["content"] = _as_parts(a) + _as_parts(b)
        return
    out.append(m)


def _as_parts(content) -> list[dict]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _tool(t: dict, q: Quirks, names: ToolNames) -> dict | None:
    schema = t.get("input_schema")
    if schema is None and t.get("type") not in (None, "custom"):
        return None  # a server tool (web search, code execution): runs at Anthropic only
    schema = schema or {"type": "object", "properties": {}}
    fn: dict = {"name": names.up(t["name"]), "parameters": clean_schema(schema) if q.clean_schema else schema}
    if t.get("description"):
        fn["description"] = t["description"]
    return {"type": "function", "function": fn}


def _tool_choice(tc: dict, names: ToolNames):
    kind = tc.get("type")
    if kind == "any":
        return "required"
    if kind == "none":
        return "none"
    if kind == "tool":
        return {"type": "function", "function": {"name": names.up(tc["name"])}}
    return "auto" if kind == "auto" else None


# Gemini accepts an OpenAPI subset of JSON schema; anything else is a 400.
_GEMINI_KEYS = frozenset(
    "type format title description nullable enum items properties required minItems maxItems "
    "minimum maximum minLength maxLength pattern anyOf minProperties maxProperties".split()
)
_GEMINI_FORMATS = frozenset({"enum", "date-time"})


def clean_schema(schema):
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "const":
            out["enum"] = [value]
        elif key not in _GEMINI_KEYS:
            continue
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: clean_schema(s) for name, s in value.items()}
        elif key == "items":
            out[key] = clean_schema(value)
        elif key == "anyOf" and isinstance(value, list):
            out[key] = [clean_schema(s) for s in value]
        elif key == "format" and value not in _GEMINI_FORMATS:
            continue
        elif key == "type" and isinstance(value, list):
            kinds = [k for k in value if k != "null"]
            out["type"] = kinds[0] if kinds else "string"
            if "null" in value:
                out["nullable"] = True
        else:
            out[key] = value
    return out
