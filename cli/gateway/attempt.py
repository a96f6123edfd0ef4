"""One attempt at one model, and what every attempt needs.

An `Attempt` owns its ledger row and its upstream's receipt. Whoever answers the client (the
server; vision.py for a description) tells it how the attempt went: `answered`, `failed` or
`client_left`. It hands its row to the writer exactly once, at the first of those or when the
attempt is over (`finished`), and nothing changes the row after that. `Attempts` opens them: the
upstream call (or the few calls of a bounded answer or a web search loop) and, around the answer,
the model's pacing slot, whose outcome the row records whichever way the answer ends.
"""

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

from freeclaude.gateway.bounded import Bounded
from freeclaude.gateway.inflight import InFlight
from freeclaude.gateway.limits import Exhausted, Pacer, Ticket
from freeclaude.gateway.router import Candidate, Plan, Router, max_tokens_for
from freeclaude.gateway.search import Backend, NoBackend
from freeclaude.gateway.searchloop import SearchLoop
from freeclaude.gateway.upstream import Call, Endpoint, Receipt, Upstream, open_upstream
from freeclaude.gateway.writer import Writer
from freeclaude.profiles.providers import Model
from freeclaude.profiles.tiers import tier_of
from freeclaude.translate import websearch
from freeclaude.translate.errors import ApiError
from freeclaude.translate.websearch import Tool
from freeclaude.usage import pricing
from freeclaude.usage.ledger import Row

log = logging.getLogger("freeclaude")
INTERNAL = "freeclaude hit an internal error; the details are in its log"
REFUSED = "freeclaude"  # the ledger's provider for a request refused before any model was asked


def request_id() -> str:
    return "req_" + uuid.uuid4().hex[:24]


def stopping() -> ApiError:
    # internal: no other model is tried, none is cooled down
    return ApiError(503, "freeclaude is stopping: the answer was cut off; ask again once it is back", internal=True)


class Attempt:
    __slots__ = ("row", "model", "up", "ticket", "_attempts", "_committed")

    def __init__(self, attempts: "Attempts", row: Row, model: Model, up: Upstream) -> None:
        self.row = row
        self.model = model
        self.up = up
        self.ticket: Ticket | None = None  # the pacing slot's, once it is held
        self._attempts = attempts
        self._committed: asyncio.Future[None] | None = None

    @property
    def recorded(self) -> bool:
        """The row is with the writer: the attempt's outcome is settled."""
        return self._committed is not None

    def answered(self) -> asyncio.Future[None]:
        """The answer is whole. An error event the upstream ended it with is what the client got,
        and the row says so."""
        error = self.up.receipt.error
        return self.failed(error) if error else self.finished()

    def failed(self, e: ApiError) -> asyncio.Future[None]:
        if self._committed is None:
            self.row.outcome, self.row.status, self.row.error = e.type, e.status, e.message
        return self.finished()

    def client_left(self) -> asyncio.Future[None]:
        if self._committed is None:
            self.row.outcome, self.row.status = "client_closed", None
        return self.finished()

    def finished(self) -> asyncio.Future[None]:
        """Records the row as it stands (once); the future of its commit."""
        if self._committed is None:
            self._committed = self._attempts.record(self)
        return self._committed


