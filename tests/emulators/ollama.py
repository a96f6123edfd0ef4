"""Ollama: the local server's OpenAI layer (/v1), its Anthropic layer (/v1/messages at the root),
and ollama.com's cloud API. Facts checked 2026-12-01 against Ollama's docs and its source at v0.33
(github.com/ollama/ollama: openai/openai.go, middleware/openai.go, anthropic/anthropic.go,
server/routes.go, server/prompt.go):

[compat] https://docs.ollama.com/api/openai-compatibility: /v1/chat/completions takes
    stream_options.include_usage and reasoning_effort (high/medium/low/max/none); tool_choice is not
    a supported field (the request struct has none, so it is ignored); the key is required by
    clients but ignored; https://ollama.com/v1 with OLLAMA_API_KEY is the direct cloud access.
[stream] openai/openai.go + middleware/openai.go (v0.32.6, PR #17485): role on the first chunk
    only; reasoning under `reasoning` (v0.11.4+), in its own chunk before content or calls; tool
    calls whole in one delta, each with id and `index` (index since v0.4.7: before it was
    missing); finish_reason on its own chunk with an empty delta, "tool_calls" after calls (since
    v0.3.1; before v0.32.6 it rode on the last content chunk); usage in a last chunk with
    `choices: []` when include_usage (since v0.5.2), fields prompt/completion/total only.
[errors] openai.NewError: {"error": {"message", "type", "param": null, "code": null}}, type
    invalid_request_error (400), not_found_error (404), api_error otherwise; an unknown model is
    404 'model "x" not found, try pulling it first' (server/routes.go handleScheduleError).
[think] server/routes.go: a model without thinking asked to think is 400 '"x" does not support
    thinking' on /v1 (the Anthropic layer relaxes it); an effort outside the list is 400
    'invalid reasoning value' (openai.go thinkFromReasoningEffort); tools on a model without
    tool support is 400 "... does not support tools" (server/images.go).
[truncate] server/prompt.go chatPrompt: a prompt longer than num_ctx is not refused: the oldest
    messages are dropped silently (system messages kept, the last message always kept).
[late-system] https://github.com/ollama/ollama/issues/18241 (2026-09-04): a Hugging Face GGUF
    whose Jinja template raises "System message must be at the beginning." fails with 500 and
    llama-server's error body, which the /v1 layer passes on as the message text.
[anthropic] https://docs.ollama.com/api/anthropic-compatibility (Ollama 0.14+, base URL without
    /v1): key accepted but not validated; no tool_choice; thinking blocks carry no signature;
    anthropic/anthropic.go streams each tool_use input as one input_json_delta.
[cloud] https://docs.ollama.com/cloud/api: the key goes as "Authorization: Bearer"; direct API
    names have no "-cloud"/":cloud" suffix (gpt-oss:120b, gemma4:31b); cloud models run at their
    full context length (https://docs.ollama.com/context-length).
"""

import json

from aiohttp import web

from tests.emulators.base import AnthropicEmulator, OpenAIEmulator, json_error, new_id
from tests.emulators.brain import Turn
from tests.emulators.llamacpp import jinja_error, late_system, prompt_tokens

EFFORTS = ("minimal", "low", "medium", "high", "xhigh", "ultra", "max", "none")


def ollama_error(status: int, message: str) -> web.Response:
    kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
    return json_error(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})


