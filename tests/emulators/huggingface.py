"""Hugging Face Inference Providers through its OpenAI-compatible router
(router.huggingface.co/v1). Every rule names its source; all were checked 2026-12-01."""

from aiohttp import web

from .base import OpenAIEmulator, json_error

# The provider-selection suffixes on a model id: a policy (":fastest", the default;
# ":cheapest"; ":preferred", the order set in hf.co/settings/inference-providers) or a
# provider's name. Source: huggingface/hub-docs docs/inference-providers/index.md (2026-08-22).
POLICIES = ("fastest", "cheapest", "preferred")


class HFRouterEmulator(OpenAIEmulator):
    prefix = "/v1"  # base_url https://router.huggingface.co/v1
    # model -> the providers serving it, from the provider mapping in hub-docs
    # docs/inference-providers/tasks/chat-completion.md (2026-08-22); gpt-oss-120b on groq from
    # index.md's example, on cerebras from integrations/claude-code.md.
    models = {
        "zai-org/GLM-5.2": {"providers": ("featherless-ai", "scaleway", "zai-org")},
        "deepseek-ai/DeepSeek-V4-Flash-0731": {"providers": ("baseten", "deepinfra", "fireworks-ai", "novita",
                                                             "together")},
        "openai/gpt-oss-120b": {"providers": ("cerebras", "groq")},
    }

    def check_auth(self, request: web.Request) -> web.Response | None:
        # A user access token with the "Make calls to Inference Providers" permission, as
        # Bearer (tasks/chat-completion.md, "authorization"); the 401 body is unverified.
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return json_error(401, {"error": "Invalid credentials in Authorization header"})
        return None

    def check(self, body: dict) -> web.Response | None:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self.invalid("messages is required")
        model, _, suffix = str(body.get("model", "")).partition(":")
        if model not in self.models:
            return self.unknown_model(body.get("model"))
        if suffix and suffix not in POLICIES and suffix not in self.models[model]["providers"]:
            # Wording unverified.
            return self.invalid(f"The requested model '{model}' is not supported by provider '{suffix}'.")
        return None

    # The stream is the serving provider's, passed through: OpenAI's shape with usage in a
    # final chunk with empty choices when stream_options.include_usage is set (documented in
    # tasks/chat-completion.md); reasoning under reasoning_content as vLLM/SGLang-based
    # providers send it (unverified per provider).

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning_content": text}


TEMPLATES = {"huggingface": HFRouterEmulator}
