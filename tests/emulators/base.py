"""Strict emulators of real providers: real aiohttp servers on loopback that speak one provider's
wire format, refuse what its documentation says it refuses (with its status and body), and
answer as a scripted model (a "brain").

A provider module subclasses `OpenAIEmulator` or `AnthropicEmulator`, sets `prefix` (the path of
the template's base_url), `models`, and overrides the hooks it needs: `check` (what it rejects),
`chunks`/`message` (its stream and response shape), `check_auth`. It lists the templates it serves
in a module-level `TEMPLATES = {"template-name": EmulatorClass}`; tests/emulators/__init__.py
finds them.
"""

import json
import uuid
from dataclasses import asdict, dataclass

from aiohttp import web

from .brain import Turn, View, default_brain

# ---------------------------------------------------------------- helpers


def count(obj) -> int:
    """A rough token count for usage: about four characters a token."""
    return max(1, len(json.dumps(obj, ensure_ascii=False)) // 4)


def within(turn: Turn, limit) -> Turn | None:
    """The turn as a model stopped by max_tokens leaves it, or None when it fits: reasoning, then
    text, about four characters a token, and no tool call (the cut fell before or inside it)."""
    if not isinstance(limit, int) or count(asdict(turn)) <= limit:
        return None
    room = max(0, limit - count(asdict(Turn()))) * 4  # characters, as count() reckons them
    reasoning = turn.reasoning[:room]
    return Turn(reasoning=reasoning, text=turn.text[:room - len(reasoning)])


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def json_error(status: int, body, headers: dict | None = None) -> web.Response:
    text = body if isinstance(body, str) else json.dumps(body)
    return web.Response(status=status, text=text, content_type="application/json", headers=headers)


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


@dataclass
class Received:
    path: str
    headers: dict
    body: dict


class _Emulator:
    prefix = "/v1"
    # model id -> facts the checks use (e.g. {"max_output": 32768}); empty accepts any model
    models: dict[str, dict] = {}

    def __init__(self, brain=default_brain, key: str = "test-key") -> None:
        self.brain = brain
        self.key = key
        self.received: list[Received] = []
        self.rejected: list[tuple[int, str]] = []  # (status, body) of every refusal, for test messages
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        self.routes(app)
        return app

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @web.middleware
    async def _record(self, request: web.Request, handler):
        resp = await handler(request)
        if resp.status >= 400 and isinstance(resp, web.Response):
            self.rejected.append((resp.status, resp.text or ""))
        return resp

    def limit_headers(self, body) -> dict:
        """The rate-limit headers this provider sends with its answer to `body` (refused or not),
        after the request was counted; none by default."""
        return {}

    # the message this provider gives for a body that is not JSON
    unparsable = "We could not parse the JSON body of your request."

    def frames(self, turn: Turn, body: dict) -> list[bytes]:
        """A streamed answer's bytes, as this provider frames them."""
        raise NotImplementedError

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Every provider's flow: auth, parse, refuse, answer whole or as a stream."""
        denied = self.check_auth(request)
        if denied:
            return denied
        body = await self._json(request)
        if body is None:
            return self.invalid(self.unparsable)
        refused = self.check(body)
        extra = self.limit_headers(body)
        if refused is not None:
            refused.headers.update(extra)
            return refused
        turn = self.brain(self.view(body))
        if not body.get("stream"):
            reply = self.message(turn, body)
            self.issued(turn, body)
            return web.json_response(reply, headers=extra)
        frames = self.frames(turn, body)
        self.issued(turn, body)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", **extra})
        await resp.prepare(request)
        for frame in frames:
            await resp.write(frame)
        await resp.write_eof()
        return resp

    async def _json(self, request: web.Request):
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.received.append(Received(request.path, dict(request.headers), body))
        return body


# ---------------------------------------------------------------- OpenAI Chat Completions


class OpenAIEmulator(_Emulator):
    """OpenAI's own Chat Completions behaviour; providers override what differs."""

    def routes(self, app: web.Application) -> None:
        app.router.add_post(self.prefix + "/chat/completions", self._handle)
        app.router.add_get(self.prefix + "/models", self._models)

    # -- hooks

    def check_auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return json_error(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                              "code": "invalid_api_key"}})
        return None

    def check(self, body: dict) -> web.Response | None:
        """The provider's refusals; None when the request is acceptable."""
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self.invalid("messages is required")
        if self.models and body.get("model") not in self.models:
            return self.unknown_model(body.get("model"))
        return None

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return json_error(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def unknown_model(self, model) -> web.Response:
        return json_error(404, {"error": {"message": f"The model `{model}` does not exist", "type": "invalid_request_error",
                                          "code": "model_not_found"}})

    def usage(self, body: dict, turn: Turn) -> dict:
        prompt, completion = count(body.get("messages")) + count(body.get("tools") or []), count(asdict(turn))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def call_id(self, i: int) -> str:
        return new_id("call_")

    def chunk(self, body: dict, delta: dict | None, finish=None, usage=None) -> dict:
        c = {"id": "chatcmpl-emu", "object": "chat.completion.chunk", "created": 1, "model": body["model"],
             "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if usage is not None:
            c["usage"] = usage
        return c

    def reasoning_delta(self, text: str) -> dict:
        """Where this provider streams reasoning; OpenAI itself streams none."""
        return {}

    def tool_calls(self, turn: Turn) -> list[dict]:
        for i, c in enumerate(turn.calls):
            c.id = c.id or self.call_id(i)
        return [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.args)}}
                for c in turn.calls]

    def chunks(self, turn: Turn, body: dict) -> list[dict]:
        """OpenAI's stream: role first, reasoning, text, each call's name then its arguments in
        fragments under its index, the finish chunk, usage last when asked for."""
        out = [self.chunk(body, {"role": "assistant", "content": ""})]
        if turn.reasoning and self.reasoning_delta(turn.reasoning):
            out.append(self.chunk(body, self.reasoning_delta(turn.reasoning)))
        if turn.text:
            out += [self.chunk(body, {"content": turn.text[i:i + 8]}) for i in range(0, len(turn.text), 8)]
        for i, tc in enumerate(self.tool_calls(turn)):
            args = tc["function"]["arguments"]
            out.append(self.chunk(body, {"tool_calls": [{"index": i, "id": tc["id"], "type": "function",
                                                         "function": {"name": tc["function"]["name"], "arguments": ""}}]}))
            out += [self.chunk(body, {"tool_calls": [{"index": i, "function": {"arguments": args[j:j + 10]}}]})
                    for j in range(0, len(args), 10)]
        out.append(self.chunk(body, {}, finish="tool_calls" if turn.calls else "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            out.append(self.chunk(body, None, usage=self.usage(body, turn)))
        return out

    def message(self, turn: Turn, body: dict) -> dict:
        msg: dict = {"role": "assistant", "content": turn.text or None}
        if turn.reasoning and self.reasoning_delta(turn.reasoning):
            msg.update(self.reasoning_delta(turn.reasoning))
        if turn.calls:
            msg["tool_calls"] = self.tool_calls(turn)
        return {"id": "chatcmpl-emu", "object": "chat.completion", "created": 1, "model": body["model"],
                "choices": [{"index": 0, "message": msg, "finish_reason": "tool_calls" if turn.calls else "stop"}],
                "usage": self.usage(body, turn)}

    def issued(self, turn: Turn, body: dict) -> None:
        """Called with every answer sent, so a provider can remember state it demands back."""

    # -- plumbing

    def view(self, body: dict) -> View:
        msgs = body["messages"]
        users = [m for m in msgs if isinstance(m, dict) and m.get("role") == "user"]
        tools = [t.get("function", {}).get("name", "") for t in body.get("tools") or () if isinstance(t, dict)]
        return View(tools=tools, user=_text(users[-1].get("content")) if users else "",
                    results=[_text(m.get("content")) for m in msgs if isinstance(m, dict) and m.get("role") == "tool"],
                    system=" ".join(_text(m.get("content")) for m in msgs if isinstance(m, dict) and m.get("role") == "system"),
                    stream=bool(body.get("stream")))

    def frames(self, turn: Turn, body: dict) -> list[bytes]:
        return [b"data: " + json.dumps(c).encode() + b"\n\n" for c in self.chunks(turn, body)] + [b"data: [DONE]\n\n"]

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "emulator"}
                                                             for m in self.models]})


