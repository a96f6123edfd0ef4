"""Together AI serverless, OpenAI-compatible at https://api.together.xyz/v1. Facts checked
2026-12-01:

[reasoning] https://docs.together.ai/docs/inference/chat/reasoning: thinking goes in a `reasoning`
    field beside content (delta.reasoning when streaming). Hybrid models (Kimi K2.6, GLM-5.1,
    DeepSeek-V4-Pro: "on by default") switch with reasoning={"enabled": bool}; reasoning_effort
    low/medium/high is for the adjustable-effort models (GPT-OSS) only. Context lengths there:
    Kimi K2.6 262K, GLM-5.1 200K, DeepSeek-V4-Pro 512K, MiniMax M2.7 202K.
[tools] the older reasoning table (https://docs.together.ai/docs/reasoning-overview) marks tool
    calling "No" for GPT-OSS, MiniMax M2.5 and Qwen3.5 in reasoning mode and "Yes" for Kimi and GLM:
    the template keeps to models with tool calling.
[limits] https://docs.together.ai/docs/serverless/rate-limits: dynamic per-organization, per-model
    rates; a request above your dynamic rate is 429, one at or below it that still fails in a
    burst is 503.
Unverified: error bodies (the OpenAI shape is assumed), whether reasoning_effort is refused on
the hybrid models (the template does not send it), and where usage sits in a stream (the last
chunk, as OpenAI-compatible servers usually send it).
"""

import time

from tests.emulators.base import OpenAIEmulator, json_error
from tests.emulators.brain import Turn

# The hybrid thinking models with tool calling [reasoning] [tools].
MODELS = {"moonshotai/Kimi-K2.6": {}, "zai-org/GLM-5.1": {}, "deepseek-ai/DeepSeek-V4-Pro": {}}


def together_error(status: int, message: str, kind: str, code=None):
    return json_error(status, {"error": {"message": message, "type": kind, "param": None, "code": code}})


class TogetherEmulator(OpenAIEmulator):
    prefix = "/v1"
    models = MODELS
    # The organization's dynamic rate for each model, requests per minute [limits]; None: unbounded.
    rate: int | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._times: dict[str, list[float]] = {}

    def unknown_model(self, model):
        return together_error(404, f"Unable to access model {model}. Please visit https://api.together.ai/models "
                                   "to view the list of supported models.", "invalid_request_error", "model_not_available")

    def check(self, body: dict):
        refused = super().check(body)
        if refused is not None:
            return refused
        if self.rate:
            now = time.monotonic()
            times = self._times[body["model"]] = [t for t in self._times.get(body["model"], []) if now - t < 60] + [now]
            if len(times) > self.rate:
                return together_error(429, f"You have exceeded the rate limit for {body['model']}.", "rate_limit_error")
        return None

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning": text}  # [reasoning]

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        out = [c for c in super().chunks(turn, body) if c["choices"]]
        out[-1]["usage"] = self.usage(body, turn)
        return out


TEMPLATES = {"together": TogetherEmulator}
