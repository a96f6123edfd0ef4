"""The gateway: an aiohttp server speaking the Anthropic Messages API to its clients.

It authenticates, parses and limits the body, plans the models (router) and tries them in
turn (fallback), and moves bytes. Each try is an attempt (attempt.py): its upstream (upstream.py;
bounded.py or searchloop.py where one answer takes several calls), its pacing slot, and its ledger
row, which one writer thread (writer.py) writes with the log lines and the statusline's state.
Translation lives in translate/, image descriptions in vision.py.
"""

import asyncio
import contextlib
import dataclasses
import hmac
import json
import logging
from collections.abc import AsyncGenerator, Callable
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

from freeclaude.claude import picker
from freeclaude.claude.sessions import Board, client_session
from freeclaude.gateway import gate, logs
from freeclaude.gateway.attempt import INTERNAL, Attempt, Attempts, internal, request_id, stopping
from freeclaude.gateway.config import Config, listen
from freeclaude.gateway.eventloop import current_task
from freeclaude.gateway.fallback import Fallback
from freeclaude.gateway.inflight import InFlight
from freeclaude.gateway.limits import Pacer
from freeclaude.gateway.redact import Redactor
from freeclaude.gateway.router import Candidate, Plan, Router
from freeclaude.gateway.search import backend as search_backend
from freeclaude.gateway.upstream import Endpoint, Piece
from freeclaude.gateway.vision import Describer
from freeclaude.gateway.writer import Writer
from freeclaude.translate import sse, websearch
from freeclaude.translate.errors import ApiError
from freeclaude.translate.sse import json_bytes
from freeclaude.translate.tokens import estimate
from freeclaude.translate.validate import InvalidRequest, validate
from freeclaude.translate.websearch import Tool
from freeclaude.usage.ledger import Ledger

log = logging.getLogger("freeclaude")
_SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
ENDING_S = 1.0  # on stop, for the answers cut off to say so and the connections to close


