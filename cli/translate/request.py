"""Anthropic Messages request -> OpenAI Chat Completions request."""

import json
from collections.abc import Mapping
from typing import Any, Literal

from freeclaude.profiles.providers import Model
from freeclaude.translate import state
from freeclaude.translate.tools import ToolNames, choice, function, tool_id

# Claude Code's first system block carries a billing line that changes on every call; sent
# upstream it would defeat prompt caching, so it never leaves this process.
BILLING_PREFIX = "x-anthropic-billing-header"
Effort = Literal["low", "medium", "high"]
_EFFORT: dict[str, Effort] = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
# Gemini's documented stand-in for a tool call whose signature is unknown (history from
# another model): it skips the check instead of refusing the request.
DUMMY_THOUGHT_SIGNATURE = "skip_thought_signature_validator"


def strip_billing(system: str | list[Any] | None) -> str | list[Any] | None:
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


def to_openai(body: Mapping[str, Any], model: Model, names: ToolNames, *, stream: bool, max_tokens: int) -> dict[str, Any]:
    """The Chat Completions request for `model`; `max_tokens` is already clamped by the caller.
    What stays the same through a session comes first, the messages next, what may change from
    one request to the next (max_tokens) after them: consecutive requests of a session are the
    same bytes up to the new turn."""
    q = model.quirks
    out: dict[str, Any] = {**model.extra_body, "model": model.name}
    tools = [t for t in (function(t, q, names) for t in body.get("tools") or ()) if t]
    tc = body.get("tool_choice") or {}
    if tools:
        out["tools"] = tools
        picked = choice(tc, names)
        if picked is not None:
            out["tool_choice"] = picked
        if tc.get("disable_parallel_tool_use") and q.parallel_tool_calls:
            out["parallel_tool_calls"] = False
    if q.reasoning_effort:
        effort = reasoning_effort(body)
        if effort:
            out["reasoning_effort"] = effort
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            out[key] = body[key]
    if "temperature" not in out and model.temperature is not None:
        out["temperature"] = model.temperature
    if body.get("stop_sequences"):
        out["stop"] = body["stop_sequences"][:4]  # the OpenAI limit
    out["messages"] = _messages(body, model, names)
    out[q.max_tokens_field] = max_tokens
    if stream:
        out["stream"] = True
        if q.stream_options:
            out["stream_options"] = {"include_usage": True}
    return out


def reasoning_effort(body: Mapping[str, Any]) -> Effort | None:
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


def text_of(content: str | list[dict[str, Any]] | None) -> str:
    """The text of a string or block list (as validated), other blocks skipped."""
    if isinstance(content, str):
        return content
    return "\n\n".join(b["text"] for b in content or () if b.get("type") == "text" and b.get("text"))


def _messages(body: Mapping[str, Any], model: Model, names: ToolNames) -> list[dict[str, Any]]:
    q = model.quirks
    out: list[dict[str, Any]] = []
    system = text_of(strip_billing(body.get("system") or ""))
    if system:
        out.append({"role": "system", "content": system})
    for msg in body["messages"]:
        role, content = msg["role"], msg.get("content") or ""
        if role == "user":
            _user(content, out)
        elif role == "assistant":
            _assistant(content, out, model, names)
        elif q.merge_system:
            text = text_of(content)
            if text:
                out.append({"role": "user", "content": reminder(text)})
        else:
            out.append({"role": "system", "content": text_of(content)})
    return _normalize(out, q.user_after_tool)


def reminder(text: str) -> str:
    """A mid-conversation system message, as it travels inside a user turn."""
    return f"<system-reminder>\n{text}\n</system-reminder>"


def _image_part(block: Mapping[str, Any]) -> dict[str, Any]:
    """An image as an OpenAI image_url part. A model that cannot see gets none: the gateway has
    put a description in its place already (vision.py)."""
    src = block.get("source") or {}
    if src.get("type") == "url":
        url = src.get("url", "")
    else:
        url = f"data:{src.get('media_type', 'image/png')};base64,{src.get('data', '')}"
    return {"type": "image_url", "image_url": {"url": url}}


def _document_text(block: Mapping[str, Any]) -> str:
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


def _part(block: Mapping[str, Any]) -> dict[str, Any] | None:
    """One user-visible content part, or None for blocks that carry nothing for the model."""
    t = block["type"]
    if t == "text":
        return {"type": "text", "text": block["text"]}
    if t == "image":
        return _image_part(block)
    if t == "document":
        return {"type": "text", "text": _document_text(block)}
    if t == "tool_reference":
        return {"type": "text", "text": f"[tool {block.get('tool_name', '')} is now available]"}
    if isinstance(block.get("text"), str):
        return {"type": "text", "text": block["text"]}
    return None  # thinking, cache markers, server-side blocks


