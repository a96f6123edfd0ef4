"""Groq (https://api.groq.com/openai/v1) on its free plan, as its docs and its users' error
reports show it (checked 2026-12-01).

Sources (each rule below names its own):
  OAI  https://console.groq.com/docs/openai
  RL   https://console.groq.com/docs/rate-limits
  RSN  https://console.groq.com/docs/reasoning
"""

import math
import time

from .base import OpenAIEmulator, json_error, new_id
from .brain import Turn
from .cerebras import Quota, prompt_tokens, raw_think, requested_output

ORG = "org_emulator"
UPGRADE = "Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing"
LABELS = {"rpm": "requests per minute (RPM)", "rpd": "requests per day (RPD)",
          "tpm": "tokens per minute (TPM)", "tpd": "tokens per day (TPD)"}

# Free plan, per model (RL, checked 2026-12-01): gpt-oss-120b and gpt-oss-20b 30 RPM, 1K RPD,
# 8K TPM, 200K TPD. The stored RL predates qwen3.8-27b: its row is assumed to match (unverified).
FREE = {"rpm": 30, "rpd": 1000, "tpm": 8000, "tpd": 200_000}


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
    models = {
        "qwen/qwen3.8-27b": {"context": 131_072, "max_output": 16_384, "reasoning": "raw", "limits": FREE},
        "openai/gpt-oss-120b": {"context": 131_072, "max_output": 65_536, "reasoning": "parsed", "limits": FREE},
        "openai/gpt-oss-20b": {"context": 131_072, "max_output": 65_536, "reasoning": "parsed", "limits": FREE},
    }

    def __init__(self, *args, clock=time.monotonic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.quota = Quota(clock)

    def paid_plan(self) -> None:
        """The paid plan: its limits are per organization, shown in the console and not published
        in RL, so this emulator imposes none (the other rules stay)."""
        self.models = {m: dict(facts, limits={}) for m, facts in self.models.items()}

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
        return self.charge(model, facts["limits"], prompt + (wanted or facts["max_output"]))

    def charge(self, model: str, limits: dict, tokens: int):
        # Groq counts the prompt plus the requested max_tokens before the model runs: a request
        # over the TPM limit by itself is a 413, one over what is left of it a 429 (users' bodies:
        # github.com/HunorLaczko/ha-groq-cloud-api/issues/27, 2026-05-16;
        # github.com/elizaOS/eliza/issues/4040, 2025-03-21; zeeyado/koassistant.koplugin#106,
        # 2026-09-03). Checked 2026-12-01.
        where = f"for model `{model}` in organization `{ORG}` service tier `on_demand`"
        if tokens > limits.get("tpm", tokens):
            return error(413, f"Request too large {where} on {LABELS['tpm']}: Limit {limits['tpm']}, Requested "
                              f"{tokens}, please reduce your message size and try again. {UPGRADE}",
                         "tokens", "rate_limit_exceeded")
        over = self.quota.admit(model, limits, tokens)
        if over is None:
            return None
        wait = over.wait if math.isfinite(over.wait) else 86400.0
        return error(429, f"Rate limit reached {where} on {LABELS[over.limit]}: Limit {over.value}, Used {over.used}, "
                          f"Requested {over.requested}. Please try again in {wait:.2f}s. {UPGRADE}",
                     "tokens" if over.limit[0] == "t" else "requests", "rate_limit_exceeded",
                     {"retry-after": str(math.ceil(wait))})

    def shown(self, turn: Turn, body: dict) -> Turn:
        raw = self.models[body["model"]]["reasoning"] == "raw" and not body.get("tools") and not body.get("response_format")
        return raw_think(turn) if raw else turn

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning": text}

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        """Groq's stream: each tool call whole in one delta with its index; usage under x_groq on
        the finish chunk, and again in a chunk of its own when include_usage is asked for
        (github.com/vercel/ai/issues/1651; github.com/Portkey-AI/gateway/issues/1338)."""
        turn = self.shown(turn, body)
        out = [self.chunk(body, {"role": "assistant", "content": ""})]
        if turn.reasoning:
            out.append(self.chunk(body, self.reasoning_delta(turn.reasoning)))
        out += [self.chunk(body, {"content": turn.text[i:i + 16]}) for i in range(0, len(turn.text), 16)]
        calls = self.tool_calls(turn)
        if calls:
            out.append(self.chunk(body, {"tool_calls": [dict(tc, index=i) for i, tc in enumerate(calls)]}))
        usage = self.usage(body, turn)
        finish = self.chunk(body, {}, finish="tool_calls" if calls else "stop")
        finish["x_groq"] = {"id": new_id("req_"), "usage": usage}
        out.append(finish)
        if (body.get("stream_options") or {}).get("include_usage"):
            out.append(self.chunk(body, None, usage=usage))
        return out

    def message(self, turn: Turn, body: dict) -> dict:
        return super().message(self.shown(turn, body), body)


TEMPLATES = {"groq": Groq}