class Server:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.profile = config.profile
        keys = config.keys()
        self.redact = Redactor([*keys.values(), config.search_key()])
        self.pacer = Pacer(config.profile, max_wait=config.max_wait)
        self.router = Router(config.profile, budgets=self.pacer)
        self._models = picker.listing(config.profile)
        self.fallback = Fallback(self.router, budgets=self.pacer, max_wait=config.max_wait)
        self.ledger = Ledger(config.ledger_path) if config.ledger_path else None
        self._writer = Writer(self.ledger, Board(str(config.state_dir)) if config.state_dir else None, self.redact)
        self._inflight = InFlight()
        self.attempts = Attempts(
            session_id=config.session, profile=config.profile.name,
            endpoints={p.name: Endpoint(p, keys[p.name], config.env) for p in config.profile.used_providers()},
            pacer=self.pacer, router=self.router, writer=self._writer, inflight=self._inflight,
            search=search_backend(config.profile.search, config.search_key(), config.env))
        self.vision = Describer(self.attempts, self.fallback, chain=bool(config.profile.chain("vision")))
        self.runner: web.AppRunner | None = None
        self.base_url = ""
        self._stopping = asyncio.Event()
        self._gate = gate.Gate()
        self.app = web.Application(client_max_size=config.max_body, middlewares=[self._errors, self._auth])
        self.app.router.add_post("/v1/messages", self.messages)
        self.app.router.add_post("/v1/messages/count_tokens", self.count_tokens)
        self.app.router.add_get("/v1/models", self.models)
        self.app.router.add_get("/", self.health)
        self.app.on_startup.append(self._open)
        self.app.on_cleanup.append(self._close)

    # -------------------------------------------------------------- lifecycle

    async def _open(self, app: web.Application) -> None:
        self.attempts.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
            cookie_jar=aiohttp.DummyCookieJar(),  # upstreams' cookies are no business of Claude Code's
        )

    async def _close(self, app: web.Application) -> None:
        if self.attempts.http:
            await self.attempts.http.close()
        self._writer.close()  # every row handed over is written before the ledger closes
        if self.ledger:
            self.ledger.close()

    def flush(self) -> None:
        """Returns once every row and log line handed to the writer so far is written."""
        self._writer.flush()

    async def start(self) -> str:
        sock = self.config.sock or listen(self.config.host, self.config.port)
        # handler_cancellation: a client that hangs up cancels its upstream request too.
        self.runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None, shutdown_timeout=ENDING_S,
                                    keepalive_timeout=gate.KEEPALIVE_S)
        self._unguard = logs.guard(self.redact)
        await self.runner.setup()
        assert self.runner.server is not None, "setup() made it"
        self._gate.watch(self.runner.server)
        await web.SockSite(self.runner, sock).start()
        host, port = self.runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stops accepting, lets the answers in flight finish for up to `config.grace` seconds,
        ends the rest with an error (an `event: error` where the stream had begun), and
        returns once every row is written: within the grace and a second or so."""
        runner, self.runner = self.runner, None
        if runner is None:
            return
        for site in list(runner.sites):
            await site.stop()  # the listening socket closes: new connections are refused
        if runner.server:  # else it never started
            runner.server.pre_shutdown()  # idle connections close now, busy ones after their answer
            await asyncio.sleep(0)  # requests already read start, and count as in flight
            late = await self._inflight.end(self.config.grace, ENDING_S)
            if late:
                log.warning("stopping: %d answer(s) still running after %g s were ended with an error",
                            late, self.config.grace)
        await runner.cleanup()
        self._unguard()

    def stop_soon(self) -> None:
        """Makes serve() stop (on the event loop's thread)."""
        self._stopping.set()

    async def serve(self, ready: Callable[[str], object] | None = None) -> None:
        """Runs until stop_soon() (or until cancelled); `ready(base_url)` is called once it listens."""
        base_url = await self.start()
        try:
            if ready:
                ready(base_url)
            await self._stopping.wait()
        finally:
            await self.stop()

    # -------------------------------------------------------------- middleware

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        task = current_task()
        self._inflight.add(task)
        handed = self._writer.handed
        try:
            resp = await self._answer(request, handler)
            if not resp.prepared:  # a whole answer, a web.Response (a stream has ended already)
                if self.redact and isinstance(resp, web.Response) and isinstance(resp.body, bytes):
                    resp.body = self.redact.bytes(resp.body)  # streams are redacted as they are written
                if self._writer.handed != handed:
                    await self._synced()  # its row is committed before the client has the answer
            return resp
        finally:
            self._inflight.discard(task)

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except InvalidRequest as e:
            return _error_response(ApiError(400, str(e)), request)
        except ApiError as e:
            return _error_response(e, request)
        except web.HTTPException as e:
            if e.status < 400:
                raise
            message = f"{request.method} {request.path}: {e.reason}"
            if e.status == 413:
                message = f"request body is larger than the {self.config.max_body // (1024 * 1024)} MiB limit"
            return _error_response(ApiError(e.status, message), request)
        except asyncio.CancelledError:
            if not self._inflight.cut_off():
                raise
            current_task().uncancel()  # answered after all, with an error
            return _error_response(stopping(), request)
        except ConnectionResetError:
            raise
        except Exception:
            log.exception("internal error on %s %s", request.method, request.path)
            return _error_response(ApiError(500, INTERNAL), request)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != "/":
            given = request.headers.get("x-api-key", "")
            auth = request.headers.get("Authorization", "")
            if auth[:7].lower() == "bearer ":
                given = auth[7:].strip()
            # surrogateescape: the bytes as sent, a non-UTF-8 one included (aiohttp decodes them so)
            if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self.config.token.encode()):
                raise ApiError(401, "invalid or missing token: use the one freeclaude printed or set for this run",
                               type="authentication_error")
            self._gate.passed(request.protocol)
        return await handler(request)

    # -------------------------------------------------------------- routes

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "profile": self.profile.name})

    async def models(self, request: web.Request) -> web.Response:
        data = self._models
        return web.json_response({"data": data, "has_more": False,
                                  "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None})

    async def count_tokens(self, request: web.Request) -> web.Response:
        body = validate(await _body(request), count_only=True)
        return web.json_response({"input_tokens": estimate(body)})

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = validate(await _body(request))
        rid, sid = request_id(), client_session(request.headers, body)
        try:
            tool = websearch.find(body)  # a web search tool that cannot run is a 400 before anything is sent
            tries = self.fallback.tries(self.router.plan(body["model"], estimate(body), body["max_tokens"]))
        except ApiError as e:
            self.attempts.refused(rid, body, sid, e)
            raise
        while True:
            try:
                cand = await tries.next()
            except ApiError as e:
                if not tries.number:  # no model was asked: every one was cooling down
                    self.attempts.refused(rid, body, sid, e)
                raise
            try:
                return await self._attempt(request, body, tries.plan, cand, rid, tries.number, tool, sid)
            except ApiError as e:
                tries.failed(cand, e)

    # -------------------------------------------------------------- one attempt

    async def _attempt(self, request: web.Request, body: dict[str, Any], plan: Plan, cand: Candidate, rid: str,
                       number: int, tool: Tool | None, sid: str | None) -> web.StreamResponse:
        if tool is not None and not cand.model.quirks.server_web_search and cand.ceiling > cand.max_tokens:
            cand = dataclasses.replace(cand, max_tokens=cand.ceiling)  # a search loop's answers are not held
        if not cand.model.quirks.images:
            body = await self.vision.without_images(body, cand.model, sid)
        up = self.attempts.open(plan, cand, body, request.headers, tool)
        stream = bool(body.get("stream"))
        row = self.attempts.row(plan, cand, rid, number, stream=stream, client_session=sid)
        async with self.attempts.run(row, cand, up, plan.estimate) as attempt:
            if stream:
                return await self._stream(request, attempt, rid)
            message = await up.complete()
            return web.Response(body=json_bytes(message), content_type="application/json", headers={"request-id": rid})

    async def _stream(self, request: web.Request, attempt: Attempt, rid: str) -> web.StreamResponse:
        up = attempt.up
        chunks = up.stream()
        try:
            first = await chunks.__anext__()  # failures up to here can still fall back
        except StopAsyncIteration:
            raise ApiError(502, f"{up.where} sent an empty answer") from None
        except BaseException:
            await chunks.aclose()
            raise
        resp = _EventStream(self.redact, headers={**_SSE_HEADERS, "request-id": rid})
        # Once the attempt is recorded the answer is whole: what is left is the upstream's drain.
        # On any other way out, the upstream is closed first, so its receipt has what it used.
        try:
            await resp.prepare(request)
            if not await _send(resp, first, attempt):
                async for piece in chunks:
                    if await _send(resp, piece, attempt):
                        break
            if attempt.recorded:
                async for _ in chunks:
                    pass
            else:
                await chunks.aclose()
                await attempt.answered()  # a stream that ended without saying so first
        except ConnectionResetError:
            await chunks.aclose()
            attempt.client_left()  # nothing if it left with the whole answer
        except asyncio.CancelledError:
            if attempt.recorded or not self._inflight.cut_off():
                raise
            current_task().uncancel()  # answered after all, with an error
            await self._end_stream(resp, attempt, chunks, stopping(), stopping())
        except Exception as e:
            if attempt.recorded:  # a fault in the drain
                log.exception("internal error after the answer on %s with %s", rid, up.where)
                return resp
            # After the first byte the only honest ending is an error event: Claude Code retries.
            if isinstance(e, ApiError):
                await self._end_stream(resp, attempt, chunks, e, e)
            else:
                log.exception("internal error mid-stream on %s with %s", rid, up.where)
                await self._end_stream(resp, attempt, chunks, internal(e), ApiError(500, INTERNAL, internal=True))
        finally:
            await chunks.aclose()
        return resp

    @staticmethod
    async def _end_stream(resp: web.StreamResponse, attempt: Attempt, chunks: AsyncGenerator[Piece, None], recorded: ApiError,
                          sent: ApiError) -> None:
        """A stream that cannot finish: its row says why (`recorded`), then the client is told (`sent`)."""
        await chunks.aclose()
        await attempt.failed(recorded)
        with contextlib.suppress(ConnectionResetError):
            await resp.write(sse.encode("error", sent.body()))

    async def _synced(self) -> None:
        """Returns once every row handed to the writer so far is committed."""
        waiter = self._writer.synced()
        if waiter is not None:
            await waiter


class _EventStream(web.StreamResponse):
    # The headers wait for the first event and go out with it: one write to the client, not two
    # (aiohttp's own StreamResponse sends them at prepare()).
    _send_headers_immediately = False

    def __init__(self, redact: Redactor, **kw: Any) -> None:
        super().__init__(**kw)
        self._redact = redact.bytes if redact else None

    # Only bytes come here (pieces, encoded events), and redaction works on bytes.
    async def write(self, data: bytes) -> None:  # type: ignore[override]
        await super().write(self._redact(data) if self._redact else data)

    async def write_eof(self, data: bytes = b"") -> None:
        await super().write_eof(self._redact(data) if self._redact and data else data)


async def _send(resp: web.StreamResponse, piece: Piece, attempt: Attempt) -> bool:
    """Writes the piece; the answer's last one goes out with the end of the body, in one write,
    once its row is committed: the ledger and the statusline have the answer before the client
    does. True once the body has ended."""
    if piece.last:
        await attempt.answered()
        await resp.write_eof(piece.data)
        return True
    await resp.write(piece.data)
    return False


async def _body(request: web.Request) -> object:
    """The JSON the client sent, any JSON: validate() says whether it is a request."""
    raw = await request.read()
    try:
        return json.loads(raw)
    except ValueError as e:
        raise ApiError(400, f"body: not valid JSON ({e})") from None
    except RecursionError:
        raise ApiError(400, "body: JSON nested too deeply") from None


def _error_response(e: ApiError, request: web.Request) -> web.Response:
    log.warning("%s %s -> %d %s: %s", request.method, request.path, e.status, e.type, e.message)
    headers = {"retry-after": str(max(1, round(e.retry_after)))} if e.retry_after else None
    return web.json_response(e.body(), status=e.status, headers=headers)
