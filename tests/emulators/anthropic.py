"""Anthropic's own Messages API (api.anthropic.com), and `StrictMessages`: the conversation checks
a Messages endpoint makes, which the Anthropic-compatible endpoints of DeepSeek, Moonshot, Z.ai,
MiniMax and DashScope subclass with their own envelopes and refusals.

Every rule names its source; all were checked 2026-12-01. Error wordings are the ones Anthropic
returns as captured in public bug reports (cited), or marked unverified.
"""

import uuid

from aiohttp import web

from .base import AnthropicEmulator, count, json_error
from .brain import Turn


class StrictMessages(AnthropicEmulator):
    """A strict Messages endpoint: roles, tool_use/tool_result pairing, thinking signatures."""

    # Where the key may travel: "x-api-key" and/or "bearer" (Authorization: Bearer KEY).
    auth = ("x-api-key",)
    # Models that take role "system" inside messages (empty: none do).
    system_role: frozenset = frozenset()
    # Thinking when the request has no `thinking` field (compatible endpoints that think by default).
    thinks_by_default = False
    # `thinking.display: "omitted"` answered with empty thinking text (Anthropic only).
    honors_display = False
    # A thinking block sent back must carry a signature this endpoint issued, with its text.
    verify_signatures = True

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.signed: dict[str, str] = {}  # signature -> the thinking text it was issued with
        # tool_use id issued in thinking mode -> its thinking block's signature ("" if none)
        self.thought: dict[str, str] = {}

    # -- envelopes (Anthropic's: {"type": "error", "error": {type, message}, "request_id"})

    def error(self, status: int, kind: str, message: str) -> web.Response:
        return json_error(status, {"type": "error", "error": {"type": kind, "message": message},
                                   "request_id": "req_" + uuid.uuid4().hex[:24]})

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return self.error(status, "invalid_request_error", message)

    def unknown_model(self, model) -> web.Response:
        return self.error(404, "not_found_error", f"model: {model}")

    def check_auth(self, request: web.Request) -> web.Response | None:
        given = request.headers.get("x-api-key") if "x-api-key" in self.auth else None
        bearer = request.headers.get("Authorization", "")
        if given is None and "bearer" in self.auth and bearer.startswith("Bearer "):
            given = bearer.removeprefix("Bearer ")
        if given != self.key:
            return self.error(401, "authentication_error", "invalid x-api-key")
        return None

    # -- refusals

    def check(self, body: dict) -> web.Response | None:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
            return self.invalid("messages: Field required")
        if not isinstance(body.get("max_tokens"), int):
            return self.invalid("max_tokens: Field required")
        refused = self.check_model(body)
        if refused is not None:
            return refused
        for i, m in enumerate(body["messages"]):
            refused = self.check_role(body, i, m) or self.check_blocks(body, i, m)
            if refused is not None:
                return refused
        return self.check_pairing(body["messages"]) or self.check_thinking(body)

    def check_model(self, body: dict) -> web.Response | None:
        model = body.get("model")
        if self.models and model not in self.models:
            return self.unknown_model(model)
        cap = (self.models.get(model) or {}).get("max_output")
        if cap and body["max_tokens"] > cap:
            # Wording as Anthropic words it (unverified here: no capture in the corpus).
            return self.invalid(f"max_tokens: {body['max_tokens']} > {cap}, which is the maximum allowed "
                                f"number of output tokens for {model}")
        return None

    def check_role(self, body: dict, i: int, m) -> web.Response | None:
        role = m.get("role") if isinstance(m, dict) else None
        if role in ("user", "assistant"):
            return None
        if role != "system":
            return self.invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        return self.check_system(body, i)

    def check_system(self, body: dict, i: int) -> web.Response | None:
        """Mid-conversation system messages: Opus 4.8 and later take `role: "system"` right after a
        user turn; earlier models answer "role 'system' is not supported on this model".
        Sources: platform.claude.com/docs/en/build-with-claude/mid-conversation-system-messages
        and .../whats-new-claude-4-8 (quoted in simonw/llm-anthropic#73); the refusal wording from
        gproxy-transform's claude_mid_conv_system docs (docs.rs, 2026). The placement wording is
        unverified."""
        if body.get("model") not in self.system_role:
            return self.invalid(f"messages.{i}: role 'system' is not supported on this model")
        if i == 0 or body["messages"][i - 1].get("role") != "user":
            return self.invalid(f"messages.{i}: a `system` message must immediately follow a `user` message")
        return None

    def check_blocks(self, body: dict, i: int, m: dict) -> web.Response | None:
        """Per-provider refusals of single content blocks; Anthropic itself takes them all."""
        return None

    def check_pairing(self, msgs: list[dict]) -> web.Response | None:
        """Every tool_use is answered in the next message, every tool_result answers the previous
        one. Wording from captured 400s: anthropics/claude-code#13460 (2025-12, unexpected
        tool_use_id) and #5060 (2025-08, ids without tool_result)."""
        for i, m in enumerate(msgs):
            if m["role"] == "assistant":
                following = msgs[i + 1] if i + 1 < len(msgs) and msgs[i + 1]["role"] == "user" else {}
                answered = {b.get("tool_use_id") for b in _blocks(following, "tool_result")}
                missing = [b.get("id") for b in _blocks(m, "tool_use") if b.get("id") not in answered]
                if missing:
                    return self.invalid(f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                                        f"immediately after: {', '.join(map(str, missing))}. Each `tool_use` block "
                                        "must have a corresponding `tool_result` block in the next message.")
            elif m["role"] == "user":
                before = msgs[i - 1] if i and msgs[i - 1]["role"] == "assistant" else {}
                asked = {b.get("id") for b in _blocks(before, "tool_use")}
                for j, b in enumerate(m["content"] if isinstance(m.get("content"), list) else ()):
                    if isinstance(b, dict) and b.get("type") == "tool_result" and b.get("tool_use_id") not in asked:
                        return self.invalid(f"messages.{i}.content.{j}: unexpected `tool_use_id` found in "
                                            f"`tool_result` blocks: {b.get('tool_use_id')}. Each `tool_result` block "
                                            "must have a corresponding `tool_use` block in the previous message.")
        return None

    def check_thinking(self, body: dict) -> web.Response | None:
        """A thinking block must come back exactly as issued. Wording from captured 400s:
        anthropics/claude-code#10627 (2025-10); "the check fails when a thinking block reaching the
        API differs in any way from what was originally returned" (Anthropic, in
        anthropics/anthropic-sdk-python#1598, 2026-08)."""
        if not self.verify_signatures:
            return None
        for i, m in enumerate(body["messages"]):
            if m["role"] != "assistant" or not isinstance(m.get("content"), list):
                continue
            for j, b in enumerate(m["content"]):
                if isinstance(b, dict) and b.get("type") == "thinking" \
                        and self.signed.get(b.get("signature")) != b.get("thinking"):
                    return self.invalid(f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block")
        return None

    # -- answers

    def thinks(self, body: dict) -> bool:
        kind = (body.get("thinking") or {}).get("type")
        return kind in ("enabled", "adaptive") or (kind is None and self.thinks_by_default)

    def shown(self, turn: Turn, body: dict) -> str:
        """The thinking text as sent: empty when the client asked for it omitted."""
        omitted = self.honors_display and (body.get("thinking") or {}).get("display") == "omitted"
        return "" if omitted else turn.reasoning

    def blocks(self, turn: Turn, body: dict) -> list[dict]:
        asked = {"type": "enabled"} if self.thinks(body) else None
        out = super().blocks(turn, dict(body, thinking=asked))
        if out and out[0]["type"] == "thinking":
            out[0]["thinking"] = self.shown(turn, body)
        return out

    def issued(self, turn: Turn, body: dict) -> None:
        if not self.thinks(body):
            return
        sig = self.signature(turn.reasoning) if turn.reasoning else ""  # no reasoning: no block
        if sig:
            self.signed[sig] = self.shown(turn, body)
        for c in turn.calls:
            self.thought[c.id] = sig

    def input_tokens(self, body: dict) -> int:
        return count(body.get("messages")) + count(body.get("system") or "") + count(body.get("tools") or [])


def _blocks(message: dict, kind: str) -> list[dict]:
    content = message.get("content")
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind] if isinstance(content, list) else []


