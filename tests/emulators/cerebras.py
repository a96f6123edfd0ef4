"""Cerebras Inference (https://api.cerebras.ai/v1) on its free trial, as its docs and its users'
error reports show it (checked 2026-12-01); also the token buckets the other emulators reuse.

Sources (each rule below names its own):
  RL   https://inference-docs.cerebras.ai/support/rate-limits
  OSS  https://inference-docs.cerebras.ai/models/openai-oss
  RSN  https://inference-docs.cerebras.ai/capabilities/reasoning
"""

import math
import time
from dataclasses import dataclass

from .base import OpenAIEmulator, count, json_error, within
from .brain import Turn

# The window each limit refills over, in seconds.
WINDOWS = {"rps": 1, "rpm": 60, "rph": 3600, "rpd": 86400, "tpm": 60, "tph": 3600, "tpd": 86400}


def prompt_tokens(body: dict) -> int:
    """The prompt as the emulators count it: messages plus tools, the same figure usage reports."""
    return count(body.get("messages")) + count(body.get("tools") or [])


def requested_output(body: dict) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        if isinstance(body.get(key), int):
            return body[key]
    return None


def cut_off(message, turn: Turn, body: dict, shown) -> dict:
    """A whole answer (`message(turn, body)`) as max_tokens leaves it: finish_reason "length"."""
    cut = within(turn, requested_output(body))
    reply = message(shown(cut or turn, body), body)
    if cut:
        reply["choices"][0]["finish_reason"] = "length"
    return reply


def raw_think(turn: Turn) -> Turn:
    """The turn with its reasoning written into the content between <think> tags (a `raw`
    reasoning format), as Qwen-family models answer where the server does not parse it out."""
    if not turn.reasoning:
        return turn
    return Turn(text=f"<think>\n{turn.reasoning}\n</think>\n\n{turn.text}", calls=turn.calls)


@dataclass
class Over:
    limit: str  # "tpm", "rpd", ...
    value: int
    used: int
    requested: int
    wait: float  # seconds until the request would fit; inf when it never can


