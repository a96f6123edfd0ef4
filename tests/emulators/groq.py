"""Groq (https://api.groq.com/openai/v1) on its free plan, as its docs and its users' error
reports show it (checked 2026-12-01).

Sources (each rule below names its own):
  OAI  https://console.groq.com/docs/openai
  RL   https://console.groq.com/docs/rate-limits
  RSN  https://console.groq.com/docs/reasoning
  PC   https://console.groq.com/docs/prompt-caching (checked 2026-12-02)
"""

import json
import math
import os
import time

from .base import OpenAIEmulator, json_error, new_id, within
from .brain import Turn
from .cerebras import WINDOWS, Quota, cut_off, prompt_tokens, raw_think, requested_output

ORG = "org_emulator"
UPGRADE = "Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing"
LABELS = {"rpm": "requests per minute (RPM)", "rpd": "requests per day (RPD)",
          "tpm": "tokens per minute (TPM)", "tpd": "tokens per day (TPD)"}

# Free plan, per model (RL, checked 2026-12-01): gpt-oss-120b and gpt-oss-20b 30 RPM, 1K RPD,
# 8K TPM, 200K TPD. The stored RL predates qwen3.8-27b: its row is assumed to match (unverified).
FREE = {"rpm": 30, "rpd": 1000, "tpm": 8000, "tpd": 200_000}
# The Developer plan's base limits are on RL's second tab, which its stored copy does not hold:
# 250K tokens a minute for gpt-oss-120b is issue 16's figure; the request limits are assumed
# (unverified). Nothing here is needed by the free plan's figures above.
DEVELOPER = {"rpm": 1000, "rpd": 500_000, "tpm": 250_000}
# PC: the minute budgets roll; cached tokens do not count towards the limits, but "are subtracted
# from your limits after processing": so they are counted when the request is admitted and given
# back once it is answered, the stricter reading. Cache hits need an exact prefix, expire after 2
# hours without use, and come in blocks (the page's example caches 4,608 of 4,641 tokens, 18 x
# 256); the minimum cacheable prompt is 128 to 1,024 tokens by model (1,024 taken here).
ROLLING = ("rpm", "tpm")
CACHE_BLOCK, CACHE_MIN, CACHE_TTL = 256, 1024, 7200.0


def error(status: int, message: str, kind: str = "invalid_request_error", code=None, headers=None):
    body: dict = {"message": message, "type": kind}
    if code:
        body["code"] = code
    return json_error(status, {"error": body}, headers)


