"""The gateway: an aiohttp server speaking the Anthropic Messages API to its clients.

It authenticates, parses and limits the body, plans the models (router) and tries them in
turn (fallback), moves bytes, and hands ledger rows, log lines and the statusline's state to
one writer thread (`writer`). Translation lives in `translate`, one upstream attempt in `upstream` (or,
where the gateway runs the web searches, `searchloop`), image descriptions in `vision`.
"""

import asyncio
import contextlib
import dataclasses
import hmac
import json
import logging
import math
import time
import uuid

import aiohttp
from aiohttp import web

from freeclaude.claude import picker
from freeclaude.claude.sessions import Board, client_session
from freeclaude.gateway import gate, logs
from freeclaude.gateway.bounded import Bounded
from freeclaude.gateway.config import Config, listen
from freeclaude.gateway.fallback import Fallback
from freeclaude.gateway.inflight import InFlight
from freeclaude.gateway.limits import Exhausted, Pacer
from freeclaude.gateway.redact import Redactor
from freeclaude.gateway.router import Plan, Router, max_tokens_for, tier_of
from freeclaude.gateway.search import backend as search_backend
from freeclaude.gateway.searchloop import SearchLoop
from freeclaude.gateway.upstream import Endpoint, Outcome, Upstream, open_upstream
from freeclaude.gateway.vision import Describer
from freeclaude.gateway.writer import Writer
from freeclaude.translate import images, sse, websearch
from freeclaude.translate.errors import ApiError
from freeclaude.translate.request import text_of
from freeclaude.translate.sse import json_bytes
from freeclaude.translate.tokens import estimate
from freeclaude.translate.validate import InvalidRequest, validate
from freeclaude.usage.ledger import Attempt, Ledger

log = logging.getLogger("freeclaude")
INTERNAL = "freeclaude hit an internal error; the details are in its log"
REFUSED = "freeclaude"  # the ledger's provider for a request refused before any model was asked
_SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
ENDING_S = 1.0  # on stop, for the answers cut off to say so and the connections to close


