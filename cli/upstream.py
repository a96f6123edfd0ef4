"""One attempt at one upstream model: send, then yield what goes downstream.

Every failure comes out as an ApiError naming provider and model, raised before the first
yield when nothing has reached the client yet, so the caller can still fall back.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator

import aiohttp

from freeclaude.providers import Model, Provider
from freeclaude.translate import sse
from freeclaude.translate.errors import ApiError, envelope, from_stream_error, from_upstream, retry_after
from freeclaude.translate.passthrough import for_passthrough
from freeclaude.translate.request import to_openai
from freeclaude.translate.tools import ToolNames
from freeclaude.translate.response import events_from_openai, from_openai
from freeclaude.translate.stream import IncompleteStream, StreamTranslator, UpstreamStreamError

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Exchange:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        provider: Provider,
        model: Model,
        body: dict,
        *,
        key: str | None,
        max_tokens: int,
        estimate: int,
        client_headers,
    ) -> None:
        self.session = session
        self.provider = provider
        self.model = model
        self.body = body
        self.key = key
        self.max_tokens = max_tokens
        self.estimate = estimate
        self.client_headers = client_headers
        self.where = f"{provider.name} ({model.name})"
        self.started = time.monotonic()
        self.first_byte: float | None = None
        self.input_tokens = estimate
        self.output_tokens = 0
        self.cache_read = 0
        self.cache_write = 0
        self.usage_estimated = True
        self.notes: list[str] = []  # repairs and anomalies, for the log

    # -------------------------------------------------------------- public

    async def stream(self) -> AsyncIterator[bytes]:
        gen = self._openai_stream() if self.provider.kind == "openai" else self._anthropic_stream()
        try:
            async for data in gen:
                if self.first_byte is None:
                    self.first_byte = time.monotonic()
                yield data
        except (ApiError, asyncio.CancelledError):
            raise
        except Exception as e:
            raise self._failure(e) from None
        finally:
            await gen.aclose()  # closing us must close the upstream connection now, not at GC

    async def complete(self) -> dict:
        try:
            if self.provider.kind == "openai":
                return await self._openai_complete()
            return await self._anthropic_complete()
        except (ApiError, asyncio.CancelledError):
            raise
        except Exception as e:
            raise self._failure(e) from None

    def _failure(self, e: Exception) -> ApiError:
        if isinstance(e, UpstreamStreamError):
            return from_stream_error(e.error, self.where)
        if isinstance(e, IncompleteStream):
            return ApiError(502, f"{self.where}: {e}")
        if isinstance(e, asyncio.TimeoutError):
            return ApiError(504, f"{self.where} sent nothing for {self.provider.timeout:.0f} s", type="timeout_error")
        if isinstance(e, aiohttp.ClientConnectorError):
            return ApiError(502, f"cannot connect to {self.where} at {self.provider.base_url}: {e.os_error.strerror or e}")
        if isinstance(e, (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
            return ApiError(502, f"{self.where} broke off the connection mid-answer")
        if isinstance(e, aiohttp.ClientError):
            return ApiError(502, f"{self.where}: {type(e).__name__}: {e}")
        if isinstance(e, (ValueError, KeyError, TypeError)):
            return ApiError(502, f"{self.where} sent an answer that could not be read: {type(e).__name__}")
        raise e

    # -------------------------------------------------------------- request

    def _timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=None, sock_connect=15, sock_read=self.provider.timeout)

    def _post(self, url: str, payload: dict, headers: dict):
        headers.update(self.provider.headers)
        headers["Content-Type"] = "application/json"
        return self.session.post(url, data=_dumps(payload).encode(), headers=headers, timeout=self._timeout())

    async def _raise_for(self, resp: aiohttp.ClientResponse) -> None:
        if resp.status != 200:
            text = await resp.text(errors="replace")
            if self.key:  # some upstreams quote the key they refused; it must not reach a log or a terminal
                text = text.replace(self.key, "[key redacted]")
            raise from_upstream(resp.status, text, self.where, retry_after(resp.headers))

    # -------------------------------------------------------------- openai kind

    def _openai_request(self, stream: bool) -> tuple[dict, StreamTranslator]:
        names = ToolNames()
        payload = to_openai(self.body, self.model, names, stream=stream, max_tokens=self.max_tokens)
        tools = {t["name"]: t.get("input_schema") or {} for t in self.body.get("tools") or ()}
        translator = StreamTranslator(
            model=self.body["model"],
            names=names,
            input_estimate=self.estimate,
            tools=tools,
            show_thinking=(self.body.get("thinking") or {}).get("display") != "omitted",
            text_tool_calls=self.model.quirks.text_tool_calls,
            provider=self.provider.name,
        )
        return payload, translator

    def _post_chat(self, payload: dict):
        return self._post(self.provider.base_url + "/chat/completions", payload, self.provider.auth_headers(self.key))

    async def _openai_stream(self) -> AsyncIterator[bytes]:
        payload, tr = self._openai_request(stream=True)
        seen = 0  # data lines received
        try:
            async with self._post_chat(payload) as resp:
                await self._raise_for(resp)
                decoder = sse.Decoder()
                done = False
                loads, feed, encode_all = json.loads, tr.feed, sse.encode_all
                try:
                    async for chunk in resp.content.iter_any():
                        events = []
                        for _, data in decoder.feed(chunk):
                            seen += 1
                            if data == "[DONE]":
                                done = True
                                break
                            try:
                                obj = loads(data)
                            except ValueError:
                                self.notes.append("skipped a stream line that is not JSON")
                                continue
                            events += feed(obj)
                        if events:
                            yield encode_all(events)
                        if done:
                            break
                except aiohttp.ClientPayloadError:
                    if seen:
                        raise
                if seen:
                    if not done:
                        for _, data in decoder.flush():
                            if data == "[DONE]":
                                done = True
                            else:
                                yield encode_all(feed(loads(data)))
                    yield encode_all(tr.finish(done=done))
                    return
            # 200 and then not one event: llama-cpp-python fails a stream this way and reports
            # the reason (a prompt over its context) only when not streaming.
            self.notes.append("the stream closed empty: asked again without streaming")
            yield encode_all(await self._openai_unstreamed(tr))
        finally:
            self._take_usage(tr)

    async def _openai_unstreamed(self, tr: StreamTranslator) -> list:
        payload, _ = self._openai_request(stream=False)
        for pause in (0.0, 0.25):
            # A server that has just dropped a stream may still be cleaning up: llama-cpp-python
            # drops connections for some 50 ms after. One more try after a pause is enough.
            await asyncio.sleep(pause)
            try:
                async with self._post_chat(payload) as resp:
                    await self._raise_for(resp)
                    return events_from_openai(await resp.json(content_type=None), tr)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                if pause:
                    raise

    async def _openai_complete(self) -> dict:
        payload, tr = self._openai_request(stream=False)
        try:
            async with self._post_chat(payload) as resp:
                await self._raise_for(resp)
                data = await resp.json(content_type=None)
                self.first_byte = time.monotonic()
                return from_openai(data, tr)
        finally:
            self._take_usage(tr)

    def _take_usage(self, tr: StreamTranslator) -> None:
        self.input_tokens, self.output_tokens, self.cache_read = tr.input_tokens, tr.billed_output, tr.cache_read
        self.usage_estimated = not tr.usage_reported
        if tr.repaired_calls:
            self.notes.append(f"repaired the arguments of {tr.repaired_calls} tool call(s)")
        if tr.invalid_calls:
            self.notes.append(f"{tr.invalid_calls} tool call(s) had arguments that could not be repaired")
        self.notes.extend(tr.anomalies)

    # -------------------------------------------------------------- anthropic kind (passthrough)

    def _anthropic_request(self) -> tuple[str, dict, dict]:
        body = for_passthrough(self.body, self.model, self.max_tokens)
        headers = {"anthropic-version": self.client_headers.get("anthropic-version", "2023-06-01"),
                   **self.provider.auth_headers(self.key)}
        if self.client_headers.get("anthropic-beta"):
            headers["anthropic-beta"] = self.client_headers["anthropic-beta"]
        return self.provider.base_url + "/v1/messages", body, headers

    async def _anthropic_stream(self) -> AsyncIterator[bytes]:
        url, body, headers = self._anthropic_request()
        async with self._post(url, body, headers) as resp:
            await self._raise_for(resp)
            decoder = sse.Decoder()
            finished = False
            async for chunk in resp.content.iter_any():
                for event, data in decoder.feed(chunk):
                    if event in ("message_start", "message_delta"):
                        self._anthropic_usage(json.loads(data))
                    elif event in ("message_stop", "error"):
                        finished = True
                yield chunk  # unbuffered: bytes go on exactly as they came
            if not finished:
                # Cut off: say so, or the client would take the partial answer as complete.
                message = f"{self.where} closed the stream before the answer finished"
                yield sse.encode("error", envelope("api_error", message))

    async def _anthropic_complete(self) -> dict:
        url, body, headers = self._anthropic_request()
        async with self._post(url, body, headers) as resp:
            await self._raise_for(resp)
            data = await resp.json(content_type=None)
            self.first_byte = time.monotonic()
            self._anthropic_usage({"message": data})
            return data

    def _anthropic_usage(self, event: dict) -> None:
        usage = (event.get("message") or {}).get("usage") or event.get("usage")
        if not isinstance(usage, dict):
            return
        self.usage_estimated = False
        for ours, theirs in (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens"),
                             ("cache_read", "cache_read_input_tokens"), ("cache_write", "cache_creation_input_tokens")):
            value = usage.get(theirs)
            if isinstance(value, int):
                setattr(self, ours, value)
