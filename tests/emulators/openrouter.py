"""OpenRouter's Chat Completions (openrouter.ai/api/v1). Every rule names its source; all were
checked 2026-12-01."""

import json
import time
import uuid

from aiohttp import web

from .base import OpenAIEmulator, json_error
from .brain import Turn

# Free variants share one account-wide budget: 20 requests a minute, 50 a day (1,000 once $10
# of credits were ever bought). Source: openrouter.ai/docs/guides/routing/model-variants/free.
FREE_RPM, FREE_RPD = 20, 50

# Where OpenRouter documents that reasoning_details must come back (Gemini via OpenRouter):
# openrouter.ai/docs/guides/best-practices/reasoning-tokens#preserving-reasoning-blocks; the
# refusal below is a capture (AI_Assistant_Pro test logs on GitHub, and janhq/jan#7009).
_PRESERVE_DOC = "https://openrouter.ai/docs/guides/best-practices/reasoning-tokens#preserving-reasoning-blocks"


class OpenRouterEmulator(OpenAIEmulator):
    prefix = "/api/v1"  # base_url https://openrouter.ai/api/v1
    # "free": counts toward the free-model budget; "details": the model's reasoning_details
    # must come back unchanged (Gemini 3 through Google AI Studio); "format" is the
    # reasoning_details format OpenRouter labels them with.
    models = {
        "qwen/qwen3.8-27b:free": {"free": True},
        "nvidia/nemotron-3-ultra-550b-a55b:free": {"free": True},
        "nvidia/nemotron-3-super-120b-a12b:free": {"free": True},
        "google/gemma-4-31b-it:free": {"free": True},
        "google/gemma-4-26b-a4b-it:free": {"free": True},
        "openrouter/free": {"free": True},
        "google/gemini-3.8-flash": {"details": True, "format": "google-gemini-v1", "provider": "Google AI Studio"},
    }

    def __init__(self, *args, error_midstream: str | None = None, **kw) -> None:
        super().__init__(*args, **kw)
        self.error_midstream = error_midstream  # a provider failure after the first chunk, for tests
        self.details: dict[str, list[dict]] = {}  # tool-call id -> the reasoning_details sent with it
        self.free_calls: list[float] = []

    # -- errors: {"error": {"code", "message", "metadata"?}} with the same HTTP status.
    # Source: openrouter.ai/docs/api/reference/errors-and-debugging.

    def error(self, code: int, message: str, metadata: dict | None = None, headers: dict | None = None):
        err: dict = {"code": code, "message": message}
        if metadata:
            err["metadata"] = metadata
        return json_error(code, {"error": err}, headers)

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return self.error(status, message)

    def unknown_model(self, model) -> web.Response:
        return self.error(400, f"{model} is not a valid model ID")  # wording unverified

    def check_auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return self.error(401, "User not found.")  # 401 per the errors page; wording unverified
        return None

    def check(self, body: dict) -> web.Response | None:
        refused = super().check(body)
        if refused is not None:
            return refused
        facts = self.models[body["model"]]
        if facts.get("free"):
            limited = self.free_limit()
            if limited is not None:
                return limited
        return self.check_details(body) if facts.get("details") else None

    def free_limit(self) -> web.Response | None:
        """429 "Rate limit exceeded" with X-RateLimit-* headers; the day is the UTC day. Source:
        the free-variant page above; message and headers as summarised by developersdigest.tech
        from the limits page, 2026-10-17."""
        now = time.time()
        today = [t for t in self.free_calls if int(t // 86400) == int(now // 86400)]
        minute = [t for t in today if now - t < 60]
        if len(minute) >= FREE_RPM or len(today) >= FREE_RPD:
            which, limit = ("min", FREE_RPM) if len(minute) >= FREE_RPM else ("day", FREE_RPD)
            reset = int((minute[0] + 60 if which == "min" else (now // 86400 + 1) * 86400) * 1000)
            headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
            return self.error(429, f"Rate limit exceeded: free-models-per-{which}.", {"headers": headers}, headers)
        self.free_calls = today + [now]
        return None

    def check_details(self, body: dict) -> web.Response | None:
        """Every assistant turn whose calls this model made must carry the reasoning_details it
        came with, unchanged."""
        for m in body["messages"]:
            if not isinstance(m, dict):
                continue
            calls = [c.get("id") for c in m.get("tool_calls") or () if isinstance(c, dict)]
            issued = next((self.details[c] for c in calls if c in self.details), None)
            if issued is not None and m.get("reasoning_details") != issued:
                name = m["tool_calls"][0].get("function", {}).get("name", "")
                upstream = json.dumps({"error": {"code": 400, "message": f"Unable to submit request because function "
                                       f"call `default_api:{name}` in the 2. content block is missing a "
                                       "`thought_signature`.", "status": "INVALID_ARGUMENT"}}, indent=2)
                raw = ("Gemini models require OpenRouter reasoning details to be preserved in each request. "
                       f"Please refer to our docs: {_PRESERVE_DOC}. Upstream error: {upstream}")
                provider = self.models[body["model"]]["provider"]
                return self.error(400, "Provider returned error", {"raw": raw, "provider_name": provider})
        return None

    # -- the stream: reasoning as `reasoning` plus `reasoning_details`, calls in fragments with
    # index, usage always in the last chunk, SSE comments while waiting.
    # Sources: openrouter.ai/docs/api-reference/streaming (": OPENROUTER PROCESSING", usage in the
    # final chunk), openrouter.ai/docs/use-cases/reasoning-tokens (reasoning_details types
    # reasoning.text / .summary / .encrypted with id, format, index); chunk fields as captured
    # in charmbracelet/fantasy's OpenRouter test data (provider, native_finish_reason).

    def details_for(self, turn: Turn, body: dict) -> list[dict]:
        facts = self.models[body["model"]]
        fmt = facts.get("format", "unknown")
        out = [{"type": "reasoning.text", "text": turn.reasoning, "format": fmt, "index": 0}] if turn.reasoning else []
        if facts.get("details") and turn.calls:
            # Gemini's thought signature as an encrypted detail naming its call (shape unverified).
            sig = "sig-" + uuid.uuid5(uuid.NAMESPACE_OID, turn.calls[0].id).hex
            out.append({"type": "reasoning.encrypted", "data": sig, "id": turn.calls[0].id, "format": fmt,
                        "index": len(out)})
        return out

    def chunk(self, body: dict, delta: dict | None, finish=None, usage=None) -> dict:
        c = super().chunk(body, delta, finish, usage)
        if "provider" in self.models[body["model"]]:
            c["provider"] = self.models[body["model"]]["provider"]
        for choice in c["choices"]:
            choice["native_finish_reason"] = finish
        return c

    def usage(self, body: dict, turn: Turn) -> dict:
        return dict(super().usage(body, turn), cost=0)

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        self.tool_calls(turn)  # ids first: the encrypted detail names its call
        details = self.details_for(turn, body)
        out = super().chunks(turn, dict(body, stream_options={"include_usage": True}))
        extra = []
        if turn.reasoning:
            extra.append(self.chunk(body, {"role": "assistant", "content": "", "reasoning": turn.reasoning,
                                           "reasoning_details": details[:1]}))
        if len(details) > len(extra):
            extra.append(self.chunk(body, {"role": "assistant", "content": "", "reasoning": None,
                                           "reasoning_details": details[len(extra):]}))
        out[1:1] = extra
        return out

    def message(self, turn: Turn, body: dict) -> dict:
        self.tool_calls(turn)
        reply = super().message(turn, body)
        details = self.details_for(turn, body)
        if details:
            reply["choices"][0]["message"].update(reasoning=turn.reasoning or None, reasoning_details=details)
        return reply

    def issued(self, turn: Turn, body: dict) -> None:
        if self.models[body["model"]].get("details"):
            details = self.details_for(turn, body)
            for c in turn.calls:
                self.details[c.id] = details

    unparsable = "Invalid JSON body"

    def frames(self, turn: Turn, body: dict) -> list[bytes]:
        """The stream's bytes: a keep-alive comment first, then the chunks and [DONE]."""
        out = [b": OPENROUTER PROCESSING\n\n"]
        for i, c in enumerate(self.chunks(turn, body)):
            out.append(b"data: " + json.dumps(c).encode() + b"\n\n")
            if self.error_midstream and i == 0:
                # Errors after the stream began arrive as a data event with an error field and
                # finish_reason "error" (errors-and-debugging page, "Streaming Error Formats";
                # exact fields unverified).
                failed = dict(c, error={"code": "server_error", "message": self.error_midstream},
                              choices=[{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}])
                return out + [b"data: " + json.dumps(failed).encode() + b"\n\n"]
        return out + [b"data: [DONE]\n\n"]


TEMPLATES = {"openrouter": OpenRouterEmulator}