class Server:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.profile = config.profile
        keys = config.keys()
        self.redact = Redactor([*keys.values(), config.search_key()])
        self._endpoints = {p.name: Endpoint(p, keys[p.name], config.env) for p in config.profile.used_providers()}
        self.pacer = Pacer(config.profile, max_wait=config.max_wait)
        self.router = Router(config.profile, budgets=self.pacer)
        self._models = picker.listing(config.profile)
        self.fallback = Fallback(self.router, max_wait=config.max_wait,
                                 pacing=lambda plan, c: self.pacer.wait(c.model, plan.estimate + c.max_tokens, c.probe))
        self.search = search_backend(config.profile.search, config.search_key(), config.env)
        self.vision = Describer(self._describe if config.profile.chain("vision") else None, config.profile.name)
        self.ledger = Ledger(config.ledger_path) if config.ledger_path else None
        self._writer = Writer(self.ledger, Board(str(config.state_dir)) if config.state_dir else None, self.redact)
        self.session: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None
        self.base_url = ""
        self._stopping = asyncio.Event()
        self._inflight = InFlight()
        self._gate = gate.Gate()
        self.app = web.Application(client_max_size=config.max_body, middlewares=[self._errors, self._auth])
        self.app.router.add_post("/v1/messages", self.messages)
        self.app.router.add_post("/v1/messages/count_tokens", self.count_tokens)
        self.app.router.add_get("/v1/models", self.models)
        self.app.router.add_get("/", self.health)
        self.app.on_startup.append(self._open)
        self.app.on_cleanup.append(self._close)

    # -------------------------------------------------------------- lifecycle

    async def _open(self, app) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
            cookie_jar=aiohttp.DummyCookieJar(),  # upstreams' cookies are no business of Claude Code's
        )

    async def _close(self, app) -> None:
        if self.session:
            await self.session.close()
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

    async def serve(self, ready=None) -> None:
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
    async def _errors(self, request: web.Request, handler):
        task = asyncio.current_task()
        self._inflight.add(task)
        handed = self._writer.handed
        try:
            resp = await self._answer(request, handler)
            if not resp.prepared:  # a whole answer (a stream has ended already)
                if self.redact and isinstance(resp.body, bytes):
                    resp.body = self.redact.bytes(resp.body)  # streams are redacted as they are written
                if self._writer.handed != handed:
                    await self._synced()  # its row is committed before the client has the answer
            return resp
        finally:
            self._inflight.discard(task)

    async def _answer(self, request: web.Request, handler):
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
            asyncio.current_task().uncancel()  # answered after all, with an error
            return _error_response(_stopping(), request)
        except ConnectionResetError:
            raise
        except Exception:
            log.exception("internal error on %s %s", request.method, request.path)
            return _error_response(ApiError(500, INTERNAL), request)

    @web.middleware
    async def _auth(self, request: web.Request, handler):
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
        body = await _body(request)
        validate(body, count_only=True)
        return web.json_response({"input_tokens": estimate(body)})

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        validate(body)
        request_id = _request_id()
        tried = []

        def attempt(plan, cand, number):
            tried.append(number)
            return self._attempt(request, body, plan, cand, request_id, number, tool)

        try:
            tool = websearch.find(body)  # a web search tool that cannot run is a 400 before anything is sent
            plan = self.router.plan(body["model"], estimate(body), body["max_tokens"])
            return await self.fallback.run(plan, attempt)
        except ApiError as e:
            if not tried:  # refused before any model was asked: the bill and stats say why
                self._refused(request, body, request_id, e)
            raise

    # -------------------------------------------------------------- attempts

    async def _attempt(self, request, body, plan: Plan, cand, request_id: str, number: int, tool) -> web.StreamResponse:
        sid = client_session(request.headers, body)
        if tool is not None and not cand.model.quirks.server_web_search and cand.ceiling > cand.max_tokens:
            cand = dataclasses.replace(cand, max_tokens=cand.ceiling)  # a search loop's answers are not held
        if not cand.model.quirks.images:
            body = await self.vision.without_images(body, cand.model, sid)
        up = self._upstream_for(body, plan, cand, request.headers, tool)
        row = self._row(plan, cand, request_id, number, stream=bool(body.get("stream")), client_session=sid)

        async def answer(record) -> web.StreamResponse:
            if body.get("stream"):
                return await self._stream(request, up, row, request_id, record)
            message = await up.complete()
            return web.Response(body=json_bytes(message), content_type="application/json", headers={"request-id": request_id})

        return await self._run(up, row, cand, plan.estimate, answer)

    def _upstream_for(self, body: dict, plan: Plan, cand, headers, tool):
        """The attempt: one upstream call, or, for a web search the upstream cannot run itself,
        the loop of calls that runs it (searchloop.py)."""
        model = cand.model
        endpoint = self._endpoints[model.provider]

        def upstream(b: dict, est: int, max_tokens: int) -> Upstream:
            return open_upstream(self.session, endpoint, model, b, max_tokens=max_tokens, estimate=est, client_headers=headers)

        if tool is None or model.quirks.server_web_search:
            first = upstream(body, plan.estimate, cand.max_tokens)
            if cand.max_tokens >= cand.ceiling:
                return first

            async def more(max_tokens: int) -> Upstream:  # a bounded answer was cut off: ask for more
                await self._charge(model, plan.estimate + max_tokens, cand.probe)
                return upstream(body, plan.estimate, max_tokens)

            return Bounded(first, ceiling=cand.ceiling, reopen=more)

        async def next_round(b: dict, est: int) -> Upstream:
            max_tokens = max_tokens_for(model, self.router.window(model), plan.requested_max, est)
            await self._charge(model, est + max_tokens)
            return upstream(b, est, max_tokens)

        inner = websearch.for_upstream(body, tool)
        return SearchLoop(tool, inner, first=upstream(inner, plan.estimate, cand.max_tokens), reopen=next_round,
                          backend=self.search, session=self.session)

    async def _charge(self, model, tokens: int, probe: bool = False) -> None:
        """One more upstream request inside an attempt's slot, counted against the budgets."""
        try:
            await self.pacer.charge(model, tokens, probe)
        except Exhausted as e:
            raise _exhausted(model, e) from None

    def _row(self, plan: Plan, cand, request_id: str, number: int, *, stream: bool, client_session: str | None) -> Attempt:
        return Attempt(
            session=self.config.session, request_id=request_id, profile=self.profile.name, tier=plan.tier,
            requested_model=plan.requested, provider=cand.model.provider, upstream_model=cand.model.name,
            stream=stream, position=cand.position, attempt=number, client_session=client_session,
        )

    async def _run(self, up, row: Attempt, cand, estimate: int, answer):
        """`answer(record)` inside the model's pacing slot; whatever happens, the outcome goes to the
        ledger: when the answer calls `record()` (a stream that has ended), else at the end."""
        model = cand.model
        committed: asyncio.Future | None = None
        ticket = None

        def record() -> asyncio.Future:
            """Hands the row over (once); its commit."""
            nonlocal committed
            if committed is None:
                if ticket:  # what the answer said of the provider's budgets
                    self.pacer.answered(ticket, up.outcome, ok=row.outcome == "ok")
                committed = self._record(row, up.outcome, model)
            return committed

        def held(limit: str, seconds: float) -> None:  # the statusline shows what holds the request
            self._writer.hold(row.client_session, model.ref, limit, seconds)

        try:
            async with self.pacer.slot(model, estimate + cand.max_tokens, probe=cand.probe, held=held) as ticket:
                up.outcome.started = time.monotonic()  # time spent waiting for a slot is not latency
                resp = await answer(record)
            await record()  # a whole answer goes out once its row is committed (a stream's has been)
            return resp
        except Exhausted as e:
            error = _exhausted(model, e)
            _failed(row, error)
            raise error from None
        except ApiError as e:
            _failed(row, e)
            raise
        except asyncio.CancelledError:
            if committed is not None:  # the client left after the whole answer (during the upstream's drain)
                raise
            if up.outcome.error:  # the client hung up on the upstream's error event: that is what happened
                _failed(row, up.outcome.error)
            elif self._inflight.cut_off():
                _failed(row, _stopping())
            else:
                row.outcome, row.status = "client_closed", None
            raise
        except Exception as e:
            # A bug of ours, not the upstream's: no fallback, no cooldown, the details in the log.
            log.exception("internal error answering %s with %s", row.request_id, up.where)
            row.outcome, row.status, row.error = "internal_error", 500, f"{type(e).__name__}: {e}"[:500]
            raise ApiError(500, INTERNAL, internal=True) from None
        finally:
            record()

    def _refused(self, request, body: dict, request_id: str, e: ApiError) -> None:
        row = Attempt(
            session=self.config.session, request_id=request_id, profile=self.profile.name,
            tier=tier_of(body["model"]), requested_model=body["model"], provider=REFUSED, upstream_model="",
            stream=bool(body.get("stream")), position=-1, attempt=0, client_session=client_session(request.headers, body),
            latency_ms=0.0,
        )
        _failed(row, e)
        self._writer.row(row, "refused before any model was asked", None)

    async def _describe(self, block: dict, sid: str | None) -> tuple[str, str]:
        """An image described by the vision chain: its own request, with fallback, billed as "vision"."""
        body = images.request(block)
        plan = self.router.plan(body["model"], estimate(body), body["max_tokens"], tier="vision")
        request_id = _request_id()

        async def attempt(plan: Plan, cand, number: int) -> tuple[str, str]:
            model = cand.model
            up = open_upstream(self.session, self._endpoints[model.provider], model, body, max_tokens=cand.max_tokens,
                               estimate=plan.estimate, client_headers={})
            row = self._row(plan, cand, request_id, number, stream=False, client_session=sid)
            message = await self._run(up, row, cand, plan.estimate, lambda record: up.complete())
            return f"{model.ref}", text_of(message.get("content"))

        return await self.fallback.run(plan, attempt)

    async def _stream(self, request, up: Upstream, row: Attempt, request_id: str, record) -> web.StreamResponse:
        chunks = up.stream()
        try:
            first = await chunks.__anext__()  # failures up to here can still fall back
        except StopAsyncIteration:
            raise ApiError(502, f"{up.where} sent an empty answer") from None
        except BaseException:
            await chunks.aclose()
            raise
        resp = _EventStream(self.redact, headers={**_SSE_HEADERS, "request-id": request_id})
        ended = False  # the answer is whole and its row handed to the writer: nothing changes it now

        async def finish() -> None:
            nonlocal ended
            if up.outcome.error:  # the upstream ended its stream with an error event: passed on as sent
                _failed(row, up.outcome.error)
            ended = True
            await record()

        try:
            await resp.prepare(request)
            if not await _send(resp, first, up.outcome, finish):
                async for data in chunks:
                    if await _send(resp, data, up.outcome, finish):
                        break
            if ended:
                async for _ in chunks:
                    pass  # only the upstream's drain is left to run
            else:
                await finish()  # a stream that ended without saying so first
        except ConnectionResetError:
            if not ended:  # else it left with the whole answer
                row.outcome, row.status = "client_closed", None
        except asyncio.CancelledError:
            if ended or not self._inflight.cut_off():
                raise
            asyncio.current_task().uncancel()  # answered after all, with an error
            await self._end_stream(resp, row, _stopping(), _stopping(), record)
        except Exception as e:
            if ended:  # a fault in the drain
                log.exception("internal error after the answer on %s with %s", request_id, up.where)
                return resp
            # After the first byte the only honest ending is an error event: Claude Code retries.
            if isinstance(e, ApiError):
                error = e
            else:
                log.exception("internal error mid-stream on %s with %s", request_id, up.where)
                error = ApiError(500, INTERNAL, internal=True)
                e = ApiError(500, f"{type(e).__name__}: {e}"[:500], type="internal_error")
            await self._end_stream(resp, row, e, error, record)
        finally:
            await chunks.aclose()
        return resp

    async def _end_stream(self, resp, row: Attempt, recorded: ApiError, sent: ApiError, record) -> None:
        """A stream that cannot finish: its row says why (`recorded`), then the client is told (`sent`)."""
        _failed(row, recorded)
        await record()
        with contextlib.suppress(ConnectionResetError):
            await resp.write(sse.encode("error", sent.body()))

    async def _synced(self) -> None:
        """Returns once every row handed to the writer so far is committed."""
        waiter = self._writer.synced()
        if waiter is not None:
            await waiter

    def _record(self, row: Attempt, outcome: Outcome, model) -> asyncio.Future:
        row.settle(outcome, model.cost)
        # The cooldowns are read here, on the event loop that changes them; the writer gets a copy.
        cooling = self.router.cooldowns() if self._writer.board else {}
        return self._writer.row(row, "; ".join(outcome.notes), cooling)


