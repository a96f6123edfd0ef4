"""Moonshot's Kimi API: Chat Completions at api.moonshot.ai/v1 and the Messages endpoint at
api.moonshot.ai/anthropic.

Sources, checked 2026-12-01: platform.kimi.ai docs (K2.7 Code quickstart, K2.6 pricing page,
"Recharge and Rate Limits" at platform.moonshot.ai/docs/pricing/limits), the thinking-model guide
platform.moonshot.ai/docs/guide/use-kimi-k2-thinking-model (quoted in can1357/oh-my-pi#1839), and
the captured errors named below.
"""

from aiohttp import web

from .anthropic import StrictMessages
from .base import OpenAIEmulator, json_error

# kimi-k3: 1,048,576 window, 131,072 out (docs.apiyi.com/en/models/kimi-k3, a reseller mirroring
# the official card; unverified on platform.kimi.ai). K2.x: "kimi-k2.7-code,
# kimi-k2.7-code-highspeed, kimi-k2.6 ... all provide a 256K context window" (K2.7 Code quickstart).
# Thinking: K3 always reasons (metacpan Langertha::Engine::MoonshotAnthropic); "Kimi K2.7 Code does
# not support non-thinking mode" (quickstart); K2.6 has both modes, thinking by default (n8n-io/n8n#29142).
MODELS = {
    "kimi-k3": {"window": 1_048_576, "always_thinks": True},
    "kimi-k2.7-code": {"window": 262_144, "always_thinks": True},
    "kimi-k2.7-code-highspeed": {"window": 262_144, "always_thinks": True},
    "kimi-k2.6": {"window": 262_144, "always_thinks": False},
}


class MoonshotOpenAI(OpenAIEmulator):
    prefix = "/v1"  # base_url https://api.moonshot.ai/v1
    models = MODELS

    # -- envelope: {"error": {"message", "type"}} (captured in bytedance/deer-flow#3043, 2026-05).

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return json_error(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def unknown_model(self, model) -> web.Response:
        # Wording unverified.
        return json_error(404, {"error": {"message": f"Not found the model {model} or Permission denied",
                                          "type": "resource_not_found_error"}})

    def check_auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            # Bearer key (platform.kimi.ai/docs/api/overview); the 401 wording is unverified.
            return json_error(401, {"error": {"message": "Invalid Authentication", "type": "invalid_authentication_error"}})
        return None

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning_content": text}

    def thinking(self, body: dict) -> bool:
        return MODELS[body["model"]]["always_thinks"] or (body.get("thinking") or {}).get("type") != "disabled"

    def check(self, body: dict) -> web.Response | None:
        refused = super().check(body)
        if refused is not None:
            return refused
        if "thinking" in body and not isinstance(body["thinking"], dict):
            # Captured in LionSR/TeXRA#1905 (thinking: true refused).
            kind = "bool" if isinstance(body["thinking"], bool) else type(body["thinking"]).__name__
            return self.invalid(f"the thinking field in the request (expected type object) is illegal, and {kind} "
                                "is not acceptable")
        if self.thinking(body):
            return self.check_replay(body["messages"])
        return None

    def check_replay(self, msgs: list) -> web.Response | None:
        """With thinking on, every assistant message carrying tool_calls must carry its
        reasoning_content ("include the entire reasoning content ... across multiple tool calls",
        thinking-model guide). The 400 is captured in n8n-io/n8n#29142 (kimi-k2.6, 2026-04),
        danny-avila/LibreChat#11563 and bytedance/deer-flow#3043; the index counts from 0 over
        the whole messages list."""
        for i, m in enumerate(msgs):
            if isinstance(m, dict) and m.get("role") == "assistant" and m.get("tool_calls") \
                    and not m.get("reasoning_content"):
                return self.invalid("thinking is enabled but reasoning_content is missing in assistant tool call "
                                    f"message at index {i}")
        return None


class MoonshotAnthropic(StrictMessages):
    """The endpoint Moonshot documents for Claude Code (ANTHROPIC_BASE_URL
    https://api.moonshot.ai/anthropic; developersdigest.tech/reference/api-compatibility/moonshot,
    read from platform.kimi.ai). The guide sets ANTHROPIC_AUTH_TOKEN (Bearer); SDK clients send
    x-api-key: both are taken. Envelope, signature handling and role refusals are Anthropic's
    (unverified: Moonshot lists no limitations for this layer)."""

    prefix = "/anthropic"
    models = MODELS
    auth = ("bearer", "x-api-key")
    # K3 "always reasons and Kimi's Messages API has no thinking request field for it" (metacpan
    # Langertha::Engine::MoonshotAnthropic); K2.x think by default.
    thinks_by_default = True

    def thinks(self, body: dict) -> bool:
        return MODELS[body["model"]]["always_thinks"] or super().thinks(body)


TEMPLATES = {"moonshot": MoonshotOpenAI, "moonshot-anthropic": MoonshotAnthropic}