def _user(content: str | list[dict[str, Any]], out: list[dict[str, Any]]) -> None:
    if isinstance(content, str):
        out.append({"role": "user", "content": content})
        return
    parts: list[dict[str, Any]] = []
    for block in content:
        if block["type"] == "tool_result":
            text, images = _tool_result(block)
            out.append({"role": "tool", "tool_call_id": tool_id(state.split_id(block["tool_use_id"])[0]), "content": text})
            if images:
                # OpenAI tool messages carry text only: images go in the next user message.
                parts.append({"type": "text", "text": f"[images returned by tool call {block['tool_use_id']}]"})
                parts.extend(images)
        else:
            part = _part(block)
            if part:
                parts.append(part)
    if parts:
        out.append({"role": "user", "content": _collapse(parts)})


def _collapse(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """A plain string when every part is text: older chat templates only take strings."""
    if all(p["type"] == "text" for p in parts):
        return "\n\n".join(p["text"] for p in parts)
    return parts


def _tool_result(block: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    content = block.get("content")
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    if isinstance(content, str):
        texts.append(content)
    else:
        for b in content or ():
            if b["type"] == "image":
                images.append(_image_part(b))
            else:
                part = _part(b)
                if part:
                    texts.append(part["text"])
    text = "\n".join(texts)
    if block.get("is_error"):
        text = "Tool error: " + (text or "the tool failed without a message")
    return text, images


def _assistant(content: str | list[dict[str, Any]], out: list[dict[str, Any]], model: Model, names: ToolNames) -> None:
    q = model.quirks
    if isinstance(content, str):
        out.append({"role": "assistant", "content": content})
        return
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    reasoning: list[str] = []
    details: list[dict[str, Any]] = []
    for block in content:
        t = block["type"]
        if t == "text":
            texts.append(block["text"])
        elif t == "tool_use":
            raw, signature = state.split_id(block["id"])
            call: dict[str, Any] = {"id": tool_id(raw), "type": "function", "function": {
                "name": names.up(block["name"]), "arguments": json.dumps(block.get("input") or {}, ensure_ascii=False)}}
            if q.thought_signatures:
                # Gemini checks the first call of each step; one it never signed gets the stand-in.
                signature = signature or (DUMMY_THOUGHT_SIGNATURE if not calls else None)
                if signature:
                    call["extra_content"] = {"google": {"thought_signature": signature}}
            calls.append(call)
        elif t == "thinking":
            # The text may be gone (display "omitted"); the signature we made still holds it.
            carried = state.unseal(block.get("signature"))
            shown = block.get("thinking")
            text = carried.get("r") or (shown if isinstance(shown, str) else "")
            if text:
                reasoning.append(text)
            if carried.get("d") and carried.get("p") == model.provider:
                details.extend(carried["d"])  # only the provider that wrote them can read them
    if not (texts or calls or reasoning):
        return
    msg: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        msg["tool_calls"] = calls
    elif msg["content"] is None:
        msg["content"] = ""
    if q.replay_reasoning and reasoning:
        msg["reasoning_content"] = "\n".join(reasoning)
    if q.reasoning_details and details:
        msg["reasoning_details"] = details
    out.append(msg)


def _normalize(msgs: list[dict[str, Any]], user_after_tool: bool = True) -> list[dict[str, Any]]:
    """Make the list acceptable to strict upstreams.

    Every tool call gets exactly one tool message right after its assistant message (a missing
    result gets a stub, a result without its call becomes user text), and adjacent user
    messages merge, since some chat templates demand strict alternation. Where a user message
    may not follow a tool message, its text joins the last tool result instead.
    """
    out: list[dict[str, Any]] = []
    pending: list[str] = []  # ids of the last assistant's calls still waiting for results
    held: list[dict[str, Any]] = []  # user messages that arrived between a call and its result
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
    return out if user_after_tool else _no_user_after_tool(out)


def _no_user_after_tool(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in msgs:
        if m["role"] == "user" and out and out[-1]["role"] == "tool":
            if isinstance(m["content"], str):
                out[-1] = dict(out[-1], content=f"{out[-1]['content']}\n\n{m['content']}")
                continue
            out.append({"role": "assistant", "content": "(tool results received)"})  # images cannot ride in a tool message
        out.append(m)
    return out


def _close_calls(out: list[dict[str, Any]], pending: list[str], held: list[dict[str, Any]]) -> None:
    for call_id in pending:
        out.append({"role": "tool", "tool_call_id": call_id, "content": "[no result was recorded for this call]"})
    pending.clear()
    for m in held:
        _append_merged(out, m)
    held.clear()


def _append_merged(out: list[dict[str, Any]], m: dict[str, Any]) -> None:
    if out and m["role"] == "user" and out[-1]["role"] == "user":
        prev = out[-1]
        a, b = prev["content"], m["content"]
        if isinstance(a, str) and isinstance(b, str):
            prev["content"] = a + "\n\n" + b
        else:
            prev["content"] = _as_parts(a) + _as_parts(b)
        return
    out.append(m)


def _as_parts(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
