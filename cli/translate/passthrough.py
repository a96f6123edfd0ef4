"""What a Messages passthrough changes in the request: only what the upstream cannot take."""

from freeclaude.providers import Model
from freeclaude.translate import state
from freeclaude.translate.request import reminder, strip_billing, text_of


def for_passthrough(body: dict, model: Model, max_tokens: int) -> dict:
    """The client's request for a Messages upstream: its model and output cap, no billing line,
    late system messages folded where the upstream refuses them, and no thinking we signed (an
    upstream can only verify its own signatures; ours carry state for Chat Completions models)."""
    out = dict(body, model=model.name, max_tokens=max_tokens)
    if "system" in out:
        out["system"] = strip_billing(out["system"])
    messages = [_without_our_thinking(m) for m in out["messages"]]
    out["messages"] = fold_system(messages) if model.quirks.merge_system else messages
    return out


def _without_our_thinking(m: dict) -> dict:
    content = m.get("content")
    if m.get("role") != "assistant" or not isinstance(content, list):
        return m
    kept = [b for b in content if not (b.get("type") == "thinking" and state.ours(b.get("signature")))]
    if len(kept) == len(content):
        return m
    return dict(m, content=kept or [{"type": "text", "text": "(no text)"}])


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


