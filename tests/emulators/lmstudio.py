"""LM Studio's local server: OpenAI-compatible /v1/chat/completions and, since 0.4.1, the
Anthropic-compatible /v1/messages. Facts checked 2026-12-01:

[changelog] https://lmstudio.ai/docs/app/api-changelog and https://lmstudio.ai/docs/developer/api-changelog:
    0.3.15 tool_choice auto/none/required and finish_reason "tool_calls" in streams;
    0.3.17 tool-call arguments stream as they are generated (fragments);
    0.3.18 stream_options.include_usage returns usage while streaming, and streaming errors
    follow OpenAI's format; 0.3.23 gpt-oss reasoning moves to message.reasoning /
    delta.reasoning; 0.4.1 the Anthropic-compatible API.
[anthropic] https://lmstudio.ai/docs/developer/anthropic-compat: POST /v1/messages at the root
    (ANTHROPIC_BASE_URL=http://localhost:1234); with "Require Authentication" on it takes either
    x-api-key or Authorization: Bearer, otherwise no key.
[claude] https://lmstudio.ai/docs/integrations/claude-code: use more than ~25k context.
[unknown-model] LM Studio 0.4.x answers a name it does not have with 400 {"error": {"message":
    "Invalid model identifier \"x\". Please specify a valid downloaded model (e.g., ...).", "type":
    "invalid_request_error", "param": "model", "code": "model_not_found"}} (as quoted in
    https://github.com/assafelovic/gpt-researcher/issues/1556 and
    https://github.com/continuedev/continue/issues/12757; not in LM Studio's own docs).
Where usage goes in the stream is not documented: the OpenAI shape (a last chunk with
`choices: []`) is assumed (unverified).
"""

from tests.emulators.base import AnthropicEmulator, OpenAIEmulator, json_error
from tests.emulators.brain import Turn

MODELS = {
    # The template's model (text only, no thinking).
    "qwen/qwen3-coder-30b": {"reasoning": None},
    # LM Studio's own Claude Code example [claude]; reasoning in `reasoning` [changelog 0.3.23].
    "openai/gpt-oss-20b": {"reasoning": "reasoning"},
}


class LMStudioEmulator(OpenAIEmulator):
    prefix = "/v1"
    models = MODELS
    _field: str | None = None  # the answering model's reasoning field, set per request

    def check_auth(self, request):
        return None  # "Require Authentication" is off by default [anthropic]

    def unknown_model(self, model):
        known = ", ".join(self.models)
        return json_error(400, {"error": {
            "message": f'Invalid model identifier "{model}". Please specify a valid downloaded model (e.g., {known}).',
            "type": "invalid_request_error", "param": "model", "code": "model_not_found"}})

    def field(self, body: dict) -> str | None:
        return self.models[body["model"]]["reasoning"]

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        self._field = self.field(body)
        return super().chunks(turn, body)

    def message(self, turn: Turn, body: dict) -> dict:
        self._field = self.field(body)
        return super().message(turn, body)

    def reasoning_delta(self, text: str) -> dict:
        return {self._field: text} if self._field else {}


class LMStudioAnthropicEmulator(AnthropicEmulator):
    """/v1/messages [anthropic]; error bodies beyond Anthropic's own shape are not documented."""

    prefix = ""
    models = MODELS

    def check_auth(self, request):
        return None  # no key unless "Require Authentication" is on


TEMPLATES = {"lmstudio": LMStudioEmulator, "lmstudio-anthropic": LMStudioAnthropicEmulator}