# ---------------------------------------------------------------- Anthropic Messages


class AnthropicEmulator(_Emulator):
    """Anthropic's Messages API; compatible endpoints override what differs."""

    prefix = ""  # the template's base_url path; requests go to {prefix}/v1/messages

    def routes(self, app: web.Application) -> None:
        app.router.add_post(self.prefix + "/v1/messages", self._handle)

    def check_auth(self, request: web.Request) -> web.Response | None:
        given = request.headers.get("x-api-key") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        if given != self.key:
            return json_error(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
        return None

    unparsable = "There was an issue with your request body: invalid JSON"

    def invalid(self, message: str, status: int = 400) -> web.Response:
        return json_error(status, {"type": "error", "error": {"type": "invalid_request_error", "message": message}})

    def check(self, body: dict) -> web.Response | None:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self.invalid("messages: Field required")
        if not isinstance(body.get("max_tokens"), int):
            return self.invalid("max_tokens: Field required")
        if self.models and body.get("model") not in self.models:
            return json_error(404,
                              {"type": "error", "error": {"type": "not_found_error", "message": f"model: {body.get('model')}"}})
        for i, m in enumerate(body["messages"]):
            if m.get("role") not in ("user", "assistant"):
                return self.invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        return None

    def usage(self, body: dict, turn: Turn) -> dict:
        return {"input_tokens": count(body.get("messages")) + count(body.get("tools") or []),
                "output_tokens": count(asdict(turn)), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}

    def blocks(self, turn: Turn, body: dict) -> list[dict]:
        out = []
        if turn.reasoning and (body.get("thinking") or {}).get("type") in ("enabled", "adaptive"):
            out.append({"type": "thinking", "thinking": turn.reasoning, "signature": self.signature(turn.reasoning)})
        if turn.text:
            out.append({"type": "text", "text": turn.text})
        for c in turn.calls:
            c.id = c.id or new_id("toolu_")
            out.append({"type": "tool_use", "id": c.id, "name": c.name, "input": c.args})
        return out

    def signature(self, reasoning: str) -> str:
        return "sig-" + uuid.uuid5(uuid.NAMESPACE_OID, reasoning).hex

    def message(self, turn: Turn, body: dict) -> dict:
        return {"id": new_id("msg_"), "type": "message", "role": "assistant", "model": body["model"],
                "content": self.blocks(turn, body), "stop_reason": "tool_use" if turn.calls else "end_turn",
                "stop_sequence": None, "usage": self.usage(body, turn)}

    def events(self, turn: Turn, body: dict) -> list[tuple[str, dict]]:
        msg = self.message(turn, body)
        usage = msg["usage"]
        start = dict(msg, content=[], stop_reason=None, usage=dict(usage, output_tokens=1))
        out = [("message_start", {"type": "message_start", "message": start})]
        for i, b in enumerate(msg["content"]):
            empty = {"text": {"type": "text", "text": ""}, "thinking": {"type": "thinking", "thinking": "", "signature": ""},
                     "tool_use": dict(b, input={})}[b["type"]]
            out.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": empty}))
            if b["type"] == "text":
                deltas = [{"type": "text_delta", "text": b["text"]}]
            elif b["type"] == "thinking":
                deltas = [{"type": "thinking_delta", "thinking": b["thinking"]},
                          {"type": "signature_delta", "signature": b["signature"]}]
            else:
                args = json.dumps(b["input"])
                deltas = [{"type": "input_json_delta", "partial_json": args[j:j + 10]} for j in range(0, len(args), 10)]
            out += [("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d}) for d in deltas]
            out.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        out.append(("message_delta",
                    {"type": "message_delta", "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                                      "usage": {"output_tokens": usage["output_tokens"]}}))
        out.append(("message_stop", {"type": "message_stop"}))
        return out

    def issued(self, turn: Turn, body: dict) -> None:
        """Called with every answer sent."""

    def view(self, body: dict) -> View:
        msgs = body["messages"]
        results, user = [], ""
        for m in msgs:
            content = m.get("content")
            if isinstance(content, list):
                for b in content:
                    if isinstance(b, dict) and b.get("type") == "tool_result":
                        results.append(_text(b.get("content")))
            if m.get("role") == "user":
                text = content if isinstance(content, str) else _text(
                    [b for b in content or () if isinstance(b, dict) and b.get("type") == "text"])
                if text:
                    user = text
        tools = [t.get("name", "") for t in body.get("tools") or () if isinstance(t, dict)]
        return View(tools=tools, user=user, results=results, system=_text(body.get("system")), stream=bool(body.get("stream")))

    def frames(self, turn: Turn, body: dict) -> list[bytes]:
        return [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in self.events(turn, body)]
