"""llama.cpp's llama-server as the llamacpp template meets it. Facts checked 2026-12-01:

[jinja-default] --jinja is llama-server's default since PR #17524; --no-jinja turns it off:
    https://github.com/ggml-org/llama.cpp/pull/17524
[reasoning-format] --reasoning-format defaults to "auto", which puts thoughts in
    `reasoning_content` ("deepseek" format); "none" leaves them in content: llama-server --help,
    https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md
[stream] tools/server/server-task.cpp, to_json_oaicompat_chat_stream: one chunk per message diff
    (reasoning_content, content, tool calls as index+id+name then argument fragments), a finish
    chunk with an empty delta ("tool_calls" when the message has calls, "length" when cut), a usage
    chunk with `choices: []` only when stream_options.include_usage is set (PR #16052), and
    `timings` on the very last chunk; the unstreamed reply always has usage and timings.
[ctx] tools/server/server-common.cpp, format_error_response: ERROR_TYPE_EXCEED_CONTEXT_SIZE is a
    400 "exceed_context_size_error" carrying n_prompt_tokens and n_ctx; the message as servers
    send it: "request (N tokens) exceeds the available context size (M tokens), try increasing it".
[late-system] https://github.com/ggml-org/llama.cpp/issues/27367 (2026-08-19): a Qwen3.x chat
    template raises "System message must be at the beginning." and llama-server answers HTTP 500
    (type server_error) on both /v1/chat/completions and /v1/messages.
"""

from tests.emulators.base import OpenAIEmulator, count, json_error
from tests.emulators.brain import Turn

JINJA_MESSAGE = ("\n------------\nWhile executing CallExpression at line 85, column 32 in source:\n"
                 "...first %}\u21b5            {{- raise_exception('System message must be at the beginnin...\n"
                 "                                           ^\n"
                 "Error: Jinja Exception: System message must be at the beginning.")


def prompt_tokens(body: dict) -> int:
    """What these emulators count a prompt as (the same rough count as base.usage)."""
    return count(body.get("messages")) + count(body.get("tools") or [])


def late_system(messages: list) -> bool:
    """A system message anywhere but first: what strict chat templates refuse."""
    return any(isinstance(m, dict) and m.get("role") == "system" for m in messages[1:])


def jinja_error() -> dict:
    """llama-server's body for a template that raised [late-system]."""
    return {"error": {"code": 500, "message": JINJA_MESSAGE, "type": "server_error"}}


class LlamaCppEmulator(OpenAIEmulator):
    prefix = "/v1"
    # One GGUF per server: the model field names nothing, any value is answered.
    models: dict = {}
    # The --ctx-size the template's context_window assumes (llamacpp.toml: 32768).
    n_ctx = 32768
    # The loaded GGUF's template refuses a late system message, as Qwen3.x templates do [late-system].
    strict_template = True

    def check_auth(self, request):
        return None  # no --api-key unless the user sets one

    def check(self, body: dict):
        refused = super().check(body)
        if refused is not None:
            return refused
        if self.strict_template and late_system(body["messages"]):
            return json_error(500, jinja_error())
        n = prompt_tokens(body)
        if n >= self.n_ctx:  # [ctx]
            return json_error(400, {"error": {
                "code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": n, "n_ctx": self.n_ctx,
                "message": f"request ({n} tokens) exceeds the available context size ({self.n_ctx} tokens), try increasing it"}})
        return None

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning_content": text}  # [reasoning-format]

    def timings(self, body: dict, turn: Turn) -> dict:
        usage = self.usage(body, turn)
        return {"cache_n": 0, "prompt_n": usage["prompt_tokens"], "prompt_ms": 12.5,
                "predicted_n": usage["completion_tokens"], "predicted_ms": 40.0, "predicted_per_second": 25.0}

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        out = super().chunks(turn, body)
        out[0]["choices"][0]["delta"] = {"role": "assistant", "content": None}
        out[-1]["timings"] = self.timings(body, turn)  # [stream]
        return out

    def message(self, turn: Turn, body: dict) -> dict:
        reply = super().message(turn, body)
        reply["timings"] = self.timings(body, turn)
        return reply


TEMPLATES = {"llamacpp": LlamaCppEmulator}