class Quota:
    """Token buckets per (scope, limit): each holds `value` units and refills evenly over its
    window. Cerebras documents this algorithm ("capacity replenishes continuously", RL); the other
    providers do not publish theirs, so they get the same."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[tuple, tuple[float, float]] = {}  # (scope, limit) -> (level, time)

    def level(self, scope, name: str, value: int) -> float:
        level, stamp = self._buckets.get((scope, name), (float(value), self.clock()))
        return min(float(value), level + (self.clock() - stamp) * value / WINDOWS[name])

    def admit(self, scope, limits: dict[str, int], tokens: int) -> Over | None:
        """Takes one request of `tokens` from every bucket, or names the first limit it breaks."""
        costs = {name: 1 if name[0] == "r" else tokens for name in limits}
        for name, value in limits.items():
            level = self.level(scope, name, value)
            if costs[name] > level:
                wait = math.inf if costs[name] > value else (costs[name] - level) * WINDOWS[name] / value
                return Over(name, value, round(value - level), costs[name], wait)
        for name, value in limits.items():
            self.spend(scope, name, value, costs[name])
        return None

    def spend(self, scope, name: str, value: int, amount: int) -> None:
        """Takes `amount` more, e.g. completion tokens where a provider counts what was produced."""
        self._buckets[(scope, name)] = (self.level(scope, name, value) - amount, self.clock())


def error(status: int, message: str, kind: str, param=None, code=None, headers=None):
    # Cerebras's error body is flat, not wrapped in "error": seen in the 400 and 429 bodies users
    # posted (github.com/egoist/chatwise-releases/issues/1442, 2026-07-02;
    # github.com/nminaya/grammar-nazi-bot/issues/957, 2026-08-12), checked 2026-12-01.
    return json_error(status, {"message": message, "type": kind, "param": param, "code": code}, headers)


# Free trial, per model: 5 requests/min, 30K tokens/min, 1M tokens/hour, 1M tokens/day. The stored
# copy of RL stops before its table; the row is the one mirrored from RL on 2026-07-18
# (github.com/api-evangelist/cerebras-systems rate-limits.yml) and 2026-06-05 (harn-vm catalog on
# docs.rs), which match the issue tracker's figures. Checked 2026-12-01.
FREE_TRIAL = {"rpm": 5, "tpm": 30_000, "tph": 1_000_000, "tpd": 1_000_000}

# 429 bodies. The RPM text and code, and the TPM text, are verbatim from users' reports
# (grammar-nazi-bot#957, 2026-08-12; github.com/anomalyco/opencode/issues/7463, 2026-01-09); the
# TPM code and the hour/day texts follow that pattern (unverified). Checked 2026-12-01.
QUOTA_ERRORS = {
    "rpm": ("Requests per minute limit exceeded - too many requests sent.", "request_quota_exceeded"),
    "tpm": ("Tokens per minute limit exceeded - too many tokens processed.", "token_quota_exceeded"),
    "tph": ("Tokens per hour limit exceeded - too many tokens processed.", "token_quota_exceeded"),
    "tpd": ("Tokens per day limit exceeded - too many tokens processed.", "token_quota_exceeded"),
}
# RL documents no Retry-After; a 429 names the reset of the budget it broke.
RESET_HEADERS = {"rpm": "x-ratelimit-reset-requests-minute", "tpm": "x-ratelimit-reset-tokens-minute",
                 "tph": "x-ratelimit-reset-tokens-hour", "tpd": "x-ratelimit-reset-tokens-day"}
# RL: "we inject several custom headers into every API response": the limit, what remains and the
# reset, in seconds, of the requests per day and the tokens per minute. In RL's example both resets
# end in the same fraction (33011.382867097855 and 11.382867097854614): they count to the next
# day and minute on the clock, while the buckets themselves refill continuously.
EVERY_ANSWER = {"rpd": "requests-day", "tpm": "tokens-minute"}

# Fields that are a 400 on Cerebras, per a client library's guide
# (hexdocs.pm/req_llm/cerebras.html, checked 2026-12-01); not found in the stored Cerebras docs.
REFUSED_FIELDS = ("frequency_penalty", "logit_bias", "presence_penalty", "service_tier")


class Cerebras(OpenAIEmulator):
    prefix = "/v1"
    # Free-trial windows and output caps. gpt-oss-120b: 65k context, 32k output (OSS, checked
    # 2026-12-01). qwen-3.8-27b: the id is the one Cerebras's quickstart uses
    # (inference-docs.cerebras.ai/quickstart); 64k free context per a third-party catalog of
    # October 2026 (skills.sh/terminalskills/skills/cerebras); its output cap is unverified.
    # `reasoning`: where each puts its thinking by default (RSN: GPT-OSS parsed, Qwen3 raw).
    models = {
        "gpt-oss-120b": {"context": 65_536, "max_output": 32_768, "reasoning": "parsed"},
        "qwen-3.8-27b": {"context": 65_536, "max_output": 32_768, "reasoning": "raw"},
    }
    limits = FREE_TRIAL

    def __init__(self, *args, clock=time.monotonic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.quota = Quota(clock)

    def paid_plan(self) -> None:
        """The Developer tier: 1K requests and 1M tokens a minute on gpt-oss-120b (RL, as the old
        template had it), far above one session; the other rules stay."""
        self.limits = {"rpm": 1000, "tpm": 1_000_000}

    def check_auth(self, request):
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            # Wording unverified; the status is what matters to a client.
            return error(401, "Wrong API Key", "invalid_request_error", "api_key", "wrong_api_key")
        return None

    def invalid(self, message: str, status: int = 400):
        return error(status, message, "invalid_request_error")

    def unknown_model(self, model):
        # Wording unverified (the quickstart documents a 404 for a misspelled or retired id).
        return error(404, f"Model {model} does not exist or you do not have access to it.", "not_found_error",
                     "model", "model_not_found")

    def check(self, body: dict):
        refused = super().check(body)
        if refused is not None:
            return refused
        facts = self.models[body["model"]]
        for name in REFUSED_FIELDS:
            if name in body:
                return error(400, f"{name} is not supported.", "invalid_request_error", name, "wrong_api_format")
        if "parallel_tool_calls" in body:
            # Verbatim for gpt-oss-120b (github.com/agno-agi/agno/issues/4508, 2025-09-10); OSS
            # lists parallel_tool_calls: false as unsupported. Checked 2026-12-01.
            value = "True" if body["parallel_tool_calls"] else "False"
            return error(400, f"parallel_tool_calls={value} is not supported by this model.",
                         "invalid_request_error", "parallel_tool_calls", "wrong_api_format")
        choice = body.get("tool_choice")
        if choice is not None and choice not in ("auto", "none"):
            # Only auto and none (req_llm guide above; the old template said the same): wording unverified.
            return error(400, "tool_choice must be 'auto' or 'none'.", "invalid_request_error", "tool_choice",
                         "wrong_api_format")
        for i, m in enumerate(body["messages"]):
            if isinstance(m, dict) and m.get("role") == "assistant" and "reasoning_content" in m:
                # Verbatim shape (chatwise-releases#1442, 2026-07-02), checked 2026-12-01.
                field = f"messages.{i}.assistant.reasoning_content"
                return error(400, f"{field}: property '{field}' is unsupported", "invalid_request_error",
                             "validation_error", "wrong_api_format")
        prompt, wanted = prompt_tokens(body), requested_output(body)
        if wanted is not None and wanted > facts["max_output"]:
            return error(400, f"max_completion_tokens must be at most {facts['max_output']}, got {wanted}.",
                         "invalid_request_error", "max_completion_tokens")  # wording unverified
        if prompt + (wanted or 0) > facts["context"]:
            return error(400, f"Please reduce the length of the messages or completion. Current length is "
                              f"{prompt + (wanted or 0)} while limit is {facts['context']}.",
                         "invalid_request_error", "messages", "context_length_exceeded")  # wording unverified
        # RL: a request counts its prompt plus max_completion_tokens (or, without it, the rest of
        # the window) before it runs, and is refused before processing when that does not fit.
        over = self.quota.admit(body["model"], self.limits, prompt + (wanted or facts["context"] - prompt))
        if over is not None:
            message, code = QUOTA_ERRORS[over.limit]
            reset = over.wait if math.isfinite(over.wait) else WINDOWS[over.limit]
            return error(429, message, "too_many_requests_error", "quota", code,
                         {RESET_HEADERS[over.limit]: f"{reset:.3f}"})
        return None

    def limit_headers(self, body) -> dict:
        if not isinstance(body, dict) or body.get("model") not in self.models:
            return {}
        out, now = {}, self.quota.clock()
        for name, suffix in EVERY_ANSWER.items():
            if name in self.limits:
                value = self.limits[name]
                out[f"x-ratelimit-limit-{suffix}"] = str(value)
                out[f"x-ratelimit-remaining-{suffix}"] = str(int(self.quota.level(body["model"], name, value)))
                out[f"x-ratelimit-reset-{suffix}"] = repr(WINDOWS[name] - now % WINDOWS[name])
        return out

    def shown(self, turn: Turn, body: dict) -> Turn:
        return raw_think(turn) if self.models[body["model"]]["reasoning"] == "raw" else turn

    def reasoning_delta(self, text: str) -> dict:
        # GPT-OSS's parsed reasoning arrives in `reasoning` (RSN; the API reference's sample reply).
        return {"reasoning": text}

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        cut = within(turn, requested_output(body))  # an answer stopped by max_completion_tokens
        turn = cut or turn
        out = super().chunks(self.shown(turn, body), body)
        for c in out:
            if cut and c["choices"] and c["choices"][0]["finish_reason"]:
                c["choices"][0]["finish_reason"] = "length"
        # Usage (with time_info) rides on the last chunk whether or not include_usage was asked
        # for (unverified: the API reference shows it on whole responses only).
        if not (body.get("stream_options") or {}).get("include_usage"):
            out[-1]["usage"] = self.usage(body, turn)
        return out

    def message(self, turn: Turn, body: dict) -> dict:
        return cut_off(super().message, turn, body, self.shown)


TEMPLATES = {"cerebras": Cerebras}