class Groq(OpenAIEmulator):
    prefix = "/openai/v1"
    # Windows and output caps: qwen3.8-27b has a 131K window on Groq and takes images
    # (console.groq.com/docs/model/qwen/qwen3.8-27b); its 16,384 output cap is the one Groq gives
    # qwen3.6-27b (unverified for 3.8). gpt-oss: 131,072 and 65,536 (unverified here; models.dev
    # via the old template). `reasoning`: GPT-OSS always in `reasoning`; Qwen raw in the content
    # unless tools or JSON mode make it parsed (RSN).
    # unless tools or JSON mode make it parsed (RSN). `cache`: PC's list of models with prompt
    # caching (gpt-oss; not Qwen).
    models = {
        "qwen/qwen3.8-27b": {"context": 131_072, "max_output": 16_384, "reasoning": "raw", "limits": FREE},
        "openai/gpt-oss-120b": {"context": 131_072, "max_output": 65_536, "reasoning": "parsed", "limits": FREE,
                                "cache": True},
        "openai/gpt-oss-20b": {"context": 131_072, "max_output": 65_536, "reasoning": "parsed", "limits": FREE,
                               "cache": True},
    }

    def __init__(self, *args, clock=time.monotonic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock
        self.quota = Quota(clock)  # the day budgets: RL's example resets 30 of 14,400 requests a day in 2m59.56s,
        self.minute: dict[tuple, list[list]] = {}  # a continuous refill; (model, limit) -> [[time, amount]]
        self.prompts: dict[str, dict[str, float]] = {}  # model -> prompt text -> last used, for PC
        self.cached: dict[int, int] = {}  # id(body) -> its cached tokens, while it is answered
        self.counted: dict[int, list] = {}  # id(body) -> its entry in the tokens-per-minute window

    def paid_plan(self, limits: dict | None = None) -> None:
        """The Developer plan (`limits` per model, DEVELOPER by default): the other rules stay."""
        self.models = {m: dict(facts, limits=DEVELOPER if limits is None else limits) for m, facts in self.models.items()}

    def check_auth(self, request):
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return error(401, "Invalid API Key", code="invalid_api_key")  # as users report it; unverified
        return None

    def invalid(self, message: str, status: int = 400):
        return error(status, message)

    def unknown_model(self, model):
        return error(404, f"The model `{model}` does not exist or you do not have access to it.",
                     code="model_not_found")  # wording unverified

    def check(self, body: dict):
        refused = super().check(body)
        if refused is not None:
            return refused
        model, facts = body["model"], self.models[body["model"]]
        # OAI: "will result in a 400 error if they are supplied". Message wording as Groq words
        # other unknown properties (github.com/fanenr/chatbot/issues/21, 2024-12-14).
        for name in ("logprobs", "logit_bias", "top_logprobs"):
            if name in body:
                return error(400, f"property '{name}' is unsupported")
        if body.get("n") not in (None, 1):
            return error(400, "'n' : number must be at most 1")  # OAI: N must be 1; wording unverified
        for i, m in enumerate(body["messages"]):
            # OAI refuses messages[].name; reasoning_content on an assistant message is refused the
            # same way (github.com/NousResearch/hermes-agent/issues/11089, 2026-04-16).
            for name in ("name", "reasoning_content"):
                if isinstance(m, dict) and name in m:
                    return error(400, f"'messages.{i}' : for 'role:{m.get('role')}' the following must be "
                                      f"satisfied[('messages.{i}' : property '{name}' is unsupported)]")
        prompt, wanted = prompt_tokens(body), requested_output(body)
        if wanted is not None and wanted > facts["max_output"]:
            return error(400, f"`max_tokens` must be less than or equal to `{facts['max_output']}`, the maximum "
                              f"value for `max_tokens` is less than the `context_window` for this model")  # unverified
        refused = self.charge(model, facts["limits"], prompt + (wanted or facts["max_output"]), body)
        if refused is None:
            self.cached[id(body)] = self.cache(body)
        return refused

    def charge(self, model: str, limits: dict, tokens: int, body: dict | None = None):
        # Groq counts the prompt plus the requested max_tokens before the model runs: a request
        # over the TPM limit by itself is a 413, one over what is left of it a 429 (users' bodies:
        # github.com/HunorLaczko/ha-groq-cloud-api/issues/27, 2026-05-16;
        # github.com/elizaOS/eliza/issues/4040, 2025-03-21; zeeyado/koassistant.koplugin#106,
        # 2026-09-03). Checked 2026-12-01. RL: retry-after, in seconds, only with a 429.
        where = f"for model `{model}` in organization `{ORG}` service tier `on_demand`"
        if tokens > limits.get("tpm", tokens):
            return error(413, f"Request too large {where} on {LABELS['tpm']}: Limit {limits['tpm']}, Requested "
                              f"{tokens}, please reduce your message size and try again. {UPGRADE}",
                         "tokens", "rate_limit_exceeded")
        costs = {name: 1 if name[0] == "r" else tokens for name in limits}
        for name in (n for n in ROLLING if n in limits):
            used, value = self.used(model, name), limits[name]
            if used + costs[name] > value:
                wait = self.free_in(model, name, value - costs[name])
                return self.too_many(where, name, value, used, costs[name], wait)
        daily = {n: v for n, v in limits.items() if n not in ROLLING}
        over = self.quota.admit(model, daily, tokens)
        if over is not None:
            return self.too_many(where, over.limit, over.value, over.used, over.requested, over.wait)
        for name in (n for n in ROLLING if n in limits):
            entry = [self.clock(), costs[name]]
            self.minute.setdefault((model, name), []).append(entry)
            if name == "tpm" and body is not None:
                self.counted[id(body)] = entry
        return None

    def too_many(self, where: str, limit: str, value: int, used: int, requested: int, wait: float):
        wait = wait if math.isfinite(wait) else 86400.0
        return error(429, f"Rate limit reached {where} on {LABELS[limit]}: Limit {value}, Used {used}, "
                          f"Requested {requested}. Please try again in {go_duration(wait)}. {UPGRADE}",
                     "tokens" if limit[0] == "t" else "requests", "rate_limit_exceeded",
                     {"retry-after": str(math.ceil(wait))})

    def _window(self, model: str, name: str) -> list[list]:
        now, log = self.clock(), self.minute.get((model, name), [])
        log[:] = [e for e in log if now - e[0] < WINDOWS[name]]
        return log

    def used(self, model: str, name: str) -> int:
        return sum(amount for _, amount in self._window(model, name))

    def free_in(self, model: str, name: str, allowed: int) -> float:
        """Seconds until what the rolling window holds is `allowed` or less."""
        now, window = self.clock(), self._window(model, name)
        used, wait = sum(amount for _, amount in window), 0.0
        for t, amount in window:  # the oldest leave first
            if used <= allowed:
                break
            used, wait = used - amount, t + WINDOWS[name] - now
        return wait

    def limit_headers(self, body) -> dict:
        """RL: on every answer, the model's requests per day and tokens per minute, what remains
        of them and the time until each is full again (`7.66s`, `2m59.56s`)."""
        if not isinstance(body, dict) or body.get("model") not in self.models:
            return {}
        model, limits = body["model"], self.models[body["model"]]["limits"]
        out = {}
        if "rpd" in limits:
            level = self.quota.level(model, "rpd", limits["rpd"])
            out.update({"x-ratelimit-limit-requests": str(limits["rpd"]), "x-ratelimit-remaining-requests": str(int(level)),
                        "x-ratelimit-reset-requests": go_duration((limits["rpd"] - level) * WINDOWS["rpd"] / limits["rpd"])})
        if "tpm" in limits:
            window = self._window(model, "tpm")
            full = max((t + WINDOWS["tpm"] - self.clock() for t, _ in window), default=0.0)
            out.update({"x-ratelimit-limit-tokens": str(limits["tpm"]),
                        "x-ratelimit-remaining-tokens": str(max(0, limits["tpm"] - self.used(model, "tpm"))),
                        "x-ratelimit-reset-tokens": go_duration(full)})
        return out

    # -- prompt caching (PC)

    def cache(self, body: dict) -> int:
        """The prompt tokens an earlier request of the same model left cached: the longest exact
        prefix, in whole blocks."""
        model = body["model"]
        if not self.models[model].get("cache"):
            return 0
        text, now = prompt_text(body), self.clock()
        seen = self.prompts.setdefault(model, {})
        for old in [p for p, used in seen.items() if now - used > CACHE_TTL]:
            del seen[old]
        common = max((len(os.path.commonprefix([text, p])) for p in seen), default=0)
        seen[text] = now
        blocks = min(common, len(text)) // 4 // CACHE_BLOCK * CACHE_BLOCK
        return blocks if blocks >= CACHE_MIN else 0

    def usage(self, body: dict, turn: Turn) -> dict:
        u = super().usage(body, turn)
        if self.models[body["model"]].get("cache"):
            u["prompt_tokens_details"] = {"cached_tokens": min(self.cached.get(id(body), 0), u["prompt_tokens"])}
        return u

    def issued(self, turn: Turn, body: dict) -> None:
        """Answered: the cached tokens stop counting against the minute (PC)."""
        entry = self.counted.pop(id(body), None)
        cached = self.cached.pop(id(body), 0)
        if entry is not None:
            entry[1] = max(0, entry[1] - cached)

    def shown(self, turn: Turn, body: dict) -> Turn:
        raw = self.models[body["model"]]["reasoning"] == "raw" and not body.get("tools") and not body.get("response_format")
        return raw_think(turn) if raw else turn

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning": text}

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        """Groq's stream: each tool call whole in one delta with its index; usage under x_groq on
        the finish chunk, and again in a chunk of its own when include_usage is asked for
        (github.com/vercel/ai/issues/1651; github.com/Portkey-AI/gateway/issues/1338)."""
        cut = within(turn, requested_output(body))
        turn = self.shown(cut or turn, body)
        out = [self.chunk(body, {"role": "assistant", "content": ""})]
        if turn.reasoning:
            out.append(self.chunk(body, self.reasoning_delta(turn.reasoning)))
        out += [self.chunk(body, {"content": turn.text[i:i + 16]}) for i in range(0, len(turn.text), 16)]
        calls = self.tool_calls(turn)
        if calls:
            out.append(self.chunk(body, {"tool_calls": [dict(tc, index=i) for i, tc in enumerate(calls)]}))
        usage = self.usage(body, turn)
        finish = self.chunk(body, {}, finish="length" if cut else "tool_calls" if calls else "stop")
        finish["x_groq"] = {"id": new_id("req_"), "usage": usage}
        out.append(finish)
        if (body.get("stream_options") or {}).get("include_usage"):
            out.append(self.chunk(body, None, usage=usage))
        return out

    def message(self, turn: Turn, body: dict) -> dict:
        return cut_off(super().message, turn, body, self.shown)


def prompt_text(body: dict) -> str:
    """The prompt as the model reads it, tools first (a chat template writes them into the system
    turn), for the prefix a cache hit needs."""
    return json.dumps(body.get("tools") or []) + "".join(json.dumps(m) for m in body["messages"])


def go_duration(seconds: float) -> str:
    """A duration as Groq writes it (RL): `120ms`, `7.66s`, `2m59.56s`."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, secs = divmod(round(seconds, 2), 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{secs:.2f}".rstrip("0").rstrip(".")
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "") + f"{text}s"


TEMPLATES = {"groq": Groq}
