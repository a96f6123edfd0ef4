"""MiniMax's Anthropic-compatible Messages endpoint (api.minimax.io/anthropic).

Sources, checked 2026-12-01: platform.minimax.io/docs/api-reference/text-anthropic-api (supported
models and windows; the compatibility table, read from the page's earlier copies, which the newest
copy's excerpt did not reach) and platform.minimax.io/docs/api-reference/text-chat-anthropic (the
request and reply reference). MiniMax names no error wordings for this layer: the envelope is
Anthropic's and every wording below is unverified.
"""

from aiohttp import web

from .anthropic import StrictMessages
from .brain import Turn

# "The Anthropic API compatibility interface currently only supports" these (text-anthropic-api).
# M3 takes images (third-party references of the same endpoint, e.g.
# docs.evolink.ai/en/api-manual/language-series/minimax-m3/minimax-m3-messages: "content supports
# text and image content blocks"); the M2 line is text only ("Supports text and tool calls, no
# image/document input", compatibility table).
MODELS = {
    "MiniMax-M3": {"images": True},
    "MiniMax-M2.7": {"images": False},
    "MiniMax-M2.7-highspeed": {"images": False},
    "MiniMax-M2.5": {"images": False},
    "MiniMax-M2.5-highspeed": {"images": False},
}


class MiniMaxAnthropic(StrictMessages):
    prefix = "/anthropic"  # base_url https://api.minimax.io/anthropic
    models = MODELS
    # The reference's curl sends Authorization: Bearer; the quick start sets ANTHROPIC_API_KEY,
    # which the SDK sends as x-api-key. Both are taken.
    auth = ("bearer", "x-api-key")
    # The documented reply carries a thinking block although the request asked for none
    # (text-chat-anthropic example).
    thinks_by_default = True
    # No signature check is documented; what is documented is that the thinking must come back.
    verify_signatures = False

    def check_model(self, body: dict) -> web.Response | None:
        refused = super().check_model(body)
        if refused is not None:
            return refused
        temperature = body.get("temperature")
        if temperature is not None and not 0 < temperature <= 1:
            # "temperature: Range (0.0, 1.0]" (compatibility table).
            return self.invalid("invalid params, temperature must be in (0.0, 1.0]")
        return None

    def check_blocks(self, body: dict, i: int, m: dict) -> web.Response | None:
        blocks = [b for b in m.get("content") if isinstance(b, dict)] if isinstance(m.get("content"), list) else []
        blocks += [x for b in blocks if b.get("type") == "tool_result" and isinstance(b.get("content"), list)
                   for x in b["content"] if isinstance(x, dict)]
        for b in blocks:
            kind = b.get("type")
            if kind == "document" or (kind == "image" and not MODELS[body["model"]]["images"]):
                return self.invalid(f"messages.{i}: {kind} input is not supported by {body['model']}")
        return None

    def check_thinking(self, body: dict) -> web.Response | None:
        """"In multi-turn function call conversations, the complete model response (i.e., the
        assistant message) must be append to the conversation history ... (includes all content
        blocks: thinking/text/tool_use)" (text-anthropic-api, "Important Note"). An assistant turn
        this endpoint answered with thinking and tool calls must carry that thinking unchanged."""
        for i, m in enumerate(body["messages"]):
            content = m.get("content") if m["role"] == "assistant" and isinstance(m.get("content"), list) else []
            sigs = {self.thought.get(b.get("id")) for b in content if b.get("type") == "tool_use"} - {None, ""}
            returned = {(b.get("signature"), b.get("thinking")) for b in content if b.get("type") == "thinking"}
            for sig in sigs:
                if (sig, self.signed[sig]) not in returned:
                    return self.invalid(f"messages.{i}: the thinking block of this tool-calling turn must be sent back "
                                        "unchanged")
        return None

    def message(self, turn: Turn, body: dict) -> dict:
        # Replies carry base_resp (text-chat-anthropic example: {"status_code": 0, "status_msg": ...}).
        return dict(super().message(turn, body), base_resp={"status_code": 0, "status_msg": "success"})


TEMPLATES = {"minimax": MiniMaxAnthropic}