class Attempts:
    """What every attempt needs: the providers' endpoints and one HTTP session, the pacer (and
    the router, for a search loop's later rounds), the writer, and the web search backend."""

    def __init__(self, *, session_id: str, profile: str, endpoints: Mapping[str, Endpoint], pacer: Pacer,
                 router: Router, writer: Writer, search: Backend | NoBackend, inflight: InFlight) -> None:
        self.session_id = session_id  # the gateway's run, as the ledger names it
        self.profile = profile
        self.endpoints = endpoints
        self.pacer = pacer
        self.router = router
        self.writer = writer
        self.search = search
        self.inflight = inflight
        self.http: aiohttp.ClientSession | None = None  # opened with the server, on its event loop

    # -------------------------------------------------------------- rows

    def row(self, plan: Plan, cand: Candidate, request: str, number: int, *, stream: bool,
            client_session: str | None) -> Row:
        return self._row(request, plan.requested, plan.tier, stream, client_session, provider=cand.model.provider,
                         upstream_model=cand.model.name, position=cand.position, attempt=number)

    def refused(self, request: str, body: Mapping[str, Any], client_session: str | None, e: ApiError) -> None:
        """The row of a request refused before any model was asked: the bill and stats say why."""
        row = self._row(request, body["model"], tier_of(body["model"]), bool(body.get("stream")), client_session,
                        provider=REFUSED, upstream_model="", position=-1, attempt=0, latency_ms=0.0)
        row.outcome, row.status, row.error = e.type, e.status, e.message
        self.writer.row(row, "refused before any model was asked", None)

    def _row(self, request: str, requested: str, tier: str, stream: bool, client_session: str | None,
             **fields: Any) -> Row:
        return Row(session=self.session_id, request_id=request, profile=self.profile, tier=tier,
                   requested_model=requested, stream=stream, client_session=client_session, **fields)

    def record(self, attempt: Attempt) -> asyncio.Future[None]:
        """Hands the attempt's row to the writer: what the answer said of the provider's budgets
        goes to the pacer first, and the row gets the receipt's usage, timings and prices."""
        row, receipt = attempt.row, attempt.up.receipt
        if attempt.ticket:
            self.pacer.answered(attempt.ticket, receipt, ok=row.outcome == "ok")
        settle(row, receipt, attempt.model)
        # The cooldowns are read here, on the event loop that changes them; the writer gets a copy.
        cooling = self.router.cooldowns() if self.writer.board else {}
        return self.writer.row(row, "; ".join(receipt.notes), cooling)

    # -------------------------------------------------------------- upstreams

    def call(self, cand: Candidate, body: dict[str, Any], estimate: int, *, max_tokens: int | None = None,
             headers: Mapping[str, str] | None = None) -> Call:
        """One HTTP call to the candidate's model."""
        model = cand.model
        assert self.http is not None, "the server opens the session before it takes requests"
        return open_upstream(self.http, self.endpoints[model.provider], model, body,
                             max_tokens=cand.max_tokens if max_tokens is None else max_tokens, estimate=estimate,
                             client_headers=headers or {})

    def open(self, plan: Plan, cand: Candidate, body: dict[str, Any], headers: Mapping[str, str],
             tool: Tool | None) -> Upstream:
        """The attempt's upstream: one call; or, for an answer asked for bounded, the calls until
        it is whole (bounded.py); or, for a web search the model's upstream cannot run itself, the
        loop of calls that runs it (searchloop.py)."""
        model = cand.model
        if tool is None or model.quirks.server_web_search:
            first = self.call(cand, body, plan.estimate, headers=headers)
            if cand.max_tokens >= cand.ceiling:
                return first

            async def more(max_tokens: int) -> Call:  # a bounded answer was cut off: ask for more
                await self._charge(model, plan.estimate + max_tokens, cand.probe)
                return self.call(cand, body, plan.estimate, max_tokens=max_tokens, headers=headers)

            return Bounded(first, ceiling=cand.ceiling, reopen=more)

        async def next_round(b: dict[str, Any], est: int) -> Call:
            max_tokens = max_tokens_for(model, self.router.window(model), plan.requested_max, est)
            await self._charge(model, est + max_tokens)
            return self.call(cand, b, est, max_tokens=max_tokens, headers=headers)

        inner = websearch.for_upstream(body, tool)
        first = self.call(cand, inner, plan.estimate, headers=headers)
        return SearchLoop(tool, inner, first=first, reopen=next_round, backend=self.search, session=first.session)

    async def _charge(self, model: Model, tokens: int, probe: bool = False) -> None:
        """One more upstream request inside an attempt's slot, counted against the budgets."""
        try:
            await self.pacer.charge(model, tokens, probe)
        except Exhausted as e:
            raise exhausted(model, e) from None

    # -------------------------------------------------------------- the attempt

    @contextlib.asynccontextmanager
    async def run(self, row: Row, cand: Candidate, up: Upstream, estimate: int) -> AsyncIterator[Attempt]:
        """The attempt, inside the model's pacing slot. Whatever the body does or raises, the row
        is recorded: when the body says how the attempt went, else on the way out; a whole
        answer leaves once its row is committed."""
        model = cand.model
        attempt = Attempt(self, row, model, up)

        def held(limit: str, seconds: float) -> None:  # the statusline shows what holds the request
            self.writer.hold(row.client_session, model.ref, limit, seconds)

        try:
            async with self.pacer.slot(model, estimate + cand.max_tokens, probe=cand.probe, held=held) as ticket:
                attempt.ticket = ticket
                up.receipt.started = time.monotonic()  # time spent waiting for a slot is not latency
                yield attempt
            await attempt.finished()
        except Exhausted as e:
            error = exhausted(model, e)
            attempt.failed(error)
            raise error from None
        except ApiError as e:
            attempt.failed(e)
            raise
        except asyncio.CancelledError:
            if attempt.recorded:  # the client left after the whole answer (during the upstream's drain)
                raise
            if up.receipt.error:  # the client hung up on the upstream's error event: that is what happened
                attempt.failed(up.receipt.error)
            elif self.inflight.cut_off():
                attempt.failed(stopping())
            else:
                attempt.client_left()
            raise
        except Exception as e:
            # A bug of ours, not the upstream's: no fallback, no cooldown, the details in the log.
            log.exception("internal error answering %s with %s", row.request_id, up.where)
            attempt.failed(internal(e))
            raise ApiError(500, INTERNAL, internal=True) from None
        finally:
            attempt.finished()


def internal(e: Exception) -> ApiError:
    """What the row says of a bug of ours (the client is told only INTERNAL)."""
    return ApiError(500, f"{type(e).__name__}: {e}"[:500], type="internal_error")


def exhausted(model: Model, e: Exhausted) -> ApiError:
    if not math.isfinite(e.wait):  # the provider stated a limit smaller than this one request
        return ApiError(400, f"prompt is too long for {model.ref}: {e}")
    return ApiError(429, f"{model.ref}: {e}", retry_after=e.wait)


def settle(row: Row, receipt: Receipt, model: Model) -> None:
    """Fills in what the receipt says: usage, timings, what the attempt cost and what Anthropic
    would have charged for it."""
    now = time.monotonic()
    u = receipt.usage
    row.input_tokens, row.output_tokens = u.input, u.output
    row.cache_read_tokens, row.cache_write_tokens = u.cache_read, u.cache_write
    row.usage_estimated = u.estimated
    if row.outcome != "ok" and receipt.first_byte is None:
        row.input_tokens = row.output_tokens = 0  # nothing was generated: nothing billed
        row.usage_estimated = False
    row.latency_ms = round((now - receipt.started) * 1000, 1)
    row.ttft_ms = round((receipt.first_byte - receipt.started) * 1000, 1) if receipt.first_byte else None
    row.web_searches = receipt.web_searches
    tokens = (row.input_tokens, row.output_tokens, row.cache_read_tokens, row.cache_write_tokens)
    row.cost_usd = model.cost(*tokens)
    row.list_price_usd = pricing.list_price(row.tier, *tokens)
