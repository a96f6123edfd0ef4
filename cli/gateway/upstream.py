"""One call to one upstream model: send, then yield what goes downstream.

`Upstream` is the interface every attempt's upstream has, and the server reads nothing else of
it: one call here (`ChatCompletions` translates, `Messages` passes the Messages API through), or
a few calls that make one answer (bounded.Bounded, searchloop.SearchLoop). `stream()` yields
`Piece`s, the last one saying so; `complete()` returns a whole message; either way the `receipt`
says what the answer cost and how it went. Every upstream failure comes out as an ApiError naming
the model, raised before the first piece when nothing has reached the client yet, so the caller
can still fall back. Upstream bytes that cannot be parsed are the upstream's fault and are
classified where they are parsed; any other exception is a bug of ours and goes up unchanged, so
it never cools a healthy model.
"""

import asyncio
import contextlib
import json
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import aiohttp

from freeclaude.gateway import ratelimits
from freeclaude.gateway.deadline import Deadline
from freeclaude.gateway.eventloop import current_task
from freeclaude.gateway.ratelimits import Reading
from freeclaude.profiles.providers import Model, Provider
from freeclaude.translate import sse
from freeclaude.translate.errors import ApiError, from_stream_error, from_upstream, retry_after
from freeclaude.translate.passthrough import for_passthrough
from freeclaude.translate.repeats import Repeats
from freeclaude.translate.request import to_openai
from freeclaude.translate.response import events_from_openai, from_openai
from freeclaude.translate.sse import json_bytes
from freeclaude.translate.stream import IncompleteStream, StreamTranslator, UpstreamStreamError
from freeclaude.translate.tools import ToolNames


@dataclass
class Usage:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    estimated: bool = True  # the upstream reported none: counted by us


@dataclass
class Receipt:
    """What an attempt's answer said: usage, timings, notes, and the error the client was told
    in-band, if any. The upstream writes it; the attempt reads it once the answer has ended."""

    usage: Usage
    started: float = field(default_factory=time.monotonic)
    first_byte: float | None = None
    error: ApiError | None = None  # an error the client already got inside the stream
    notes: list[str] = field(default_factory=list)  # repairs and anomalies, for the log
    web_searches: int = 0  # searches the gateway ran for this attempt (searchloop.py)
    ratelimits: dict[str, Reading] | None = None  # what the last answer's rate-limit headers said (ratelimits.py)
    requests: int = 1  # upstream requests this attempt made (a search loop, an answer asked again)


class Piece(NamedTuple):
    """Bytes for the client; `last`: the answer is whole with them (the ledger and the statusline
    are told before they go out)."""

    data: bytes
    last: bool = False


class Upstream(Protocol):
    where: str  # the model, as messages name it
    receipt: Receipt

    def stream(self) -> AsyncGenerator[Piece, None]: ...

    async def complete(self) -> dict[str, Any]: ...


CONNECT_S = 15.0


class Endpoint:
    """A provider as the gateway reaches it, worked out once at start: its key, the headers every
    request carries, its proxy (from the environment, honouring NO_PROXY) and its connect timeout
    (how long its answer may take is each attempt's Deadline).
    aiohttp's own trust_env would look the proxy and ~/.netrc up again on every request, each in
    a thread."""

    __slots__ = ("provider", "headers", "proxy", "timeout")

    def __init__(self, provider: Provider, key: str | None, env: Mapping[str, str]) -> None:
        self.provider = provider
        self.headers = {**provider.headers, **provider.auth_headers(key), "Content-Type": "application/json"}
        self.proxy = env_proxy(provider.base_url, env)
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_S)


