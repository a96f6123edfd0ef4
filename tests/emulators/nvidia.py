"""NVIDIA's hosted NIM endpoints (integrate.api.nvidia.com/v1, the build.nvidia.com catalog).
Every rule names its source; all were checked 2026-12-01."""

import time

from aiohttp import web

from .base import OpenAIEmulator, json_error
from .brain import Turn

# Free accounts: 40 requests a minute across all models. Source: NVIDIA's statement as reported
# by fungather.com ("Understanding NVIDIA NIM API Catalog: Traffic Limits"); NVIDIA's own page
# was not found, so the figure is unverified at first hand.
RPM = 40

# Fields the hosted integrator's strict schema refuses. Source: matdev83/llm-interactive-proxy
# docs/user_guide/backends/nvidia.md (max_completion_tokens refused as unknown, stream_options
# "often" refused) and HKUDS/DeepTutor#420 (stream_options hangs the request). Third-party.
_REFUSED_FIELDS = ("max_completion_tokens", "stream_options")


class NIMEmulator(OpenAIEmulator):
    prefix = "/v1"  # base_url https://integrate.api.nvidia.com/v1
    # "switch": the chat_template_kwargs key that turns thinking on or off, and "thinks" whether
    # it is on when the request says nothing; "replay": reasoning_content must come back on
    # assistant tool-call messages while thinking is on; "max_output": the max_tokens ceiling.
    models = {
        # Kimi: {"thinking": true|false} (docs.api.nvidia.com/nim/reference/moonshotai-kimi-k2-6-infer,
        # the newest Kimi reference page found; K3's page was not found, its ids are in use:
        # several public repos call moonshotai/kimi-k3 on this endpoint in 2026-10). max_tokens 1-65536.
        "moonshotai/kimi-k3": {"switch": "thinking", "thinks": True, "replay": True, "max_output": 65536},
        # build.nvidia.com/deepseek-ai/deepseek-v4-flash sample: chat_template_kwargs
        # {"thinking": True, "reasoning_effort": "high"}, max_tokens 16384.
        "deepseek-ai/deepseek-v4-flash": {"switch": "thinking", "thinks": False},
        "deepseek-ai/deepseek-v4.1-flash": {"switch": "thinking", "thinks": False},  # unverified id and switch
        "minimaxai/minimax-m3": {"thinks": True},  # unverified
        # Nemotron: {"enable_thinking": true} (NVIDIA-NeMo/Guardrails#2316 request to this endpoint).
        "nvidia/nemotron-3.5-lightning-30b-a3b": {"switch": "enable_thinking", "thinks": True},
    }

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.reasoned: dict[str, str] = {}  # tool-call id -> the reasoning_content sent with it
        self.calls: list[float] = []

    # -- errors: NVIDIA Cloud Functions answer with problem details (status, title, detail);
    # shape unverified, taken from error bodies seen in the wild.

    def problem(self, status: int, title: str, detail: str = "") -> web.Response:
        body = {"status": status, "title": title}
        if detail:
            body["detail"] = detail
        return json_error(status, body)

    def check_auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return self.problem(401, "Unauthorized", "Authentication failed")
        return None

    def unknown_model(self, model) -> web.Response:
        return self.problem(404, "Not Found", f"Function not found for model '{model}'")

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return self.problem(status, "Bad Request" if status == 400 else "Unprocessable Entity", message)

    def check(self, body: dict) -> web.Response | None:
        refused = super().check(body)
        if refused is not None:
            return refused
        now = time.time()
        self.calls = [t for t in self.calls if now - t < 60]
        if len(self.calls) >= RPM:
            return self.problem(429, "Too Many Requests")
        self.calls.append(now)
        extra = [f for f in _REFUSED_FIELDS if f in body]
        if extra:
            return self.invalid(f"Extra inputs are not permitted: {', '.join(extra)}", 422)
        facts = self.models[body["model"]]
        cap = facts.get("max_output")
        if cap and isinstance(body.get("max_tokens"), int) and not 1 <= body["max_tokens"] <= cap:
            return self.invalid(f"max_tokens: Input should be less than or equal to {cap}", 422)
        if facts.get("replay") and self.thinking(body):
            return self.check_replay(body)
        return None

    def thinking(self, body: dict) -> bool:
        facts = self.models[body["model"]]
        kwargs = body.get("chat_template_kwargs") or {}
        return bool(kwargs.get(facts["switch"], facts["thinks"])) if "switch" in facts else facts["thinks"]

    def check_replay(self, body: dict) -> web.Response | None:
        """Kimi thinking with tools: an assistant tool-call message it reasoned over must bring
        its reasoning_content back. The message is Moonshot's own API's (iOfficeAI/AionUi#2746
        capture, via OpenRouter); whether NIM's deployment refuses the same way is unverified. It
        is held to the reasoning it wrote, not merely to some: an empty or altered one is the bug
        that breaks the second turn (Claude Code's history keeps no reasoning text of its own)."""
        for i, m in enumerate(body["messages"]):
            if not isinstance(m, dict):
                continue
            ids = [c.get("id") for c in m.get("tool_calls") or () if isinstance(c, dict)]
            wrote = next((self.reasoned[c] for c in ids if c in self.reasoned), None)
            if wrote is not None and m.get("reasoning_content") != wrote:
                return json_error(400, {"error": {"message": "thinking is enabled but reasoning_content is missing in "
                                                             f"assistant tool call message at index {i}",
                                                  "type": "invalid_request_error"}})
        return None

    # -- the stream: reasoning under reasoning_content (NVIDIA-NeMo/Guardrails#2316 response),
    # calls in fragments under their index with function.name repeated on every chunk (seen in
    # the wild; README's upstream quirks), finish "tool_calls", no usage chunk (stream_options
    # is refused above).

    def reasoning_delta(self, text: str) -> dict:
        return {"reasoning_content": text}

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        turn = turn if self.thinking(body) else Turn(text=turn.text, calls=turn.calls)
        out = super().chunks(turn, body)
        names = {}
        for c in out:
            for ch in c["choices"]:
                for tc in ch["delta"].get("tool_calls") or ():
                    fn = tc.setdefault("function", {})
                    names.setdefault(tc["index"], fn.get("name"))
                    fn["name"] = names[tc["index"]]
        return out

    def message(self, turn: Turn, body: dict) -> dict:
        return super().message(turn if self.thinking(body) else Turn(text=turn.text, calls=turn.calls), body)

    def issued(self, turn: Turn, body: dict) -> None:
        if turn.reasoning and self.thinking(body):
            self.reasoned.update((c.id, turn.reasoning) for c in turn.calls)


TEMPLATES = {"nvidia-nim": NIMEmulator}
