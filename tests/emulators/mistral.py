"""Mistral La Plateforme (https://api.mistral.ai/v1) on the free Experiment plan, as its docs,
its SDK's request schema and its users' error reports show it (checked 2026-12-01).

Sources (each rule below names its own):
  FREE  https://help.mistral.ai/en/articles/225174-what-are-the-limits-of-the-free-tier
  RSN   https://docs.mistral.ai/capabilities/reasoning/ (and /reasoning/adjustable)
  TIER  https://docs.mistral.ai/deployment/ai-studio/tier
  SDK   github.com/mistralai/client-python src/mistralai/models/chatcompletionstreamrequest.py
"""

import math
import random
import re
import string
import time
import uuid

from .base import OpenAIEmulator, json_error
from .brain import Turn
from .cerebras import Quota, prompt_tokens

# The request fields SDK's schema declares, plus reasoning_effort (RSN). Anything else is a 422.
FIELDS = {"model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed",
          "metadata", "response_format", "tools", "tool_choice", "presence_penalty", "frequency_penalty",
          "n", "prediction", "parallel_tool_calls", "prompt_mode", "safe_prompt", "reasoning_effort"}
# Per role, from SDK's message models (systemmessage, usermessage, assistantmessage, toolmessage).
MESSAGE_FIELDS = {"system": {"role", "content"}, "user": {"role", "content"},
                  "assistant": {"role", "content", "tool_calls", "prefix"},
                  "tool": {"role", "content", "tool_call_id", "name"}}
# Tool-call ids: exactly 9 of [a-zA-Z0-9], still enforced on 2026-03-16
# (github.com/nearai/ironclaw/issues/1241), checked 2026-12-01.
CALL_ID = re.compile(r"[a-zA-Z0-9]{9}")
# Experiment plan, per organization: 1 request/second, 500,000 tokens/minute (FREE, checked
# 2026-12-01; its 1 billion tokens a month is not emulated). TIER defines requests per second as
# "the maximum number of concurrent API requests", so that is what is enforced: one answer in
# flight at a time. (A 2025-03 user report read it as a rate, github.com/dnakov/anon-kode/issues/53;
# the docs are newer.) A November 2026 user report says free API keys stopped working for some
# organizations (github.com/diegosouzapw/OmniRoute discussions/16252): unconfirmed by Mistral.
FREE = {"tpm": 500_000}
CONCURRENT = 1


def error(status: int, message, kind: str, code=None, headers=None):
    # {"object":"error",...}: the shape of every Mistral error users post (below).
    return json_error(status, {"object": "error", "message": message, "type": kind, "param": None,
                               "code": code}, headers)


def extra_forbidden(found: list[tuple[list, object]]):
    # Verbatim shape of the 422 for an unknown field (github.com/editor-code-assistant/eca/issues/231,
    # 2025-12-12, for max_completion_tokens; github.com/charmbracelet/crush/issues/1590, 2025-12-10,
    # for an assistant's reasoning_content). An older shape
    # (partITech/php-mistral#76) nests the same list differently; this one is the newer.
    detail = [{"type": "extra_forbidden", "loc": loc, "msg": "Extra inputs are not permitted", "input": value}
              for loc, value in found]
    return error(422, {"detail": detail}, "invalid_request_error")


def call_id() -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=9))