def env_proxy(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy that HTTP(S)_PROXY / NO_PROXY in `env` give for `url`, if any."""
    proxies = {k[:-6].lower(): v for k, v in env.items() if k.lower().endswith("_proxy") and v}
    parts = urllib.parse.urlsplit(url)
    no_proxy = proxies.pop("no", None)
    # proxy_bypass_environment is public in urllib.request (3.11 too) but missing from typeshed's stub.
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if no_proxy and bypass(parts.hostname or "", {"no": no_proxy}):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


class Call:
    """One HTTP call to one model, an `Upstream`; its kinds say what the call sends and reads."""

    def __init__(self, session: aiohttp.ClientSession, endpoint: Endpoint, model: Model, body: dict[str, Any], *,
                 max_tokens: int, estimate: int, client_headers: Mapping[str, str]) -> None:
        self.session = session
        self.endpoint = endpoint
        self.provider = endpoint.provider
        self.model = model
        self.body = body
        self.max_tokens = max_tokens
        self.estimate = estimate
        self.client_headers = client_headers
        self.where = model.ref
        self.receipt = Receipt(Usage(input=estimate))

    async def stream(self) -> AsyncGenerator[Piece, None]:
        clock = self._deadline = Deadline(self.provider.timeout, self.provider.idle_timeout)
        gen = self._stream()
        try:
            with self._failures(clock):
                async for piece in gen:
                    if self.receipt.first_byte is None:
                        self.receipt.first_byte = time.monotonic()
                    clock.pause()
                    yield piece
                    clock.resume()
        finally:
            await gen.aclose()  # closing us must close the upstream connection now, not at GC

    async def complete(self) -> dict[str, Any]:
        clock = Deadline(self.provider.timeout, self.provider.idle_timeout)  # the whole answer is its first event
        with self._failures(clock):
            message = await self._complete()
        self.receipt.first_byte = time.monotonic()
        return message

    @contextlib.contextmanager
    def _failures(self, clock: Deadline) -> Iterator[None]:
        """The one map from how a call fails to the ApiError that names the model; the deadline
        ends with it."""
        try:
            yield
        except asyncio.CancelledError:
            if clock.caused(current_task()):
                raise self._late(clock) from None
            raise
        except TimeoutError:  # first: aiohttp's socket timeouts are ClientErrors too
            raise self._timed_out() from None
        except aiohttp.ClientError as e:
            raise self._network(e) from None
        finally:
            clock.cancel()

    def _stream(self) -> AsyncGenerator[Piece, None]:
        raise NotImplementedError

    async def _complete(self) -> dict[str, Any]:
        raise NotImplementedError

    # -------------------------------------------------------------- shared plumbing

    def _timed_out(self) -> ApiError:
        return ApiError(504, f"cannot connect to {self.where} within {CONNECT_S:.0f} s", type="timeout_error")

    def _late(self, clock: Deadline) -> ApiError:
        if clock.last is None:
            what = f"sent no answer within {clock.first:g} s (its timeout)"
        else:
            what = f"sent nothing for {clock.idle:g} s mid-answer (its idle_timeout)"
        return ApiError(504, f"{self.where} {what}", type="timeout_error")

    def _network(self, e: aiohttp.ClientError) -> ApiError:
        if isinstance(e, aiohttp.ClientConnectorError):
            return ApiError(502, f"cannot connect to {self.where} at {self.provider.base_url}: {e.os_error.strerror or e}")
        if isinstance(e, (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
            return ApiError(502, f"{self.where} broke off the connection mid-answer")
        return ApiError(502, f"{self.where}: {type(e).__name__}: {e}")

    def _unreadable(self, what: str) -> ApiError:
        return ApiError(502, f"{self.where} sent {what} that could not be read")

    def _post(self, url: str, payload: dict[str, Any], headers: dict[str, str] | None = None
              ) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        e = self.endpoint
        return self.session.post(url, data=json_bytes(payload), headers={**e.headers, **headers} if headers else e.headers,
                                 timeout=e.timeout, proxy=e.proxy)

    async def _check(self, resp: aiohttp.ClientResponse) -> None:
        # Every answer, an error too, says what is left of the provider's budgets (limits.py).
        self.receipt.ratelimits = ratelimits.read(resp.headers, self.model.quirks.requests_header)
        if resp.status != 200:
            text = await resp.text(errors="replace")  # a key quoted here is redacted on the way out (redact.py)
            wait = retry_after(resp.headers)
            if wait is None and resp.status == 429:
                wait = ratelimits.spent_for(self.receipt.ratelimits)
            raise from_upstream(resp.status, text, self.where, wait)

    async def _json(self, resp: aiohttp.ClientResponse) -> object:
        try:
            return await resp.json(content_type=None)
        except ValueError:
            raise self._unreadable("an answer") from None


# After [DONE] the body's end is usually already on its way; a response read to its end keeps
# its connection for the next request (a new one costs a connect and a resolver round trip).
DRAIN_S = 0.25


async def _drain(resp: aiohttp.ClientResponse) -> None:
    if resp.content.is_eof():
        return
    try:
        await asyncio.wait_for(resp.content.read(), DRAIN_S)
    except (TimeoutError, aiohttp.ClientError):
        pass  # the connection is closed instead of kept


def open_upstream(session: aiohttp.ClientSession, endpoint: Endpoint, model: Model, body: dict[str, Any],
                  **kw: Any) -> Call:
    kind = ChatCompletions if endpoint.provider.kind == "openai" else Messages
    return kind(session, endpoint, model, body, **kw)


class ChatCompletions(Call):
    """An OpenAI-compatible upstream, translated both ways."""

    def _request(self, stream: bool) -> tuple[dict[str, Any], StreamTranslator]:
        names = ToolNames()
        payload = to_openai(self.body, self.model, names, stream=stream, max_tokens=self.max_tokens)
        translator = StreamTranslator(
            model=self.body["model"],
            names=names,
            input_estimate=self.estimate,
            tools={t["name"]: t.get("input_schema") or {} for t in self.body.get("tools") or ()},
            show_thinking=(self.body.get("thinking") or {}).get("display") != "omitted",
            text_tool_calls=self.model.quirks.text_tool_calls,
            text_call_formats_off=frozenset(self.model.quirks.text_call_formats_off.split()),
            provider=self.provider.name,
        )
        return payload, translator

    def _post_chat(self, payload: dict[str, Any]) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        return self._post(self.provider.base_url + "/chat/completions", payload)

    async def _stream(self) -> AsyncGenerator[Piece, None]:
        payload, tr = self._request(stream=True)
        seen = 0  # data lines received
        taken = False  # the translator's usage is in the receipt
        try:
            async with self._post_chat(payload) as resp:
                await self._check(resp)
                decoder = sse.Decoder()
                done = False
                feed, encode_all = self._feed(tr), sse.encode_all
                events: list[sse.Event] = []
                started = False
                alive = self._deadline.event
                try:
                    async for chunk in resp.content.iter_any():
                        lines = decoder.feed(chunk)
                        if lines:  # comment lines never get here: they do not move the deadline
                            alive()
                        for _, data in lines:
                            seen += 1
                            if data == "[DONE]":
                                done = True
                                break
                            events += feed(data)
                            if not started and events:
                                # The first events go out alone: a read can hold dozens of chunks,
                                # and the client need not wait for all of them to be translated.
                                started = True
                                yield Piece(encode_all(events))
                                events = []
                        if done:
                            break
                        if events:
                            yield Piece(encode_all(events))
                            events = []
                except aiohttp.ClientPayloadError:
                    if seen:
                        raise
                if seen:
                    if not done:
                        for _, data in decoder.flush():
                            if data == "[DONE]":
                                done = True
                            else:
                                events += feed(data)
                    try:
                        events += tr.finish(done=done)
                    except IncompleteStream as e:
                        if events:  # what did come goes on, then the error
                            yield Piece(encode_all(events))
                        raise ApiError(502, f"{self.where}: {e}") from None
                    # The last events and the end go out together, and the client has the whole
                    # answer before the upstream's body is drained.
                    taken = True
                    self._take_usage(tr)
                    yield Piece(encode_all(events), last=True)
                    await _drain(resp)
                    return
            # 200 and then not one event: llama-cpp-python fails a stream this way and reports
            # the reason (a prompt over its context) only when not streaming.
            self.receipt.notes.append("the stream closed empty: asked again without streaming")
            events = await self._unstreamed(tr)
            taken = True
            self._take_usage(tr)
            yield Piece(encode_all(events), last=True)
        finally:
            if not taken:  # else taken before the last piece went out
                self._take_usage(tr)

    def _feed(self, tr: StreamTranslator) -> Callable[[str], list[sse.Event]]:
        loads, feed, feed_text, notes = json.loads, tr.feed, tr.feed_text, self.receipt.notes
        repeats = Repeats()
        text, learn = repeats.text, repeats.learn

        def one(data: str) -> list[sse.Event]:
            repeated = text(data)
            if repeated is not None:
                return feed_text(repeated)
            try:
                obj = loads(data)
            except ValueError:
                notes.append("skipped a stream line that is not JSON")
                return []
            try:
                events = feed(obj)
            except UpstreamStreamError as e:
                raise from_stream_error(e.error, self.where) from None
            learn(data, obj)
            return events

        return one

    async def _unstreamed(self, tr: StreamTranslator) -> list[sse.Event]:
        payload, _ = self._request(stream=False)
        pause = 0.0
        while True:  # (not a for over the pauses: mypy could not tell that it never falls through)
            # A server that has just dropped a stream may still be cleaning up: llama-cpp-python
            # drops connections for some 50 ms after. One more try after a pause is enough.
            await asyncio.sleep(pause)
            try:
                async with self._post_chat(payload) as resp:
                    await self._check(resp)
                    return self._events(await self._json(resp), tr)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                if pause:
                    raise
            pause = 0.25

    def _events(self, data: object, tr: StreamTranslator) -> list[sse.Event]:
        try:
            return events_from_openai(data, tr)
        except UpstreamStreamError as e:
            raise from_stream_error(e.error, self.where) from None

    async def _complete(self) -> dict:
        payload, tr = self._request(stream=False)
        try:
            async with self._post_chat(payload) as resp:
                await self._check(resp)
                data = await self._json(resp)
                try:
                    return from_openai(data, tr)
                except UpstreamStreamError as e:
                    raise from_stream_error(e.error, self.where) from None
        finally:
            self._take_usage(tr)

    def _take_usage(self, tr: StreamTranslator) -> None:
        self.receipt.usage = Usage(input=tr.input_tokens, output=tr.billed_output, cache_read=tr.cache_read,
                                   estimated=not tr.usage_reported)
        notes = self.receipt.notes
        if tr.repaired_calls:
            notes.append(f"repaired the arguments of {tr.repaired_calls} tool call(s)")
        if tr.invalid_calls:
            notes.append(f"{tr.invalid_calls} tool call(s) had arguments that could not be repaired")
        notes.extend(tr.anomalies)


class Messages(Call):
    """An upstream that speaks the Messages API: bytes pass through as they came."""

    def _request(self) -> tuple[str, dict[str, Any], dict[str, str]]:
        body = for_passthrough(self.body, self.model, self.max_tokens)
        headers = {"anthropic-version": self.client_headers.get("anthropic-version", "2023-06-01")}
        if self.client_headers.get("anthropic-beta"):
            headers["anthropic-beta"] = self.client_headers["anthropic-beta"]
        return self.provider.base_url + "/v1/messages", body, headers

    async def _stream(self) -> AsyncGenerator[Piece, None]:
        url, body, headers = self._request()
        async with self._post(url, body, headers) as resp:
            await self._check(resp)
            decoder = sse.Decoder()
            partial = b""  # a line not yet whole
            alive = self._deadline.event
            finished = False
            async for chunk in resp.content.iter_any():
                for event, data in decoder.feed(chunk):
                    if event != "ping":  # Anthropic's keep-alive, like a comment line
                        alive()
                    if event in ("message_start", "message_delta"):
                        self._usage(data)
                    elif event == "message_stop":
                        finished = True
                    elif event == "error":
                        # The client reads it as the upstream sent it; the ledger says so too.
                        finished = True
                        self.receipt.error = self._in_band(data)
                # Bytes go on as they came, in whole lines: a key the upstream quotes is never
                # cut in two where the gateway's answers are redacted (redact.py).
                cut = chunk.rfind(b"\n") + 1
                if not cut:
                    partial += chunk
                    continue
                yield Piece(partial + chunk[:cut] if partial or cut < len(chunk) else chunk, finished)
                partial = chunk[cut:]
                if self.receipt.error:
                    return  # nothing follows an error event
            if not finished:
                # Cut off: say so, or the client would take the partial answer as complete.
                raise ApiError(502, f"{self.where} closed the stream before the answer finished")

    def _in_band(self, data: str) -> ApiError:
        try:
            error = json.loads(data).get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        kind = error.get("type") if isinstance(error, dict) else None
        kind = kind if isinstance(kind, str) else None  # any JSON may be there, a list too: unhashable
        message = error.get("message") if isinstance(error, dict) else None
        status = {"overloaded_error": 529, "rate_limit_error": 429, "invalid_request_error": 400}.get(kind, 500) if kind else 500
        return ApiError(status, f"{self.where} ended the stream with an error: {message or data[:200]}", type=kind)

    async def _complete(self) -> dict[str, Any]:
        url, body, headers = self._request()
        async with self._post(url, body, headers) as resp:
            await self._check(resp)
            data = await self._json(resp)
            if not isinstance(data, dict):
                raise self._unreadable("an answer")
            self._take(data.get("usage"))
            return data

    def _usage(self, data: str) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            self.receipt.notes.append("skipped an event that is not JSON")
            return
        if isinstance(event, dict):
            message = event.get("message")
            self._take((message if isinstance(message, dict) else {}).get("usage") or event.get("usage"))

    def _take(self, usage: object) -> None:
        if not isinstance(usage, dict):
            return
        u = self.receipt.usage
        u.estimated = False
        for ours, theirs in (("input", "input_tokens"), ("output", "output_tokens"),
                             ("cache_read", "cache_read_input_tokens"), ("cache_write", "cache_creation_input_tokens")):
            value = usage.get(theirs)
            if isinstance(value, int):
                setattr(u, ours, value)
