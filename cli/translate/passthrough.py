"""What a Messages passthrough changes in the request: only what the upstream cannot take."""

from collections.abc import Mapping
from typing import Any

from freeclaude.profiles.providers import Model
from freeclaude.translate import state
from freeclaude.translate.request import reminder, strip_billing, text_of


def for_passthrough(body: Mapping[str, Any], model: Model, max_tokens: int) -> dict[str, Any]:
    """The client's request for a Messages upstream: its model and output cap, no billing line,
    late system messages folded where the upstream refuses them, and no thinking we signed (an
    upstream can only verify its own signatures; ours carry state for Chat Completions models).
    Consecutive requests of a session are the same bytes up to the new turn: the system prompt
    and tools go before the messages, what may change (max_tokens) after them, and a message's
    text is always a list of blocks (Claude Code sends one message as a string in one request
    and as a block with a cache marker in the next)."""
    out = {key: body[key] for key in _FIRST if key in body}
    out["model"] = model.name
    if "system" in out:
        out["system"] = strip_billing(out["system"])
    messages = [_as_blocks(_without_our_thinking(m)) for m in body["messages"]]
    out["messages"] = fold_system(messages) if model.quirks.merge_system else messages
    out.update((key, value) for key, value in body.items() if key not in out)
    out["max_tokens"] = max_tokens
    return out


_FIRST = ("model", "system", "tools", "tool_choice")  # what a session keeps from one request to the next


def _as_blocks(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    return dict(message, content=[{"type": "text", "text": content}]) if isinstance(content, str) and content else message


def _without_our_thinking(m: dict[str, Any]) -> dict[str, Any]:
    content = m.get("content")
    if m.get("role") != "assistant" or not isinstance(content, list):
        return m
    kept = [b for b in content if not (b.get("type") == "thinking" and state.ours(b.get("signature")))]
    if len(kept) == len(content):
        return m
    return dict(m, content=kept or [{"type": "text", "text": "(no text)"}])


def fold_system(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Anthropic messages with mid-conversation system messages carried as reminders in the
    user turn, for upstreams that speak the Messages API but only take `system` at the top.
    A reminder after an assistant turn waits for the next user turn, after its tool results."""
    out: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
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


def _with_blocks(message: dict[str, Any], blocks: list[dict[str, Any]]) -> dict[str, Any]:
    content = message.get("content")
    existing = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or ())
    return dict(message, content=existing + blocks)