# ---------------------------------------------------------------- Anthropic itself

# Output caps and windows: platform.claude.com/docs/en/about-claude/models (model overview pages,
# "Context window" / "Max output"), checked 2026-12-01. Fable 5.2's cap is unverified (Fable 5.1's).
_CLAUDE = {
    "claude-opus-5-5": (1_000_000, 128_000), "claude-opus-5": (1_000_000, 128_000),
    "claude-fable-5-2": (1_000_000, 128_000), "claude-fable-5-1": (1_000_000, 128_000),
    "claude-sonnet-5-5": (1_000_000, 128_000), "claude-sonnet-5": (1_000_000, 128_000),
    "claude-haiku-5-5": (1_000_000, 128_000), "claude-haiku-4-5": (200_000, 64_000),
}


class Anthropic(StrictMessages):
    """api.anthropic.com: the gateway POSTs base_url + "/v1/messages" with x-api-key."""

    prefix = ""
    models = {m: {"window": w, "max_output": o} for m, (w, o) in _CLAUDE.items()}
    # Every listed model but Haiku 4.5 postdates Opus 4.8, which introduced mid-conversation
    # system messages; Claude Code 2.1.328 sends them to claude-opus-5-5 (shared/wire).
    system_role = frozenset(_CLAUDE) - {"claude-haiku-4-5"}
    # Fable shows thinking as omitted by default and Claude Code asks for "omitted": the block
    # carries an empty text and the signature (fableguide.com/glossary, "Thinking display").
    honors_display = True

    def check_model(self, body: dict) -> web.Response | None:
        refused = super().check_model(body)
        if refused is not None:
            return refused
        window = self.models[body["model"]]["window"]
        tokens = self.input_tokens(body)
        if tokens > window:
            # What Claude Code treats as context overflow (shared/DESIGN.md, verified against 2.1.328).
            return self.invalid(f"prompt is too long: {tokens} tokens > {window} maximum")
        return None


TEMPLATES = {"anthropic": Anthropic}
