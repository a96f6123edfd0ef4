"""One attempt at a request that carries Anthropic's web search server tool, on a model whose
upstream cannot run it: a loop of upstream calls inside the one client request.

The model gets a plain `web_search` tool; when it calls it, the gateway runs the search on the
profile's backend while the client sees `server_tool_use` and `web_search_tool_result` blocks
(translate/websearch.py builds them), then asks the model again with the results, until it
answers. It is an Upstream (`stream()`, `complete()`, `receipt`), so the server
treats it as any attempt: a failure before the first byte can still fall back, one after it is
an error event. The ledger gets one row for it: the upstream calls of one answer, their usage
summed, and the searches that ran.
"""

import contextlib
import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import aiohttp

from freeclaude.gateway.search import Backend, NoBackend
from freeclaude.gateway.upstream import Call, Piece, Receipt, Usage
from freeclaude.translate import sse, websearch
from freeclaude.translate.response import accumulate
from freeclaude.translate.sse import Event
from freeclaude.translate.tokens import estimate
from freeclaude.translate.websearch import Call as SearchCall
from freeclaude.translate.websearch import Relay, SearchError, Tool


class SearchLoop:
    def __init__(self, tool: Tool, body: dict[str, Any], *, first: Call,
                 reopen: Callable[[dict[str, Any], int], Awaitable[Call]], backend: Backend | NoBackend,
                 session: aiohttp.ClientSession) -> None:
        """`body` is the request as the upstream gets it (websearch.for_upstream); `first` the first
        round's upstream, paced and clamped by the caller; `reopen(body, estimate)` opens each
        later one, once the provider's rate budgets allow."""
        self.tool = tool
        self.body = body
        self.first = first
        self.reopen = reopen
        self.backend = backend
        self.session = session
        self.where = first.where
        self.receipt = Receipt(Usage(input=first.estimate))

    async def stream(self) -> AsyncGenerator[Piece, None]:
        async with contextlib.aclosing(self._events()) as batches:
            async for events, last in batches:
                yield Piece(sse.encode_all(events), last)

    async def complete(self) -> dict[str, Any]:
        events: list[Event] = []
        async with contextlib.aclosing(self._events()) as batches:
            async for batch, _ in batches:
                events += batch
        if self.receipt.error:
            raise self.receipt.error
        return accumulate(events)

    async def _events(self) -> AsyncGenerator[tuple[list[Event], bool], None]:
        """Batches of the client's events, and whether a batch is the answer's last."""
        relay = Relay(self.tool)
        body, up = self.body, self.first
        rounds, usage, following = 0, Usage(estimated=False), None
        while True:
            rounds += 1
            decoder = sse.Decoder()
            try:
                async with contextlib.aclosing(up.stream()) as chunks:
                    async for chunk in chunks:
                        async for events in self._relayed(relay, decoder.feed(chunk.data)):
                            yield events, False
                async for events in self._relayed(relay, decoder.flush()):
                    yield events, False
            finally:
                _add(usage, up.receipt.usage)
                self.receipt.usage = usage
                self.receipt.notes.extend(up.receipt.notes)
                self.receipt.web_searches = relay.searches
                self.receipt.requests, self.receipt.ratelimits = rounds, up.receipt.ratelimits
            if up.receipt.error:  # the upstream ended its stream with an error event, passed on as it came
                self.receipt.error = up.receipt.error
                return
            following = relay.next_body(body)
            if following is None or rounds == websearch.MAX_ROUNDS:
                break
            body = following
            up = await self.reopen(body, estimate(body))
        self.receipt.notes.append(f"{rounds} upstream call(s), {relay.searches} web search(es)")
        yield relay.finish({"input_tokens": usage.input, "output_tokens": usage.output,
                            "cache_creation_input_tokens": usage.cache_write, "cache_read_input_tokens": usage.cache_read},
                           paused=following is not None), True

    async def _relayed(self, relay: Relay, decoded: list[tuple[str, str]]) -> AsyncGenerator[list[Event], None]:
        """The client's events for these upstream events; a search call that closes is run
        before the next event is read, so its result block follows it, as at Anthropic."""
        out: list[Event] = []
        for name, data in decoded:
            try:
                event = json.loads(data)
            except ValueError:
                self.receipt.notes.append("skipped an event that is not JSON")
                continue
            if not isinstance(event, dict):
                continue
            out += relay.feed(name or str(event.get("type")), event)
            if out and self.receipt.first_byte is None:
                self.receipt.first_byte = time.monotonic()
            for call in list(relay.waiting):
                if out:
                    yield out
                    out = []
                yield await self._search(relay, call)
        if out:
            yield out

    async def _search(self, relay: Relay, call: SearchCall) -> list[Event]:
        try:
            query = websearch.query_of(self.tool, call.input(), relay.used)
        except SearchError as e:
            return relay.resolve(call, e)
        relay.used += 1
        try:
            found = await self.backend.search(self.session, query, self.tool)
        except SearchError as e:
            return relay.resolve(call, e)
        return relay.resolve(call, websearch.kept(self.tool, found, self.backend.max_results), query)


def _add(total: Usage, u: Usage) -> None:
    total.input += u.input
    total.output += u.output
    total.cache_read += u.cache_read
    total.cache_write += u.cache_write
    total.estimated = total.estimated or u.estimated
