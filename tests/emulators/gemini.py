"""Google Gemini's OpenAI-compatible endpoint (generativelanguage.googleapis.com/v1beta/openai).

Every rule names its source; all were checked 2026-12-01. Third-party captures stand in where
Google's pages show no wire bytes, and say so.
"""

import uuid

from aiohttp import web

from .base import OpenAIEmulator, json_error
from .brain import Call, Turn

# Stand-ins Google documents for calls it never signed (history from another model); either
# skips validation. Source: ai.google.dev/gemini-api/docs/thought-signatures#faqs, as quoted
# verbatim by pydantic-ai's Gemini model (the FAQ body was not in the stored page excerpt).
DUMMY_SIGNATURES = ("skip_thought_signature_validator", "context_engineering_is_the_way_to_go")

# Keys the function-declaration schema refuses, each answered "Unknown name ... Cannot find
# field". Source: openswarm-ai/openswarm#24 (2026-05, gemini-3.1-pro-preview: $schema,
# additionalProperties, propertyNames), zed-industries/zed#44875 (const).
_SCHEMA_REFUSED = ("$schema", "additionalProperties", "propertyNames", "const")

# Top-level fields the OpenAI endpoint does not know. Source: MinLL/SkyrimNet-GamePlugin#77
# (2025-08 capture: "reasoning", "top_k" refused with Unknown name ... Cannot find field).
_UNKNOWN_FIELDS = ("reasoning", "top_k")

# Source: discuss.ai.google.dev/t/117875 (capture: "Invalid reasoning_effort: minimal. Valid
# values are: high, low, medium, none"); gemini-3.7-flash's model page also says minimal errors.
_EFFORTS = ("high", "low", "medium", "none")