class Mistral(OpenAIEmulator):
    prefix = "/v1"
    # Windows (256K) are from third-party catalogs (mastra.ai, vercel.com/ai-gateway), unverified at
    # Mistral. `thinking`: "adjustable" models think when reasoning_effort is not "none" (RSN:
    # mistral-small-latest, mistral-medium-3-5); Magistral always thinks (RSN calls it
    # deprecated; it is kept here for its thinking chunks).
    models = {
        "mistral-medium-3-5": {"context": 262_144, "thinking": "adjustable"},
        "mistral-small-latest": {"context": 262_144, "thinking": "adjustable"},
        "mistral-large-latest": {"context": 262_144, "thinking": None},
        "codestral-latest": {"context": 262_144, "thinking": None},
        "magistral-medium-latest": {"context": 131_072, "thinking": "native"},
    }
    limits = FREE
    concurrent = CONCURRENT

    def __init__(self, *args, clock=time.monotonic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.quota = Quota(clock)
        self.in_flight = 0

    async def _handle(self, request):
        # The concurrency cap counts a request from its arrival to its answer's last byte.
        if self.in_flight >= self.concurrent:
            return self.rate_limited(1.0)
        self.in_flight += 1
        try:
            return await super()._handle(request)
        finally:
            self.in_flight -= 1

    def check_auth(self, request):
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return json_error(401, {"message": "Unauthorized", "request_id": uuid.uuid4().hex})  # unverified shape
        return None

    def invalid(self, message: str, status: int = 400):
        return error(status, message, "invalid_request_error")

    def check(self, body: dict):
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self.invalid("messages is required")
        found = [(["body", k], v) for k, v in body.items() if k not in FIELDS]
        for i, m in enumerate(body["messages"]):
            if not isinstance(m, dict):
                return self.invalid(f"messages.{i}: must be an object")
            allowed = MESSAGE_FIELDS.get(m.get("role"), set())
            found += [(["body", "messages", i, m.get("role"), k], v) for k, v in m.items() if k not in allowed]
        if found:
            return extra_forbidden(found)
        if body.get("model") not in self.models:
            # Wording as users report it; unverified.
            return error(400, f"Invalid model: {body.get('model')}", "invalid_model", "1500")
        return self.order(body["messages"]) or self.call_ids(body["messages"]) or self.charge(body)

    def order(self, messages: list[dict]):
        # A user message may not follow a tool message, nor a tool message anything but an
        # assistant's calls or another result (github.com/datapizza-labs/datapizza-ai/issues/98,
        # 2025-12-04; github.com/zed-industries/zed/issues/37021; pleibers there, 2026-04-29:
        # "still ... with most mistral models"). Checked 2026-12-01.
        prev = None
        for m in messages:
            role = m.get("role")
            if (prev == "tool" and role == "user") or (role == "tool" and prev not in ("assistant", "tool")):
                return error(400, f"Unexpected role '{role}' after role '{prev}'", "invalid_request_message_order", "3230")
            prev = role
        last = messages[-1] if messages else {}
        if last.get("role") not in ("user", "tool") and not last.get("prefix"):
            # github.com/0xPlaygrounds/rig/pull/1130 (2025-12-08); type and code unverified.
            return error(400, f"Expected last role User or Tool (or Assistant with prefix True) for serving but got "
                              f"{last.get('role')}", "invalid_request_message_order", "3230")
        return None

    def call_ids(self, messages: list[dict]):
        ids = [m.get("tool_call_id") for m in messages if m.get("role") == "tool"]
        ids += [c.get("id") for m in messages if m.get("role") == "assistant" for c in m.get("tool_calls") or ()]
        for raw in ids:
            if not (isinstance(raw, str) and CALL_ID.fullmatch(raw)):
                # Verbatim (ironclaw#1241, 2026-03-16).
                return json_error(400, {"object": "error", "message": f"Tool call id was {raw} but must be a-z, A-Z, "
                                        "0-9, with a length of 9.", "type": "invalid_function_call", "param": None,
                                        "code": "3280", "raw_status_code": 400})
        return None

    def charge(self, body: dict):
        # Limits are per organization, not per model (FREE); tokens count input and output.
        over = self.quota.admit("org", self.limits, prompt_tokens(body))
        return None if over is None else self.rate_limited(over.wait if math.isfinite(over.wait) else 60.0)

    @staticmethod
    def rate_limited(wait: float):
        # Verbatim (github.com/raycast/extensions/issues/31107, 2026-09-14); the Retry-After
        # header is unverified.
        return json_error(429, {"object": "error", "message": "Rate limit exceeded", "type": "rate_limited",
                                "param": None, "code": "1300", "raw_status_code": 429},
                          {"Retry-After": str(math.ceil(wait))})

    def issued(self, turn: Turn, body: dict) -> None:
        if "tpm" in self.limits:
            done = self.usage(body, turn)["completion_tokens"]
            self.quota.spend("org", "tpm", self.limits["tpm"], done)

    def call_id(self, i: int) -> str:
        return call_id()

    def thinks(self, turn: Turn, body: dict) -> bool:
        mode = self.models[body["model"]]["thinking"]
        effort = body.get("reasoning_effort")
        return bool(turn.reasoning) and (mode == "native" or (mode == "adjustable" and effort not in (None, "none")))

    @staticmethod
    def thinking(text: str) -> dict:
        # RSN: the thinking trace is a content chunk holding text chunks.
        return {"type": "thinking", "thinking": [{"type": "text", "text": text}]}

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        """Thinking as content-part lists, then the answer as plain string fragments (the SDK's
        reasoning_with_streaming example, mistralai/client-python PR 511, 2026-05-04); each call
        whole with its index; usage on the last chunk, with no stream_options needed."""
        out = [self.chunk(body, {"role": "assistant", "content": ""})]
        if self.thinks(turn, body):
            out.append(self.chunk(body, {"content": [self.thinking(turn.reasoning)]}))
        out += [self.chunk(body, {"content": turn.text[i:i + 16]}) for i in range(0, len(turn.text), 16)]
        calls = self.tool_calls(turn)
        if calls:
            out.append(self.chunk(body, {"tool_calls": [dict(tc, index=i) for i, tc in enumerate(calls)]}))
        out.append(self.chunk(body, {"content": ""}, finish="tool_calls" if calls else "stop",
                              usage=self.usage(body, turn)))
        return out

    def message(self, turn: Turn, body: dict) -> dict:
        reply = super().message(Turn(text=turn.text, calls=turn.calls), body)
        if self.thinks(turn, body):
            parts = [self.thinking(turn.reasoning)] + ([{"type": "text", "text": turn.text}] if turn.text else [])
            reply["choices"][0]["message"]["content"] = parts
        return reply


TEMPLATES = {"mistral": Mistral}
