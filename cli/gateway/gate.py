"""Connections that have not shown the token yet: each gets HANDSHAKE_S to do so, and at most
LIMIT of them stay open, the oldest closed first when more come. Anyone on the machine can open
connections to the gateway; without this, idle ones and ones with half-sent headers stayed open
for good, and 300 of them used up a gateway's 256 file descriptors, so that a real request
failed. A client that sends its request at once (every real one) is long through by then.

After a request with the token, a connection is the client's: aiohttp's keep-alive timeout
(the server's KEEPALIVE_S) closes it once idle, and bounds the headers of its next request."""

import asyncio

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

HANDSHAKE_S = 10.0
LIMIT = 64
KEEPALIVE_S = 60.0  # longer than clients keep idle connections (undici 4 s, httpx 5 s): they close first


class Gate:
    def __init__(self) -> None:
        self.handshake = HANDSHAKE_S
        self.limit = LIMIT
        # handler -> (transport, timer), oldest first
        self._waiting: dict[RequestHandler, tuple[asyncio.Transport, asyncio.TimerHandle]] = {}

    def watch(self, server: web.Server) -> None:
        """Follows the connections of an aiohttp web.Server (its connection_made/lost hooks)."""
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: RequestHandler, transport: asyncio.Transport) -> None:
            made(handler, transport)
            self._opened(handler, transport)

        def connection_lost(handler: RequestHandler, exc: BaseException | None = None) -> None:
            self.passed(handler)
            lost(handler, exc)

        # aiohttp has no hook for these: the server's own methods are wrapped in place.
        server.connection_made, server.connection_lost = connection_made, connection_lost  # type: ignore[method-assign]

    def passed(self, handler: RequestHandler) -> None:
        """The connection showed the token (or is gone): it is no longer watched."""
        entry = self._waiting.pop(handler, None)
        if entry:
            entry[1].cancel()

    def _opened(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        while len(self._waiting) >= self.limit:
            self._close(next(iter(self._waiting)))
        timer = asyncio.get_running_loop().call_later(self.handshake, self._close, handler)
        self._waiting[handler] = (transport, timer)

    def _close(self, handler: RequestHandler) -> None:
        entry = self._waiting.pop(handler, None)
        if entry:
            entry[1].cancel()
            entry[0].close()
