"""Every answered request has its row: text from clients is stored whatever it holds, and an
answer's row is committed before its last byte leaves, so kill -9 loses no answered row."""

import asyncio
import json
import os
import signal
import sqlite3
import threading

import aiohttp

from freeclaude.usage.ledger import Ledger
from tests.conftest import TOKEN, rows
from tests.support import rawhttp
from tests.support.fakes import Json, Stream, completion, profile, text_chunks
from tests.support.gateway import serve

BODY = {"model": "claude-opus-5-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}


async def test_session_ids_that_utf8_cannot_hold_are_stored(fake, gateway):
    """A lone surrogate in metadata.user_id's session_id, a raw 0xff byte in the session header:
    every request is answered and every row written (one such row used to roll back its batch)."""
    fake.default = lambda body: Stream(text_chunks("fine"))
    server = await gateway(profile(fake.url))
    in_metadata = {**BODY, "stream": True, "metadata": {"user_id": json.dumps({"session_id": "\ud800abc"})}}
    requests = [rawhttp.request(headers={"x-api-key": TOKEN}, body=json.dumps(in_metadata).encode())] * 10 + [
        rawhttp.request(headers={"x-api-key": TOKEN, "X-Claude-Code-Session-Id": b"\xffabc"},
                        body={**BODY, "stream": True})] * 11
    answers = await asyncio.gather(*(rawhttp.exchange(server.base_url, r) for r in requests))
    assert [status for status, _ in answers] == [200] * 21
    assert all(b"message_stop" in raw for _, raw in answers)
    sessions = [r["client_session"] for r in rows(server, "client_session")]
    assert sorted(sessions) == ["\\ud800abc"] * 10 + ["\\udcffabc"] * 11  # kept, escaped


async def test_an_answer_is_recorded_before_its_last_byte_leaves(fake, gateway):
    """With the ledger's commit held up, the client gets all of the stream but its end, and
    the whole of an unstreamed answer only once the row is committed."""
    fake.default = lambda body: Stream(text_chunks("hello there", n=1)) if body.get("stream") else Json(
        completion({"content": "hello there"}))
    server = await gateway(profile(fake.url))
    held, committed = threading.Event(), []
    record = server.ledger.record

    def slow_record(*rows):
        held.wait(10)
        record(*rows)
        committed.extend(r.request_id for r in rows)

    server.ledger.record = slow_record
    async with aiohttp.ClientSession(headers={"x-api-key": TOKEN}) as s:
        async def ask(body):
            async with s.post(server.base_url + "/v1/messages", json=body) as r:
                return r.headers["request-id"], await r.read()

        for body in ({**BODY, "stream": True}, BODY):
            held.clear()
            whole = asyncio.create_task(ask(body))
            await asyncio.sleep(0.5)
            assert not whole.done(), "the answer ended before its row was committed"
            held.set()
            request_id, raw = await whole
            assert b"hello there" in raw and request_id in committed


async def test_kill_9_loses_no_answered_row(tmp_path, fake):
    """kill -9 in the middle of a burst, right after an answer was whole: every answer a client
    had in full has its row, and the ledger is sound."""
    fake.default = lambda body: Stream(text_chunks("x" * 40, n=8), delay=0.01)
    served = await serve(tmp_path, profile(fake.url).data)
    answered: list[str] = []

    async def one(s):
        try:
            async with s.post(served.base_url + "/v1/messages", json={**BODY, "stream": True}) as r:
                raw = await r.read()
        except aiohttp.ClientError:
            return
        if r.status == 200 and raw.endswith(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"):
            answered.append(r.headers["request-id"])
            if len(answered) == 40:
                os.kill(served.proc.pid, signal.SIGKILL)

    async with aiohttp.ClientSession(headers=served.headers) as s:
        await asyncio.gather(*(one(s) for _ in range(200)))
    assert await served.proc.wait() == -signal.SIGKILL
    assert len(answered) >= 40
    assert set(answered) <= {r["request_id"] for r in served.rows()}
    db = sqlite3.connect(served.home / "usage.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    with Ledger(served.home / "usage.db") as ledger:  # and the gateway's next start opens it
        assert ledger.totals()["total"]["requests"] >= 40
