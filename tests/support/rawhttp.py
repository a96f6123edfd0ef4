"""A raw TCP client (asyncio streams): requests byte for byte as given, malformed ones
included, which no HTTP library would send."""

import asyncio
import json
from urllib.parse import urlsplit


def request(path: str = "/v1/messages", headers: dict | None = None, body: dict | bytes | None = None,
            method: str = "POST") -> bytes:
    """An HTTP/1.1 request that asks the server to close after answering. Header values may
    be bytes, sent as they are."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close",
             b"Content-Type: application/json", b"Content-Length: %d" % len(data)]
    for name, value in (headers or {}).items():
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    return b"\r\n".join(lines) + b"\r\n\r\n" + data


async def connect(base_url: str):
    parts = urlsplit(base_url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def exchange(base_url: str, raw: bytes, timeout: float = 10) -> tuple[int, bytes]:
    """Sends `raw`, reads until the server closes; the status and the whole response."""
    reader, writer = await connect(base_url)
    try:
        writer.write(raw)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    return int(data.split(b" ", 2)[1]), data
