"""Fake upstreams: real aiohttp servers on loopback speaking the providers' wire formats.

Each one answers from a script of replies and keeps what it received, so tests can assert on
both sides of the gateway.
"""

import asyncio
import json
from dataclasses import dataclass, field

from aiohttp import web

from freeclaude.profiles.schema import parse

# ---------------------------------------------------------------- OpenAI chunk builders


def chunk(delta=None, finish=None, usage=None, **extra) -> dict:
    c = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "up",
         "choices": [] if delta is None and finish is None else [{"index": 0, "delta": delta or {}, "finish_reason": finish}],
         **extra}
    if usage is not None:
        c["usage"] = usage
    return c


def call(index=None, id=None, name=None, args=None) -> dict:
    tc: dict = {"type": "function", "function": {}}
    if index is not None:
        tc["index"] = index
    if id is not None:
        tc["id"] = id
    if name is not None:
        tc["function"]["name"] = name
    if args is not None:
        tc["function"]["arguments"] = args
    return tc


def usage(prompt: int, completion: int, cached: int = 0) -> dict:
    u = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    if cached:
        u["prompt_tokens_details"] = {"cached_tokens": cached}
    return u


def text_chunks(text: str, n: int = 5, prompt: int = 20, completion: int = 5) -> list[dict]:
    """`text` in `n` pieces, a finish chunk, and usage in a final chunk without choices."""
    size = max(1, -(-len(text) // n))
    pieces = [text[i:i + size] for i in range(0, len(text), size)]
    return ([chunk({"role": "assistant", "content": ""})] + [chunk({"content": p}) for p in pieces]
            + [chunk(finish="stop"), chunk(usage=usage(prompt, completion))])


def completion(message: dict, finish: str = "stop", prompt: int = 20, completion_tokens: int = 5) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "up",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
            "usage": usage(prompt, completion_tokens)}


# ---------------------------------------------------------------- replies


@dataclass
class Stream:
    """An SSE answer. `done`: end with [DONE]; `cut`: drop the connection after the chunks."""

    chunks: list
    done: bool = True
    cut: bool = False
    delay: float = 0.0
    comment: bool = True  # OpenRouter sends keep-alive comments
    headers: dict = field(default_factory=dict)
    events: bool = False  # Anthropic style: chunks are (event, data) pairs
    linger: float = 0.0  # seconds the body stays open after the last event
    together: bool = False  # every event in one write, as a fast upstream's reach a slow reader

    async def send(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", **self.headers})
        await resp.prepare(request)
        if self.comment and not self.events:
            await resp.write(b": OPENROUTER PROCESSING\n\n")
        if self.together:
            await resp.write(b"".join(f"data: {json.dumps(item)}\n\n".encode() for item in self.chunks))
        for item in () if self.together else self.chunks:
            if self.events:
                name, data = item
                await resp.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            else:
                data = item if isinstance(item, str) else json.dumps(item)
                await resp.write(f"data: {data}\n\n".encode())
            if self.delay:
                await asyncio.sleep(self.delay)
        if self.cut:
            request.transport.close()
            return resp
        if self.done and not self.events:
            await resp.write(b"data: [DONE]\n\n")
        await asyncio.sleep(self.linger)
        await resp.write_eof()
        return resp


@dataclass
class Raw:
    """A 200 event stream written exactly as given: each of `pieces` its own write, `pause`
    seconds apart (a piece may end mid-line, or mid-word)."""

    pieces: list
    pause: float = 0.0
    silence: float = 0.0  # after the headers, before the first piece (a long prefill)

    async def send(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await asyncio.sleep(self.silence)
        for piece in self.pieces:
            await resp.write(piece)
            await asyncio.sleep(self.pause)
        await resp.write_eof()
        return resp


@dataclass
class Json:
    body: object
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # before anything is sent

    async def send(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        text = self.body if isinstance(self.body, str) else json.dumps(self.body)
        return web.Response(text=text, status=self.status, headers=self.headers, content_type="application/json")


@dataclass
class Hang:
    """Sends one chunk, then trickles keep-alives until the gateway hangs up."""

    first: dict | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        try:
            if self.first:
                await resp.write(f"data: {json.dumps(self.first)}\n\n".encode())
            for _ in range(600):
                await asyncio.sleep(0.05)
                await resp.write(b": waiting\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            self.closed.set()
            raise
        return resp


@dataclass
class Received:
    path: str
    headers: dict
    body: dict
    raw: bytes = b""  # the body's bytes as they came


class Fake:
    """A scripted upstream. `script` is consumed in order; `default` (a reply or a function of
    the request body returning one) answers when the script is empty."""

    def __init__(self) -> None:
        self.script: list = []
        self.default = None
        self.received: list[Received] = []
        self.url = ""

    def queue(self, *replies) -> "Fake":
        self.script.extend(replies)
        return self

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/v1/messages", self._handle)
        return app

    async def _handle(self, request: web.Request):
        raw = await request.read()
        body = json.loads(raw)
        self.received.append(Received(request.path, dict(request.headers), body, raw))
        reply = self.script.pop(0) if self.script else self.default
        if callable(reply) and not hasattr(reply, "send"):
            reply = reply(body)
        if reply is None:
            return web.json_response({"error": {"message": "fake upstream has no reply scripted"}}, status=500)
        return await reply.send(request)

    @property
    def last(self) -> Received:
        return self.received[-1]


def profile(url: str, *, kind: str = "openai", model: str = "up-model", key_env: str | None = "FAKE_KEY",
            context_window: int = 32768, max_output_tokens: int = 8192, quirks: dict | None = None,
            tiers: dict | None = None, extra_models: dict | None = None, name: str = "test", search: dict | None = None,
            **provider):
    """A one-provider profile pointing at a fake (and `search`, its [search] table)."""
    models = {model: {"context_window": context_window, "max_output_tokens": max_output_tokens,
                      "input_price": 1.0, "output_price": 2.0}}
    models.update(extra_models or {})
    p = {"kind": kind, "base_url": url, "models": models, **provider}
    if key_env:
        p["api_key_env"] = key_env
    if quirks:
        p["quirks"] = quirks
    data = {"providers": {"fake": p}, "tiers": tiers or {"default": [f"fake:{model}"]}}
    if search:
        data["search"] = search
    return parse(data, name, "test profile")