class GeminiEmulator(OpenAIEmulator):
    """Gemini 3.x behind the OpenAI-compatible surface."""

    prefix = "/v1beta/openai"  # base_url https://generativelanguage.googleapis.com/v1beta/openai
    # Output caps from each model page (ai.google.dev/gemini-api/docs/models/...): 65,536.
    models = {m: {"max_output": 65536} for m in (
        "gemini-3.8-flash", "gemini-3.7-flash", "gemini-3.6-flash", "gemini-3.5-flash-lite",
        "gemini-3.1-flash-lite", "gemini-4-argon")}

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.signatures: dict[str, str] = {}  # tool-call id -> the thought_signature sent with it

    # -- errors: the OpenAI endpoint wraps Google's error object in a list. Source: the
    # capture in discuss.ai.google.dev/t/109823 (missing signature) and continuedev/continue#8516.

    def error(self, code: int, message: str, status: str = "INVALID_ARGUMENT") -> web.Response:
        return json_error(code, [{"error": {"code": code, "message": message, "status": status}}])

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return self.error(status, message)

    def unknown_model(self, model) -> web.Response:
        # Wording of the native API's 404 (unverified for the OpenAI surface).
        return self.error(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                               "generateContent. Call ListModels to see the list of available models and their "
                               "supported methods.", "NOT_FOUND")

    def check_auth(self, request: web.Request) -> web.Response | None:
        # Bearer key, as in ai.google.dev/gemini-api/docs/openai; a bad key is a 400, not a 401
        # (continuedev/continue#8516 capture).
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return self.error(400, "API key not valid. Please pass a valid API key.")
        return None

    # -- refusals

    def check(self, body: dict) -> web.Response | None:
        refused = super().check(body)
        if refused is not None:
            return refused
        unknown = [f for f in _UNKNOWN_FIELDS if f in body]
        if unknown:
            return self.invalid("\n".join(f'Invalid JSON payload received. Unknown name "{f}": Cannot find field.'
                                          for f in unknown))
        effort = body.get("reasoning_effort")
        if effort is not None and effort not in _EFFORTS:
            return self.invalid(f"Invalid reasoning_effort: {effort}. Valid values are: high, low, medium, none")
        cap = self.models[body["model"]]["max_output"]
        asked = body.get("max_tokens") or body.get("max_completion_tokens")
        if isinstance(asked, int) and asked > cap:
            # Vertex's wording for the same limit (unverified for this endpoint).
            return self.invalid(f"Unable to submit request because it has a maxOutputTokens value of {asked} but "
                                f"the supported range is from 1 (inclusive) to {cap + 1} (exclusive).")
        return self.check_schemas(body) or self.check_results(body) or self.check_signatures(body)

    def check_schemas(self, body: dict) -> web.Response | None:
        problems: list[str] = []
        for i, tool in enumerate(body.get("tools") or ()):
            params = ((tool or {}).get("function") or {}).get("parameters")
            _walk(params, f"tools[0].function_declarations[{i}].parameters", problems)
        return self.invalid("\n".join(problems)) if problems else None

    def check_results(self, body: dict) -> web.Response | None:
        """Each step's calls need exactly as many results. Source: vybestack/llxprt-code#194
        (capture of the 400 below)."""
        msgs = body["messages"]
        for i, m in enumerate(msgs):
            calls = m.get("tool_calls") if isinstance(m, dict) and m.get("role") == "assistant" else None
            if not calls:
                continue
            results = 0
            for later in msgs[i + 1:]:
                if not (isinstance(later, dict) and later.get("role") == "tool"):
                    break
                results += 1
            if results != len(calls):
                return self.invalid("Please ensure that the number of function response parts is equal to the "
                                    "number of function call parts of the function call turn.")
        return None

    def check_signatures(self, body: dict) -> web.Response | None:
        """Validation covers the current turn only: everything after the newest user message
        (tool results do not start a turn). In it, the first call of every step must carry its
        signature; later calls of a parallel step carry none. Source:
        ai.google.dev/gemini-api/docs/thought-signatures ("Signatures in function calling parts":
        Validation, Requirement, parallel calls), checked 2026-12-01."""
        msgs = body["messages"]
        start = max((i for i, m in enumerate(msgs) if isinstance(m, dict) and m.get("role") == "user"), default=-1)
        position = 0  # 1-based index among contents (system messages become system_instruction)
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or m.get("role") == "system":
                continue
            position += 1
            calls = m.get("tool_calls") if m.get("role") == "assistant" else None
            if i <= start or not calls:
                continue
            first = calls[0] if isinstance(calls[0], dict) else {}
            sig = ((first.get("extra_content") or {}).get("google") or {}).get("thought_signature")
            name = (first.get("function") or {}).get("name", "")
            if not sig:
                return self.invalid("Function call is missing a thought_signature in functionCall parts. This is "
                                    "required for tools to work correctly, and missing thought_signature may lead "
                                    "to degraded model performance. Additional data, function call "
                                    f"`default_api:{name}` , position {position}. Please refer to "
                                    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details.")
            if sig not in DUMMY_SIGNATURES and self.signatures.get(first.get("id")) != sig:
                # A signature the model did not write for this call (docs.apiyi.com FAQ on
                # "Invalid / Corrupted thought signature"; Google's own wording unverified).
                return self.invalid("Corrupted thought signature.")
        return None

    # -- the stream: whole calls, no index, finish "stop". Source: open-webui/computer#224
    # (2026-08 capture: indexless deltas, ids like "function-call-1", extra_content per call),
    # googleapis/python-genai#2868 (2026-08: "stop" when streaming, "tool_calls" otherwise).

    def call_id(self, i: int) -> str:
        return f"function-call-{uuid.uuid4().int % 10**19}"

    def tool_calls(self, turn: Turn) -> list[dict]:
        out = super().tool_calls(turn)
        if out:
            # Parallel calls: only the first is signed (thought-signatures page, "Behavior").
            out[0]["extra_content"] = {"google": {"thought_signature": self._signature(turn.calls[0])}}
        return out

    @staticmethod
    def _signature(call: Call) -> str:
        return "sig-" + uuid.uuid5(uuid.NAMESPACE_OID, call.id).hex

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        out = [self.chunk(body, {"role": "assistant", "content": turn.text or ""})]
        if turn.calls:
            out.append(self.chunk(body, {"role": "assistant", "tool_calls": self.tool_calls(turn)}))
        out.append(self.chunk(body, {}, finish="stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            out.append(self.chunk(body, None, usage=self.usage(body, turn)))  # placement unverified
        return out

    def issued(self, turn: Turn, body: dict) -> None:
        for c in turn.calls[:1]:
            self.signatures[c.id] = self._signature(c)


def _walk(schema, path: str, problems: list[str]) -> None:
    """Every refused key under `schema`, named by the path Gemini reports."""
    if not isinstance(schema, dict):
        return
    for key in _SCHEMA_REFUSED:
        if key in schema:
            problems.append(f'Invalid JSON payload received. Unknown name "{key}" at \'{path}\': Cannot find field.')
    if isinstance(schema.get("type"), list):
        problems.append(f"Invalid JSON payload received. Unknown name \"type\" at '{path}': Proto field is not "
                        "repeating, cannot start list.")
    props = schema.get("properties")
    for j, sub in enumerate(props.values() if isinstance(props, dict) else ()):
        _walk(sub, f"{path}.properties[{j}].value", problems)
    _walk(schema.get("items"), f"{path}.items", problems)
    for j, sub in enumerate(schema.get("anyOf") or ()):
        _walk(sub, f"{path}.any_of[{j}]", problems)


TEMPLATES = {"gemini": GeminiEmulator}
