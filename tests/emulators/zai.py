"""Z.ai's GLM API: Chat Completions at api.z.ai/api/paas/v4 and the Messages endpoint at
api.z.ai/api/anthropic.

Sources, checked 2026-12-01: docs.z.ai/guides/capabilities/thinking-mode (thinking on by default,
interleaved and preserved thinking), docs.z.ai/api-reference/api-code with its Chinese twin
docs.bigmodel.cn/cn/api/api-code (business error codes), and the third-party notes named below
where Z.ai's own pages were not in the corpus.
"""

from aiohttp import web

from .anthropic import StrictMessages
from .base import OpenAIEmulator, json_error
from .brain import Turn

# GLM-5.3 (pay-per-use API since 2026-08-19) and GLM-5.3-Flash: 1M window, 131,072 out
# (openrouter.ai/~z-ai/glm-latest and ~z-ai/glm-flash-latest, which point at them); GLM-5.2 kept
# for profiles that name it. Both 5.3 models refuse thinking {"type": "disabled"}
# (VladoIvankovic/Codeep v2.25.0 release notes, 2026-08; third party, wording unverified).
MODELS = {
    "glm-5.3": {"thinking_off": False},
    "glm-5.3-flash": {"thinking_off": False},
    "glm-5.2": {"thinking_off": True},
}


class ZaiOpenAI(OpenAIEmulator):
    prefix = "/api/paas/v4"  # base_url https://api.z.ai/api/paas/v4
    models = MODELS

    # -- envelope: {"error": {"code": "<business code>", "message"}}; codes from the api-code
    # pages (1000 auth failed, 1210 bad parameter, 1211 unknown model, 1214 illegal field). The
    # English wordings are unverified (only the Chinese table was in the corpus).

    def fail(self, status: int, code: str, message: str) -> web.Response:
        return json_error(status, {"error": {"code": code, "message": message}})

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return self.fail(status, "1210", message)

    def unknown_model(self, model) -> web.Response:
        return self.fail(400, "1211", "Unknown Model, please check the model code.")

    def check_auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return self.fail(401, "1000", "Authentication Failed")
        return None

    def check(self, body: dict) -> web.Response | None:
        refused = super().check(body)
        if refused is not None:
            return refused
        thinking = body.get("thinking")
        kind = thinking.get("type") if isinstance(thinking, dict) else None
        if thinking is not None and kind not in ("enabled", "disabled"):
            # `thinking: {"type": "enabled" | "disabled"}` (thinking-mode page).
            return self.fail(400, "1214", "thinking parameter is illegal. Please check the documentation.")
        if kind == "disabled" and not MODELS[body["model"]]["thinking_off"]:
            return self.fail(400, "1214", f"thinking cannot be disabled for {body['model']}")
        return None

    def reasoning_delta(self, text: str) -> dict:
        # Reasoning streams as reasoning_content (docs.wolffi.sh/configuration/zai.md, third party).
        return {"reasoning_content": text}

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        """Tool calls arrive whole in one delta unless the request sets tool_stream (unverified:
        Z.ai's tool-streaming page was not in the corpus); the rest is OpenAI's shape."""
        out = super().chunks(Turn(turn.reasoning, turn.text), body)
        if not turn.calls:
            return out
        calls = [dict(c, index=i) for i, c in enumerate(self.tool_calls(turn))]
        finish = next(i for i, c in enumerate(out) if c["choices"] and c["choices"][0]["finish_reason"])
        out.insert(finish, self.chunk(body, {"tool_calls": calls}))
        out[finish + 1]["choices"][0]["finish_reason"] = "tool_calls"
        if out[-1].get("usage"):
            out[-1]["usage"] = self.usage(body, turn)
        return out


class ZaiAnthropic(StrictMessages):
    """The endpoint Z.ai documents for Claude Code (ANTHROPIC_BASE_URL
    https://api.z.ai/api/anthropic with ANTHROPIC_AUTH_TOKEN: pypi.org/project/glm-launch,
    Agents365-ai/dsclaude glmclaude); SDK clients send x-api-key, both are taken. Envelope and
    role refusals are Anthropic's (unverified)."""

    prefix = "/api/anthropic"
    models = MODELS
    auth = ("bearer", "x-api-key")
    thinks_by_default = True  # "Thinking is activated by default" (thinking-mode page)
    # Z.ai documents no signature check: thinking "should be explicitly preserved and returned"
    # (thinking-mode page), with no refusal named.
    verify_signatures = False


TEMPLATES = {"zai": ZaiOpenAI, "zai-anthropic": ZaiAnthropic}
