"""SambaNova Cloud (https://api.sambanova.ai/v1) on its free tier, as its docs show it (checked
2026-12-01).

Sources (each rule below names its own):
  RL   https://docs.sambanova.ai/docs/en/models/rate-limits
  OAI  https://docs.sambanova.ai/docs/en/v1.0.57/features/openai-compatibility
  ERR  https://docs.sambanova.ai/docs/en/api-reference/using-the-api/api-error-codes
"""

import math
import time
import uuid

from .base import OpenAIEmulator, json_error
from .brain import Turn
from .cerebras import Quota, prompt_tokens, requested_output

# Free tier (no payment method linked), per model: 20 requests/minute, 20 requests/day, 200,000
# tokens/day. The stored RL stops before its table; these rows are mirrored from it on 2026-07-21
# (github.com/api-evangelist/sambanova-systems rate-limits.yml). A live probe on 2026-08-27 found
# new accounts get 402 PAYMENT_METHOD_REQUIRED instead (github.com/juspay/neurolink
# docs/getting-started/providers/sambanova.md): sources disagree; the docs' figures are emulated.
FREE = {"rpm": 20, "rpd": 20, "tpd": 200_000}


def error(status: int, message: str, kind: str, param=None, code=None, headers=None):
    # ERR: the OpenAI error object plus a request_id.
    return json_error(status, {"error": {"message": message, "type": kind, "param": param, "code": code},
                               "request_id": str(uuid.uuid4())}, headers)


class SambaNova(OpenAIEmulator):
    prefix = "/v1"
    # The free-tier rows of RL. Windows: 128K for gpt-oss-120b, DeepSeek-V3.1 and Llama 3.3 70B,
    # 32K for the DeepSeek-V3.2 preview (neurolink's live /v1/models, 2026-08-27; unverified at
    # SambaNova). Output caps unverified: the whole window is assumed. Only gpt-oss is emulated
    # with visible reasoning, in `reasoning` as other hosts serve it (unverified here).
    models = {
        "gpt-oss-120b": {"context": 131_072, "reasoning": True},
        "DeepSeek-V3.1": {"context": 131_072, "reasoning": False},
        "Meta-Llama-3.3-70B-Instruct": {"context": 131_072, "reasoning": False},
        "DeepSeek-V3.2": {"context": 32_768, "reasoning": False},
    }
    limits = FREE

    def __init__(self, *args, clock=time.monotonic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.quota = Quota(clock)

    def check_auth(self, request):
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            # "an OpenAI-shaped 401 with code invalid_api_key" (neurolink, above); wording unverified.
            return error(401, "Invalid API key", "authentication_error", None, "invalid_api_key")
        return None

    def invalid(self, message: str, status: int = 400):
        return error(status, message, "invalid_request_error")

    def unknown_model(self, model):
        return error(404, f"Model {model} not found", "invalid_request_error", "model", "model_not_found")  # unverified

    def check(self, body: dict):
        refused = super().check(body)
        if refused is not None:
            return refused
        facts = self.models[body["model"]]
        if body.get("tools") and (body.get("n") or 1) > 1:
            # OAI: n above 1 with function calling or tools is a 400. Wording unverified.
            return error(400, "n greater than 1 is not supported with tools", "invalid_request_error", "n")
        prompt, wanted = prompt_tokens(body), requested_output(body) or 0
        if prompt + wanted > facts["context"]:
            # ERR lists context_length_exceeded as a 400; wording unverified.
            return error(400, f"Requested {prompt + wanted} tokens, more than the model's {facts['context']} "
                              "context length", "invalid_request_error", "messages", "context_length_exceeded")
        # RL counts requests per minute and day, and tokens per day (free tier only): the prompt
        # here, what was produced once it is (issued). Per model.
        over = self.quota.admit(body["model"], self.limits, prompt)
        if over is not None:
            wait = over.wait if math.isfinite(over.wait) else 86400.0
            # ERR: 429 when the tier's limits are exceeded; message and code unverified.
            return error(429, f"Rate limit exceeded: {over.limit.upper()} limit {over.value}", "rate_limit_exceeded",
                         None, "rate_limit_exceeded", {"Retry-After": str(math.ceil(wait))})
        return None

    def issued(self, turn: Turn, body: dict) -> None:
        if "tpd" in self.limits:
            done = self.usage(body, turn)["completion_tokens"]
            self.quota.spend(body["model"], "tpd", self.limits["tpd"], done)

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning": text}

    def shown(self, turn: Turn, body: dict) -> Turn:
        return turn if self.models[body["model"]]["reasoning"] else Turn(text=turn.text, calls=turn.calls)

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        return super().chunks(self.shown(turn, body), body)

    def message(self, turn: Turn, body: dict) -> dict:
        return super().message(self.shown(turn, body), body)


TEMPLATES = {"sambanova": SambaNova}