class OllamaEmulator(OpenAIEmulator):
    """A local Ollama with a few models pulled (facts per model: what its template supports)."""

    prefix = "/v1"
    models = {
        "qwen3-coder:30b": {"tools": True, "thinking": False, "num_ctx": 64000},
        "gpt-oss:20b": {"tools": True, "thinking": True, "num_ctx": 64000},
        # A model whose template has no tool support (Ollama's library lists gemma3 without the
        # tools capability; unverified for every tag).
        "gemma3:4b": {"tools": False, "thinking": False, "num_ctx": 4096},
        # A Hugging Face GGUF run through llama-server's Jinja engine [late-system].
        "hf.co/unsloth/Qwen3.5-9B-GGUF:Q4_K_M": {"tools": True, "thinking": True, "num_ctx": 64000,
                                                 "strict_system": True},
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dropped = 0  # messages dropped by the last request's truncation [truncate]

    def check_auth(self, request):
        return None  # [compat]: the local server ignores any key

    def unknown_model(self, model) -> web.Response:
        return ollama_error(404, f"model {json.dumps(model)} not found, try pulling it first")

    def check(self, body: dict):
        if isinstance(body, dict) and body.get("messages") == []:
            return ollama_error(400, "[] is too short - 'messages'")
        refused = super().check(body)
        if refused is not None:
            return refused
        facts = self.models[body["model"]]
        effort = body.get("reasoning_effort")
        if effort is not None and effort not in EFFORTS:
            return ollama_error(400, f"invalid reasoning value: {json.dumps(effort)} (must be \"minimal\", \"low\", "
                                     "\"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")")
        if effort not in (None, "none") and not facts["thinking"]:
            return ollama_error(400, f"{json.dumps(body['model'])} does not support thinking")
        if body.get("tools") and not facts["tools"]:
            return ollama_error(400, f"registry.ollama.ai/library/{body['model']} does not support tools")
        if facts.get("strict_system") and late_system(body["messages"]):
            return ollama_error(500, json.dumps(jinja_error()))
        return None

    def fit(self, body: dict) -> dict:
        """The request as the model sees it after Ollama's silent truncation [truncate]."""
        msgs, limit = list(body["messages"]), self.models[body["model"]]["num_ctx"]
        dropped = 0
        while prompt_tokens(dict(body, messages=msgs)) > limit:
            i = next((i for i, m in enumerate(msgs[:-1]) if m.get("role") != "system"), None)
            if i is None:
                break
            del msgs[i]
            dropped += 1
        self.dropped = dropped
        return dict(body, messages=msgs)

    def view(self, body: dict):
        return super().view(self.fit(body))

    def usage(self, body: dict, turn: Turn) -> dict:
        return super().usage(self.fit(body), turn)

    def thinks(self, body: dict) -> bool:
        return self.models[body["model"]]["thinking"] and body.get("reasoning_effort") != "none"

    def tool_calls(self, turn: Turn) -> list[dict]:
        calls = super().tool_calls(turn)
        for i, c in enumerate(calls):
            c["index"] = i  # [stream]: present since v0.4.7
        return calls

    def call_id(self, i: int) -> str:
        return new_id("call_")[:13]

    def chunk(self, body: dict, delta, finish=None, usage=None) -> dict:
        c = super().chunk(body, delta, finish, usage)
        c.update(id="chatcmpl-42", system_fingerprint="fp_ollama")
        return c

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        """[stream]: reasoning, then text, then every call whole in one delta, then the finish
        chunk, then usage when asked for."""
        deltas = []
        if turn.reasoning and self.thinks(body):
            deltas += [{"content": "", "reasoning": turn.reasoning[i:i + 8]} for i in range(0, len(turn.reasoning), 8)]
        deltas += [{"content": turn.text[i:i + 8]} for i in range(0, len(turn.text), 8)]
        if turn.calls:
            deltas.append({"content": "", "tool_calls": self.tool_calls(turn)})
        deltas = deltas or [{"content": ""}]
        deltas[0] = {"role": "assistant", **deltas[0]}
        out = [self.chunk(body, d) for d in deltas]
        out.append(self.chunk(body, {}, finish="tool_calls" if turn.calls else "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            out.append(self.chunk(body, None, usage=self.usage(body, turn)))
        return out

    def message(self, turn: Turn, body: dict) -> dict:
        reply = super().message(turn, body)
        msg = reply["choices"][0]["message"]
        msg["content"] = turn.text
        if turn.reasoning and self.thinks(body):
            msg["reasoning"] = turn.reasoning
        reply.update(system_fingerprint="fp_ollama")
        return reply


class OllamaCloudEmulator(OllamaEmulator):
    """ollama.com's /v1: the same server code, a key required, the models under direct names."""

    models = {
        "gpt-oss:120b": {"tools": True, "thinking": True, "num_ctx": 131072},
        "glm-5.3": {"tools": True, "thinking": True, "num_ctx": 202752},
        "kimi-k2.6": {"tools": True, "thinking": True, "num_ctx": 262144},
        "gemma4:31b": {"tools": True, "thinking": False, "num_ctx": 262144},
    }

    def check_auth(self, request):
        # [cloud]: a bearer key; the refusal's wording is not documented (unverified).
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return ollama_error(401, "unauthorized")
        return None


class OllamaAnthropicEmulator(AnthropicEmulator):
    """The local server's Messages endpoint [anthropic]."""

    prefix = ""
    models = OllamaEmulator.models

    def check_auth(self, request):
        return None  # [anthropic]: accepted but not validated

    def error(self, status: int, message: str) -> web.Response:
        kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
        return json_error(status, {"type": "error", "error": {"type": kind, "message": message},
                                   "request_id": new_id("req_")})

    def check(self, body: dict):
        if not isinstance(body, dict) or not body.get("model"):
            return self.error(400, "model is required")
        if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] <= 0:
            return self.error(400, "max_tokens is required and must be positive")
        if not body.get("messages"):
            return self.error(400, "messages is required")
        facts = self.models.get(body["model"])
        if facts is None:
            return self.error(404, f"model {json.dumps(body['model'])} not found, try pulling it first")
        # Any role is passed to the model's template, system included; a Jinja template may refuse it.
        if facts.get("strict_system") and any(m.get("role") == "system" for m in body["messages"]):
            return self.error(500, json.dumps(jinja_error()))
        return None

    def blocks(self, turn: Turn, body: dict) -> list[dict]:
        # A thinking model thinks unless told not to (server/routes.go sets think on by default).
        thinks = self.models[body["model"]]["thinking"] and (body.get("thinking") or {}).get("type") != "disabled"
        out = super().blocks(turn, dict(body, thinking={"type": "enabled" if thinks else "disabled"}))
        for b in out:
            b.pop("signature", None)  # [anthropic]: no signature on thinking blocks
        return out

    def events(self, turn: Turn, body: dict) -> list[tuple[str, dict]]:
        """Each block whole in one delta: thinking without a signature, a call's input at once."""
        msg = self.message(turn, body)
        start = dict(msg, content=[], stop_reason=None, usage=dict(msg["usage"], output_tokens=1))
        out = [("message_start", {"type": "message_start", "message": start})]
        for i, b in enumerate(msg["content"]):
            empty, delta = {
                "text": ({"type": "text", "text": ""}, {"type": "text_delta", "text": b.get("text")}),
                "thinking": ({"type": "thinking", "thinking": ""}, {"type": "thinking_delta", "thinking": b.get("thinking")}),
                "tool_use": (dict(b, input={}), {"type": "input_json_delta", "partial_json": json.dumps(b.get("input"))}),
            }[b["type"]]
            out += [("content_block_start", {"type": "content_block_start", "index": i, "content_block": empty}),
                    ("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}),
                    ("content_block_stop", {"type": "content_block_stop", "index": i})]
        out.append(("message_delta",
                    {"type": "message_delta", "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                                      "usage": {"output_tokens": msg["usage"]["output_tokens"]}}))
        out.append(("message_stop", {"type": "message_stop"}))
        return out


TEMPLATES = {"ollama": OllamaEmulator, "ollama-cloud": OllamaCloudEmulator, "ollama-anthropic": OllamaAnthropicEmulator}
