"""vLLM's OpenAI-compatible server (vllm serve), as the vllm template meets it. Facts checked
2026-12-01:

[reasoning] https://docs.vllm.ai/en/v0.11.2/features/reasoning_outputs/: with --reasoning-parser
    the thoughts come in a `reasoning` field ("reasoning used to be called reasoning_content");
    vLLM 0.25 streams delta.reasoning only (https://github.com/deepseek-ai/deepseek-harness/discussions/199).
    Older releases (up to 0.10) used `reasoning_content`: https://docs.vllm.ai/en/v0.10.0/features/reasoning_outputs.html
[tools] https://docs.vllm.ai/en/latest/features/tool_calling/: auto tool choice needs
    --enable-auto-tool-choice and --tool-call-parser. The request model defaults tool_choice to
    "auto" whenever tools are present (protocol.py check_tool_usage), so without the two flags
    every request carrying tools is a 400: '"auto" tool choice requires --enable-auto-tool-choice
    and --tool-call-parser to be set'. Newer releases refuse `tools: []` ("`tools` must not be an
    empty array. ..."). Tool calls stream in fragments under their index.
[len] the 400 for prompt + max_tokens over --max-model-len, as current servers word it:
    "'max_tokens' or 'max_completion_tokens' is too large: X. This model's maximum context length
    is N tokens and your request has M input tokens (X > N - M). (parameter=max_tokens, value=X)"
    (quoted from real error reports; older releases ended with " None"); a prompt alone over the
    window: "This model's maximum context length is N tokens. However, your request has M input
    tokens. Please reduce the length of the input messages." Body: {"error": {"message", "type":
    "BadRequestError", "param": null, "code": 400}}.
[late-system] Qwen3.5+ chat templates raise "System message must be at the beginning." for a
    system message that is not first (https://github.com/ggml-org/llama.cpp/issues/20733 quotes the
    template); vLLM turns template errors into a 400 BadRequestError with the exception's text
    (unverified: the exact wrapping of the message).
[unknown-model] a name other than the served one: 404 "The model `x` does not exist." (type
    NotFoundError; unverified wording for recent releases).
"""

from tests.emulators.base import OpenAIEmulator, json_error
from tests.emulators.llamacpp import late_system, prompt_tokens


def vllm_error(status: int, message: str, kind: str = "BadRequestError", param=None):
    return json_error(status, {"error": {"message": message, "type": kind, "param": param, "code": status}})


class VllmEmulator(OpenAIEmulator):
    """One entry per `vllm serve` the user might run: the served name and its launch flags."""

    prefix = "/v1"
    models = {
        # The template's model: --max-model-len 65536 --enable-auto-tool-choice --tool-call-parser qwen3_coder
        "Qwen/Qwen3-Coder-30B-A3B-Instruct": {"max_model_len": 65536, "tool_parser": "qwen3_coder",
                                              "reasoning_parser": None},
        # A thinking model: --reasoning-parser qwen3, and a template strict about system messages.
        "Qwen/Qwen3.5-35B-A3B": {"max_model_len": 65536, "tool_parser": "qwen3_coder",
                                 "reasoning_parser": "qwen3", "strict_system": True},
        # Started without the tool flags: what a plain `vllm serve MODEL` answers to Claude Code.
        "Qwen/Qwen3-30B-A3B-Instruct-2507": {"max_model_len": 32768, "tool_parser": None,
                                             "reasoning_parser": None},
    }

    def check_auth(self, request):
        return None  # no --api-key unless the user sets one

    def unknown_model(self, model):
        return vllm_error(404, f"The model `{model}` does not exist.", "NotFoundError", "model")

    def check(self, body: dict):
        refused = super().check(body)
        if refused is not None:
            return refused
        facts = self.models[body["model"]]
        if body.get("tools") == []:
            return vllm_error(400, "`tools` must not be an empty array. Either provide at least one tool or "
                                   "omit the field entirely.")
        choice = body.get("tool_choice", "auto" if body.get("tools") else "none")
        if choice == "auto" and not facts["tool_parser"]:
            return vllm_error(400, '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set')
        if facts.get("strict_system") and late_system(body["messages"]):
            return vllm_error(400, "System message must be at the beginning.")
        window, n = facts["max_model_len"], prompt_tokens(body)
        if n >= window:
            return vllm_error(400, f"This model's maximum context length is {window} tokens. However, your request "
                                   f"has {n} input tokens. Please reduce the length of the input messages.")
        asked = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(asked, int) and n + asked > window:
            return vllm_error(400, f"'max_tokens' or 'max_completion_tokens' is too large: {asked}. This model's "
                                   f"maximum context length is {window} tokens and your request has {n} input "
                                   f"tokens ({asked} > {window} - {n}). (parameter=max_tokens, value={asked})")
        return None

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning": text}  # [reasoning]

    def chunks(self, turn, body):
        if not self.models[body["model"]]["reasoning_parser"]:
            turn = type(turn)(text=turn.text, calls=turn.calls)  # no parser: no reasoning field
        return super().chunks(turn, body)

    def message(self, turn, body):
        if not self.models[body["model"]]["reasoning_parser"]:
            turn = type(turn)(text=turn.text, calls=turn.calls)
        return super().message(turn, body)


TEMPLATES = {"vllm": VllmEmulator}
