"""Stopping a gateway with answers in flight (SIGTERM to a real `serve`, `freeclaude stop`): it
stops accepting, lets them finish up to its grace, ends the rest with `event: error`, writes
every row and exits within the grace and a second."""

import asyncio
import signal
import time

import aiohttp

from tests.support.fakes import Hang, Stream, chunk, profile, text_chunks
from tests.support.gateway import serve

BODY = {"model": "claude-opus-5-5", "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
SLACK = 1.5  # two shared cores: a process's own start and exit can take this long


async def ask(session: aiohttp.ClientSession, url: str, headers: dict) -> tuple:
    """(status, request id, body), or None when the gateway never answered."""
    try:
        async with session.post(url + "/v1/messages", json=BODY, headers=headers) as r:
            return r.status, r.headers.get("request-id"), await r.read()
    except aiohttp.ClientError:
        return None


async def test_sigterm_lets_the_answers_in_flight_finish_and_refuses_new_ones(tmp_path, fake):
    fake.default = lambda body: Stream(text_chunks("x" * 100, n=20), delay=0.05)  # about a second each
    served = await serve(tmp_path, profile(fake.url).data)
    async with aiohttp.ClientSession() as s:
        flying = [asyncio.create_task(ask(s, served.base_url, served.headers)) for _ in range(16)]
        while len(fake.received) < 16:
            await asyncio.sleep(0.01)
        served.proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        late = [asyncio.create_task(ask(s, served.base_url, served.headers)) for _ in range(8)]
        assert await asyncio.wait_for(served.proc.wait(), 30) == 0
        took = time.monotonic() - sent
        answers = await asyncio.gather(*flying)
        late_answers = await asyncio.gather(*late)
    assert took < 1.0 + 1.0 + SLACK, took  # the streams' second, and one more
    assert all(a[0] == 200 and b"event: message_stop" in a[2] for a in answers)
    answered = {a[1] for a in answers + late_answers if a is not None}
    assert answered <= {r["request_id"] for r in served.rows()}  # every answer has its row
    assert b"Traceback" not in (tmp_path / "serve.log").read_bytes()


async def test_sigterm_ends_an_answer_that_outlasts_the_grace_with_an_error(tmp_path, fake):
    hang = Hang(first=chunk({"role": "assistant", "content": "Hel"}))
    fake.default = hang
    served = await serve(tmp_path, profile(fake.url).data, "--grace", "1")
    async with aiohttp.ClientSession() as s:
        async with s.post(served.base_url + "/v1/messages", json=BODY, headers=served.headers) as r:
            assert r.status == 200
            first = await r.content.readuntil(b"Hel")
            served.proc.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            rest = await asyncio.wait_for(r.content.read(), 10)
            ended = time.monotonic() - sent
        assert await asyncio.wait_for(served.proc.wait(), 10) == 0
        took = time.monotonic() - sent
    assert b"message_start" in first
    assert b"event: error" in rest and b"freeclaude is stopping" in rest and b"message_stop" not in rest
    assert 1.0 <= ended < 1.0 + SLACK and took < 1.0 + 1.0 + SLACK, (ended, took)
    assert await asyncio.wait_for(hang.closed.wait(), 5) is True  # the upstream request was ended too
    [row] = served.rows()
    assert row["status"] == 503 and row["request_id"] == r.headers["request-id"]


async def test_a_second_signal_stops_at_once(tmp_path, fake):
    fake.default = Hang(first=chunk({"role": "assistant", "content": "Hel"}))
    served = await serve(tmp_path, profile(fake.url).data, "--grace", "30")
    async with aiohttp.ClientSession() as s:
        async with s.post(served.base_url + "/v1/messages", json=BODY, headers=served.headers) as r:
            await r.content.readuntil(b"Hel")
            served.proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            sent = time.monotonic()
            served.proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(served.proc.wait(), 10)
    assert time.monotonic() - sent < SLACK


async def test_stop_needs_no_sigkill_for_an_answer_that_outlasts_the_grace(tmp_path, fake):
    """`freeclaude stop` on `start`'s gateway (the default grace, 10 s) with an answer that never
    ends: the gateway ends it with an error, writes its row and exits by itself, before `stop`
    would send SIGKILL (which loses what the writer holds and tells the client nothing)."""
    from freeclaude.gateway.config import GRACE_S
    from freeclaude.service.background import STOP_TIMEOUT
    from tests.service.test_background import User, free_port

    fake.default = Hang(first=chunk({"role": "assistant", "content": "Hel"}))
    user = User(tmp_path, fake.url)
    try:
        r = await user.arun("start", "--profile", "p", "--port", str(free_port()))
        assert r.returncode == 0, r.stderr
        state = user.state()
        token = (user.home / "gateway.token").read_text().strip()
        async with aiohttp.ClientSession() as s:
            auth = {"Authorization": f"Bearer {token}"}
            async with s.post(state["base_url"] + "/v1/messages", json=BODY, headers=auth) as resp:
                await resp.content.readuntil(b"Hel")
                sent = time.monotonic()
                stopping = asyncio.create_task(user.arun("stop"))
                rest = await asyncio.wait_for(resp.content.read(), STOP_TIMEOUT + 5)
            r = await stopping
            took = time.monotonic() - sent
        assert r.returncode == 0 and "stopped the gateway" in r.stderr
        assert GRACE_S <= took < GRACE_S + 1.0 + SLACK + 1.0 < STOP_TIMEOUT, took  # `stop` is a process too
        assert b"event: error" in rest and b"freeclaude is stopping" in rest
        log = (user.home / "logs" / "gateway.log").read_text()
        assert "1 answer(s) still running after 10 s were ended with an error" in log and "Traceback" not in log
        from freeclaude.usage.ledger import Ledger

        with Ledger(user.home / "usage.db") as ledger:
            assert [tuple(r) for r in ledger.db.execute("SELECT request_id, status FROM attempts")] == [
                (resp.headers["request-id"], 503)]
    finally:
        await user.arun("stop")
