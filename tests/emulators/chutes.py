"""Chutes' OpenAI-compatible inference endpoint (llm.chutes.ai/v1). Every rule names its source;
all were checked 2026-12-01."""

from aiohttp import web

from .base import OpenAIEmulator, json_error


class ChutesEmulator(OpenAIEmulator):
    prefix = "/v1"  # base_url https://llm.chutes.ai/v1 (chutes.ai/agents/litellm, catalog checked 2026-06-25)
    # Ids in use through this endpoint (-TEE: served in a trusted execution environment):
    # Qwen/Qwen3-32B-TEE from chutes.ai/agents/litellm; the others from public client catalogs
    # (openclaw docs/providers/chutes.md, juspay/neurolink chutes.md), unverified at Chutes.
    models = {m: {} for m in (
        "zai-org/GLM-5-TEE", "moonshotai/Kimi-K2.6-TEE", "deepseek-ai/DeepSeek-V3.2-TEE",
        "Qwen/Qwen3-Coder-Next-TEE", "openai/gpt-oss-120b-TEE", "Qwen/Qwen3-32B-TEE")}

    def check_auth(self, request: web.Request) -> web.Response | None:
        # "Send it as Authorization: Bearer — never X-API-Key, which inference ignores"
        # (chutes.ai/agents/litellm). Chutes is a FastAPI service: errors are {"detail": ...}
        # (body wording unverified).
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return json_error(401, {"detail": "Invalid token."})
        return None

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return json_error(status, {"detail": message})

    def unknown_model(self, model) -> web.Response:
        return json_error(404, {"detail": f"model not found: {model}"})  # wording unverified

    # The stream is the serving engine's (vLLM/SGLang chutes, "standardTemplate": "vllm" in
    # Chutes' per-chute OpenAPI): reasoning under reasoning_content, calls in fragments with
    # index, usage in a final chunk when stream_options.include_usage is set (unverified per model).

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning_content": text}


TEMPLATES = {"chutes": ChutesEmulator}
