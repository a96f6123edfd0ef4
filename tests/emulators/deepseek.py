"""DeepSeek's Anthropic-compatible Messages endpoint (api.deepseek.com/anthropic).

Sources, checked 2026-12-01: the Messages API reference (api-docs.deepseek.com/api/create-message,
the newest page: deepseek-flash / deepseek-v4-pro, images in user and tool-result blocks), the
Anthropic API guide (api-docs.deepseek.com/guides/anthropic_api), Models & Pricing
(api-docs.deepseek.com/quick_start/pricing) and the captured errors named below.
"""

from aiohttp import web

from .anthropic import StrictMessages
from .base import json_error

# Model ids and what serves them: "Use deepseek-flash as the model name. The legacy names
# deepseek-v4-flash and deepseek-v4-flash-vision-exp are still accepted ... served by
# DeepSeek-V4.1-Flash" (pricing page). Vision: Flash yes, V4 Pro "Not supported" (same table).
_MODELS = {
    "deepseek-flash": {"vision": True},
    "deepseek-v4-pro": {"vision": False},
    "deepseek-v4-flash": {"vision": True},
    "deepseek-v4-flash-vision-exp": {"vision": True},
}

# Content blocks the request schema takes (create-message: user blocks text / image / tool_result;
# assistant blocks text / thinking / tool_use / server_tool_use / web_search_tool_result). The
# older compatibility table also lists document and search_result as "Not Supported".
_USER_BLOCKS = ("text", "image", "tool_result")
_ASSISTANT_BLOCKS = ("text", "thinking", "tool_use", "server_tool_use", "web_search_tool_result")


class DeepSeekAnthropic(StrictMessages):
    prefix = "/anthropic"  # base_url https://api.deepseek.com/anthropic
    models = _MODELS
    # "Authenticate with either x-api-key or Authorization: Bearer. If both are supplied,
    # Authorization takes precedence." (create-message)
    auth = ("bearer", "x-api-key")
    # Thinking is the default mode; {"type": "disabled"} turns it off (pricing page, "THINKING
    # MODE ... thinking (default)"). budget_tokens is ignored (anthropic_api guide).
    thinks_by_default = True
    # DeepSeek documents no signature check; it restores thinking by tool-call id instead.
    verify_signatures = False

    # -- envelope: OpenAI-style even on this endpoint. Source: the 400 captured in
    # deepseek-ai/DeepSeek-V3#1026 (2025-10, Claude Code on /anthropic).

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return json_error(status, {"error": {"message": message, "type": "invalid_request_error", "param": None,
                                             "code": "invalid_request_error"}})

    def check_auth(self, request: web.Request) -> web.Response | None:
        bearer = request.headers.get("Authorization", "")
        given = bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else request.headers.get("x-api-key")
        if given != self.key:
            # Wording unverified (no capture of a 401 on this endpoint).
            return json_error(401, {"error": {"message": "Authentication Fails, Your api key is invalid",
                                              "type": "authentication_error", "param": None, "code": "invalid_request_error"}})
        return None

    def check_model(self, body: dict) -> web.Response | None:
        """claude-opus* maps to deepseek-v4-pro, other claude* names to deepseek-flash; any other
        unknown name is a 400. The newest guide says so; an older copy of the same page said
        unknown names map to deepseek-v4-flash — the newer page wins. The wording is the OpenAI
        endpoint's (unverified here)."""
        model = body.get("model")
        if model in self.models or str(model).startswith("claude"):
            return None
        return self.invalid("Model Not Exist")

    def served(self, model: str) -> dict:
        if model in self.models:
            return self.models[model]
        return self.models["deepseek-v4-pro" if model.startswith("claude-opus") else "deepseek-flash"]

    def check_system(self, body: dict, i: int) -> web.Response | None:
        # Roles are user and assistant ("System prompts use the top-level system field",
        # create-message); the deserializer's wording follows #1026's pattern (unverified).
        return self.invalid(f"Failed to deserialize the JSON body into the target type: messages[{i}].role: "
                            "unknown variant `system`, expected `user` or `assistant`")

    def check_blocks(self, body: dict, i: int, m: dict) -> web.Response | None:
        if not isinstance(m.get("content"), list):
            return None
        allowed = _USER_BLOCKS if m["role"] == "user" else _ASSISTANT_BLOCKS
        for b in m["content"]:
            kind = b.get("type") if isinstance(b, dict) else None
            if kind not in allowed:
                return self.invalid(f"Failed to deserialize the JSON body into the target type: messages[{i}].content: "
                                    f"unknown variant `{kind}`, expected one of {', '.join(f'`{a}`' for a in allowed)}")
            inner = b.get("content") if kind == "tool_result" and isinstance(b.get("content"), list) else []
            images = kind == "image" or any(isinstance(x, dict) and x.get("type") == "image" for x in inner)
            if images and not self.served(body["model"])["vision"]:
                # V4 Pro has no vision (pricing page); the refusal's wording is unverified.
                return self.invalid(f"messages[{i}]: the model {body['model']} does not support image input")
        return None

    def check_thinking(self, body: dict) -> web.Response | None:
        """In thinking mode, "pass back the complete assistant content (thinking and tool-use blocks)
        ... The service may restore omitted thinking by tool-call ID, and returns 400 when it must
        restore but cannot" (create-message, messages). The wording is the OpenAI endpoint's 400
        (api-docs.deepseek.com/guides/thinking_mode#tool-calls; captured in anomalyco/opencode#24083),
        adapted to thinking blocks: unverified."""
        if not self.thinks(body):
            return None
        for m in body["messages"]:
            content = m.get("content") if m["role"] == "assistant" and isinstance(m.get("content"), list) else []
            ids = [b.get("id") for b in content if b.get("type") == "tool_use"]
            has_thinking = any(b.get("type") == "thinking" for b in content)
            if ids and not has_thinking and not all(x in self.thought for x in ids):
                return self.invalid("The thinking block in the thinking mode must be passed back to the API.")
        return None


TEMPLATES = {"deepseek": DeepSeekAnthropic}