class _EventStream(web.StreamResponse):
    # The headers wait for the first event and go out with it: one write to the client, not two
    # (aiohttp's own StreamResponse sends them at prepare()).
    _send_headers_immediately = False

    def __init__(self, redact: Redactor, **kw) -> None:
        super().__init__(**kw)
        self._redact = redact.bytes if redact else None

    async def write(self, data) -> None:
        await super().write(self._redact(data) if self._redact else data)

    async def write_eof(self, data: bytes = b"") -> None:
        await super().write_eof(self._redact(data) if self._redact and data else data)


async def _send(resp: web.StreamResponse, data: bytes, outcome: Outcome, finish) -> bool:
    """Writes `data`; the answer's last piece goes out with the end of the body, in one write,
    after `finish()`: the ledger (committed) and the statusline have the answer before the
    client does. True once the body has ended."""
    if outcome.finished:
        await finish()
        await resp.write_eof(data)
        return True
    await resp.write(data)
    return False


def _request_id() -> str:
    return "req_" + uuid.uuid4().hex[:24]


def _exhausted(model, e: Exhausted) -> ApiError:
    if not math.isfinite(e.wait):  # the provider stated a limit smaller than this one request
        return ApiError(400, f"prompt is too long for {model.ref}: {e}")
    return ApiError(429, f"{model.ref}: {e}", retry_after=e.wait)


def _stopping() -> ApiError:
    # internal: no other model is tried, none is cooled down
    return ApiError(503, "freeclaude is stopping: the answer was cut off; ask again once it is back", internal=True)


def _failed(row: Attempt, e: ApiError) -> None:
    row.outcome, row.status, row.error = e.type, e.status, e.message


async def _body(request: web.Request) -> dict:
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
