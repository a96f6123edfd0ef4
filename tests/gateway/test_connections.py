"""What the gateway does with connections, through raw TCP clients (asyncio streams): those that
have not shown the token are few and short-lived, idle ones close, hostile bytes get clean
answers, and none of it slows a real request."""

import asyncio
import json
import resource
import time

import aiohttp
import pytest

from freeclaude.gateway import gate
from tests.conftest import TOKEN
from tests.support import rawhttp
from tests.support.fakes import Json, completion, profile
from tests.support.gateway import serve

BODY = {"model": "claude-opus-5-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> float:
    """How long until the gateway closed the connection (reading what it sent till then)."""
    start = time.monotonic()
    await asyncio.wait_for(reader.read(), seconds)
    return time.monotonic() - start


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(gate, "HANDSHAKE_S", 0.5)
    monkeypatch.setattr(gate, "KEEPALIVE_S", 2.0)


@pytest.mark.parametrize("sent", [b"", b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: "])
async def test_a_connection_that_does_not_show_the_token_in_time_is_closed(fake, gateway, quick, sent):
    server = await gateway(profile(fake.url))
    reader, writer = await rawhttp.connect(server.base_url)
    writer.write(sent)
    assert 0.4 < await closed_within(reader, 5) < 1.5  # the handshake's deadline, not the keep-alive's
    writer.close()


async def test_an_idle_connection_closes_after_the_keep_alive_timeout(fake, gateway, quick):
    fake.default = Json(completion({"content": "hi"}))
    server = await gateway(profile(fake.url))
    reader, writer = await rawhttp.connect(server.base_url)
    raw = rawhttp.request(headers={"x-api-key": TOKEN}, body=BODY).replace(b"Connection: close", b"Connection: keep-alive")
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    await reader.readexactly(int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]))
    assert 1.5 < await closed_within(reader, 5) < 3.5  # past the handshake: the keep-alive timeout's
    writer.close()


async def test_the_oldest_connections_without_the_token_make_room_for_new_ones(fake, gateway):
    fake.default = Json(completion({"content": "hi"}))
    server = await gateway(profile(fake.url))
    idle = [await rawhttp.connect(server.base_url) for _ in range(gate.LIMIT + 10)]
    await asyncio.sleep(0.1)
    assert [r.at_eof() for r, _ in idle[:10]] == [True] * 10 and not any(r.at_eof() for r, _ in idle[10:])
    status, raw = await rawhttp.exchange(server.base_url, rawhttp.request(headers={"x-api-key": TOKEN}, body=BODY))
    assert status == 200
    for _, w in idle:
        w.close()


async def test_a_gateway_out_of_file_descriptors_still_answers(tmp_path, fake):
    """300 connections that never send a byte, against a gateway whose limit is 256 open files."""
    fake.default = Json(completion({"content": "still here"}))

    def few_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    served = await serve(tmp_path, profile(fake.url).data, preexec_fn=few_files)
    try:
        idle = [await rawhttp.connect(served.base_url) for _ in range(300)]
        async with aiohttp.ClientSession(headers=served.headers) as s:
            async with s.post(served.base_url + "/v1/messages", json=BODY, timeout=aiohttp.ClientTimeout(10)) as r:
                assert r.status == 200 and (await r.json())["content"][0]["text"] == "still here"
        for _, w in idle:
            w.close()
    finally:
        served.proc.kill()
        await served.proc.wait()


async def test_slowloris_connections_do_not_slow_a_real_request(fake, gateway):
    fake.default = Json(completion({"content": "hi"}))
    server = await gateway(profile(fake.url))
    slow = []
    for _ in range(200):
        r, w = await rawhttp.connect(server.base_url)
        w.write(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-")
        slow.append(w)
    start = time.monotonic()
    status, _ = await rawhttp.exchange(server.base_url, rawhttp.request(headers={"x-api-key": TOKEN}, body=BODY))
    assert status == 200 and time.monotonic() - start < 1.0
    for w in slow:
        w.close()


@pytest.mark.parametrize("header", ["x-api-key", "Authorization"])
async def test_a_token_that_is_not_utf8_is_a_401(fake, gateway, header, caplog):
    server = await gateway(profile(fake.url))
    value = b"\xff\xfe-not-the-token" if header == "x-api-key" else b"Bearer \xff\xfe"
    status, raw = await rawhttp.exchange(server.base_url, rawhttp.request(headers={header: value}, body=BODY))
    body = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    assert status == 401 and body["error"]["type"] == "authentication_error"
    assert "Traceback" not in caplog.text and "internal error" not in caplog.text


async def test_a_flood_of_bad_requests_adds_little_to_the_log(tmp_path, fake):
    """1,000 requests with a token that is not UTF-8, to a real `serve`: 401 each, and a few
    lines of log (they were 500s with a traceback each: 712 KB)."""
    served = await serve(tmp_path, profile(fake.url).data)
    log = tmp_path / "serve.log"
    before = log.stat().st_size
    raw = rawhttp.request(headers={"x-api-key": b"\xff"}, body=BODY)
    statuses = set()
    for _ in range(1000):
        status, _ = await rawhttp.exchange(served.base_url, raw)
        statuses.add(status)
    served.proc.terminate()
    await served.proc.wait()
    assert statuses == {401}
    assert log.stat().st_size - before < 2000, log.read_text()[-2000:]


@pytest.mark.parametrize("method,path", [("POST", "/v1/messages"), ("POST", "/v1/messages/count_tokens"),
                                         ("GET", "/v1/models"), ("GET", "/nowhere"), ("OPTIONS", "/v1/messages")])
async def test_every_path_but_the_health_check_wants_the_token_and_no_cors_is_offered(fake, gateway, method, path):
    server = await gateway(profile(fake.url))
    headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    status, raw = await rawhttp.exchange(server.base_url, rawhttp.request(path, headers, BODY, method))
    head = raw.split(b"\r\n\r\n", 1)[0].lower()
    assert status == 401 and b"access-control-" not in head
    status, raw = await rawhttp.exchange(server.base_url, rawhttp.request("/", headers, method="GET"))
    assert status == 200 and b"access-control-" not in raw.split(b"\r\n\r\n", 1)[0].lower()


async def test_bodies_too_large_or_too_deep_are_refused_cleanly(fake, gateway, caplog):
    import gzip

    server = await gateway(profile(fake.url))
    auth = {"x-api-key": TOKEN}
    big = b'{"pad": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    bomb = gzip.compress(b'{"pad": "' + b"x" * (64 * 1024 * 1024) + b'"}')
    deep = b"[" * 100_000 + b"]" * 100_000
    for body, headers, expected in ((big, auth, 413), (bomb, {**auth, "Content-Encoding": "gzip"}, 413),
                                    (deep, auth, 400)):
        status, raw = await rawhttp.exchange(server.base_url, rawhttp.request(headers=headers, body=body), timeout=30)
        assert status == expected and json.loads(raw.split(b"\r\n\r\n", 1)[1])["type"] == "error"
    assert "Traceback" not in caplog.text
    assert fake.received == []
