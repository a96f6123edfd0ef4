"""Alibaba Cloud Model Studio (DashScope), international edition: Chat Completions at
dashscope-intl.aliyuncs.com/compatible-mode/v1 and the Messages endpoint at
dashscope-intl.aliyuncs.com/apps/anthropic.

Sources, checked 2026-12-01: alibabacloud.com/help/en/model-studio/deep-thinking (enable_thinking,
reasoning_content, "most models support streaming output only" in thinking mode),
.../model-studio/claude-code and .../anthropic-api-messages (the Messages endpoint, its auth and
models), and the captured errors named below.
"""

import uuid

from aiohttp import web

from .anthropic import StrictMessages
from .base import OpenAIEmulator, json_error
from .brain import Turn

# qwen3.8-max only thinks (docs.venice.ai/pt-BR/models/qwen-3-8-max, third party: "opera apenas no
# modo de pensamento"); qwen3.7-plus is hybrid (deep-thinking page lists Qwen3.7 under hybrid
# thinking); "Qwen-Coder (Does not support thinking mode)" (claude-code page).
MODELS = {
    "qwen3.8-max": {"thinking": "always"},
    "qwen3.7-plus": {"thinking": "hybrid"},
    "qwen3-coder-plus": {"thinking": "never"},
}


class DashScopeOpenAI(OpenAIEmulator):
    prefix = "/compatible-mode/v1"  # base_url https://dashscope-intl.aliyuncs.com/compatible-mode/v1
    models = MODELS

    # -- envelope: {"error": {code, param, message, type}, "id", "request_id"}, as captured in
    # infiniflow/ragflow#8972 and OpenBMB/UltraRAG#287.

    def fail(self, status: int, code: str, message: str) -> web.Response:
        rid = str(uuid.uuid4())
        return json_error(status, {"error": {"code": code, "param": None, "message": message, "type": "invalid_request_error"},
                                   "id": f"chatcmpl-{rid}", "request_id": rid})

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return self.fail(status, "invalid_parameter_error", message)

    def unknown_model(self, model) -> web.Response:
        # Wording unverified.
        return self.fail(404, "model_not_found", f"The model `{model}` does not exist or you do not have access to it.")

    def check_auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return self.fail(401, "invalid_api_key", "Incorrect API key provided. ")  # wording unverified
        return None

    def check(self, body: dict) -> web.Response | None:
        refused = super().check(body)
        if refused is not None:
            return refused
        if body.get("enable_thinking") is True and not body.get("stream"):
            # Captured in infiniflow/ragflow#8972, tencentmusic/supersonic#2355 (2025) and
            # OpenBMB/UltraRAG#287 (2026-01); the deep-thinking page: thinking mode is mostly
            # streaming-only.
            return self.invalid("parameter.enable_thinking must be set to false for non-streaming calls")
        return None

    def thinking(self, body: dict) -> bool:
        mode = MODELS[body["model"]]["thinking"]
        return mode == "always" or (mode == "hybrid" and body.get("enable_thinking") is True)

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning_content": text}  # "returned in the reasoning_content field" (deep-thinking)

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        return super().chunks(turn if self.thinking(body) else Turn("", turn.text, turn.calls), body)

    def message(self, turn: Turn, body: dict) -> dict:
        return super().message(turn if self.thinking(body) else Turn("", turn.text, turn.calls), body)


class DashScopeAnthropic(StrictMessages):
    """"ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN): Replace with your Model Studio API key" and
    base URL https://dashscope-intl.aliyuncs.com/apps/anthropic (anthropic-api-messages): both
    auth headers are taken. Thinking follows `thinking` on hybrid models (the page's example asks
    with {"type": "enabled", "budget_tokens": 1024}). The compatibility table was not in the
    corpus: envelope and role refusals are Anthropic's (unverified)."""

    prefix = "/apps/anthropic"
    models = MODELS
    auth = ("x-api-key", "bearer")
    verify_signatures = False

    def thinks(self, body: dict) -> bool:
        mode = MODELS[body["model"]]["thinking"]
        return mode == "always" or (mode == "hybrid" and super().thinks(body))


TEMPLATES = {"dashscope": DashScopeOpenAI, "dashscope-anthropic": DashScopeAnthropic}
