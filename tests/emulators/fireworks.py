"""Fireworks AI serverless, OpenAI-compatible at https://api.fireworks.ai/inference/v1. Facts
checked 2026-12-01:

[reasoning] https://docs.fireworks.ai/guides/reasoning: thinking models return `reasoning_content`;
    depth is set with reasoning_effort (or an Anthropic-style `thinking`). Accepted efforts differ
    per model, as that guide lists them (quoted by LangChain's Fireworks constants,
    https://reference.langchain.com/python/deepagents-code/reasoning_effort/FIREWORKS_KIMI_EFFORTS):
    Kimi K2 low/medium/high; GLM 5 none/high/max; DeepSeek V4 Pro none/low/medium/high/xhigh.
[extra] https://docs.fireworks.ai/tools-sdks/nim-compatibility: request fields outside the schema
    fail with 400 "Extra inputs are not permitted" (chat_template_kwargs is mapped, not refused).
[history] https://docs.fireworks.ai/fine-tuning/thinking-history: an assistant turn's reasoning
    travels back in `reasoning_content`; the serving API's reasoning_history chooses whether it
    stays in context ("interleaved" or "preserved").
[limits] https://docs.fireworks.ai/guides/quotas_usage/account-quotas: 10 requests/minute for an
    account without a payment method, 6,000 with one; https://docs.fireworks.ai/serverless/rate-limits:
    adaptive token limits, 429 when exceeded, 503 when overloaded.
[anthropic] https://docs.fireworks.ai/tools-sdks/anthropic-compatibility: POST /v1/messages under
    https://api.fireworks.ai/inference, key as Bearer (not modelled here: the template uses /v1).
Unverified: the exact error bodies (the OpenAI shape is assumed); usage in the stream's last
chunk whether or not include_usage is set (a third-party summary of Fireworks' docs,
https://www.developersdigest.tech/reference/api-compatibility/fireworks).
"""

import time

from tests.emulators.base import OpenAIEmulator, json_error
from tests.emulators.brain import Turn

# What the chat-completions schema accepts; anything else is refused [extra].
FIELDS = frozenset(
    "model messages max_tokens max_completion_tokens stream stream_options temperature top_p top_k min_p n stop "
    "tools tool_choice parallel_tool_calls response_format presence_penalty frequency_penalty repetition_penalty "
    "seed logprobs top_logprobs logit_bias user reasoning_effort reasoning_history thinking prompt_truncate_len "
    "service_tier chat_template_kwargs prediction metadata context_length_exceeded_behavior".split())

P = "accounts/fireworks/models/"


def fw_error(status: int, message: str, kind: str = "invalid_request_error"):
    return json_error(status, {"error": {"object": "error", "type": kind, "message": message}})


class FireworksEmulator(OpenAIEmulator):
    prefix = "/inference/v1"
    models = {
        P + "kimi-k2p6": {"efforts": {"low", "medium", "high"}},
        P + "glm-5p1": {"efforts": {"none", "high", "max"}},
        P + "deepseek-v4-pro": {"efforts": {"none", "low", "medium", "high", "xhigh"}},
        P + "gpt-oss-120b": {"efforts": {"low", "medium", "high"}},
    }
    # Requests per minute before a 429 [limits]; None: a payment method is on file (6,000).
    rpm: int | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._times: list[float] = []

    def unknown_model(self, model):
        return fw_error(404, f"Model not found, inaccessible, and/or not deployed: {model}", "not_found_error")

    def check(self, body: dict):
        if self.rpm:
            now = time.monotonic()
            self._times = [t for t in self._times if now - t < 60] + [now]
            if len(self._times) > self.rpm:
                return fw_error(429, "Request rate limit exceeded, please slow down", "rate_limit_error")
        refused = super().check(body)
        if refused is not None:
            return refused
        extra = sorted(set(body) - FIELDS)
        if extra:
            return fw_error(400, f"Extra inputs are not permitted, field: '{extra[0]}'")
        effort = body.get("reasoning_effort")
        allowed = self.models[body["model"]]["efforts"]
        if effort is not None and effort not in allowed:  # labels [reasoning]; status and wording unverified
            return fw_error(400, f"reasoning_effort must be one of {sorted(allowed)} for this model, got '{effort}'")
        return None

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning_content": text}  # [reasoning]

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        out = [c for c in super().chunks(turn, body) if c["choices"]]
        out[-1]["usage"] = self.usage(body, turn)  # usage on the finish chunk (unverified)
        return out


TEMPLATES = {"fireworks": FireworksEmulator}
