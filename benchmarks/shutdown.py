"""Stopping the gateway under load, run after run: SIGTERM, and kill -9.

Each run starts `freeclaude serve` (its own ledger) in front of an upstream that streams a
chunk every 50 ms, keeps 16 streams in flight and new requests coming, and then:

  * sigterm: sends SIGTERM with a second of every stream still to come, and new requests still
    being sent. Counted: answers whole, answers ended with an error, requests refused (never
    answered), rows written, answered requests without a row, seconds from SIGTERM to exit.
    With --long, the streams outlast the grace (10 s by default; --grace changes it), so they
    are ended with `event: error` at the grace.
  * kill9: sends SIGKILL right after the 40th answer is whole. Counted: answers whole before
    the kill, rows written, answered requests without a row, and PRAGMA integrity_check.

Usage: python benchmarks/shutdown.py [--runs 10] [--long] [--grace S]
(Another freeclaude's code, e.g. an older commit's, runs with PYTHONPATH pointing at it.)
"""

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import TOKEN, free_port, wait_for

CHUNK_S = 0.05


def upstream_main(port: int) -> None:
    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        head = {"id": "c", "object": "chat.completion.chunk", "model": "m"}
        for i in range(body["max_tokens"]):
            await resp.write(b"data: " + json.dumps({**head, "choices": [
                {"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}]}).encode() + b"\n\n")
            await asyncio.sleep(CHUNK_S)
        await resp.write(b"data: " + json.dumps({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                                 "usage": {"prompt_tokens": 20, "completion_tokens": 1}}).encode()
                         + b"\n\ndata: [DONE]\n\n")
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_get("/", lambda request: web.Response(text="ok"))
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class Load:
    """Streams kept in flight; what became of each."""

    def __init__(self, url: str, chunks: int) -> None:
        self.url, self.chunks = url, chunks
        self.whole: list[str] = []  # request ids of answers that ended well
        self.errors: list[str] = []  # answered, ended with an error
        self.refused = 0  # never answered
        self.on_whole = None

    async def one(self, s: aiohttp.ClientSession) -> None:
        body = {"model": "claude-sonnet-5-5", "max_tokens": self.chunks, "stream": True,
                "messages": [{"role": "user", "content": "benchmark"}]}
        try:
            async with s.post(self.url + "/v1/messages", json=body) as r:
                raw = await r.read()
        except aiohttp.ClientError:
            self.refused += 1
            return
        if r.status == 200 and raw.endswith(b'data: {"type":"message_stop"}\n\n'):
            self.whole.append(r.headers["request-id"])
            if self.on_whole:
                self.on_whole(len(self.whole))
        else:
            self.errors.append(r.headers["request-id"])


def rows(home: Path) -> tuple[set[str], str]:
    db = sqlite3.connect(home / "usage.db")
    try:
        ids = {r[0] for r in db.execute("SELECT request_id FROM attempts")}
        return ids, db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


async def start_gateway(up_port: int, grace: float | None) -> tuple[asyncio.subprocess.Process, str, Path]:
    home = Path(tempfile.mkdtemp(prefix="freeclaude-stop-"))
    (home / "profiles").mkdir()
    (home / "profiles" / "bench.toml").write_text(
        f'[providers.local]\nkind = "openai"\nbase_url = "http://127.0.0.1:{up_port}/v1"\n'
        f'[providers.local.models.m]\ncontext_window = 32768\nmax_output_tokens = 4096\n[tiers]\ndefault = ["local:m"]\n')
    # --token, which older versions take too: a benchmark's token in `ps` is no secret
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "freeclaude", "serve", "--profile", "bench", "--token", TOKEN,
        *(["--grace", str(grace)] if grace is not None else []), env={**os.environ, "FREECLAUDE_HOME": str(home)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    url = (await proc.stdout.readline()).decode().strip().split("=", 1)[1]
    return proc, url, home


async def sigterm_run(up_port: int, grace: float | None, chunks: int) -> dict:
    proc, url, home = await start_gateway(up_port, grace)
    load = Load(url, chunks)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"},
                                     connector=aiohttp.TCPConnector(limit=0, force_close=True)) as s:
        tasks = [asyncio.create_task(load.one(s)) for _ in range(16)]
        await asyncio.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        for _ in range(20):  # and requests keep coming for a while
            tasks.append(asyncio.create_task(load.one(s)))
            await asyncio.sleep(0.01)
        await proc.wait()
        took = time.monotonic() - sent
        await asyncio.gather(*tasks)
    written, integrity = rows(home)
    answered = set(load.whole) | set(load.errors)
    return {"whole": len(load.whole), "errors": len(load.errors), "refused": load.refused, "rows": len(written),
            "missing": len(answered - written), "exit_s": took, "integrity": integrity}


async def kill9_run(up_port: int) -> dict:
    proc, url, home = await start_gateway(up_port, None)
    load = Load(url, 8)

    def kill(n: int) -> None:
        if n == 40:
            os.kill(proc.pid, signal.SIGKILL)

    load.on_whole = kill
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"},
                                     connector=aiohttp.TCPConnector(limit=0)) as s:
        await asyncio.gather(*(load.one(s) for _ in range(200)))
    await proc.wait()
    written, integrity = rows(home)
    return {"whole": len(load.whole), "rows": len(written), "missing": len(set(load.whole) - written),
            "integrity": integrity}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--long", action="store_true", help="streams that outlast the grace")
    parser.add_argument("--grace", type=float, help="serve's --grace (default: serve's own, 10 s)")
    parser.add_argument("--upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        upstream_main(args.upstream)
        return
    import subprocess

    up_port = free_port()
    upstream = subprocess.Popen([sys.executable, __file__, "--upstream", str(up_port)], stderr=subprocess.DEVNULL)
    try:
        asyncio.run(wait_for(f"http://127.0.0.1:{up_port}/"))
        # 1.5 s streams, SIGTERM at 0.5 s: a second of each to come. --long: three times the grace.
        chunks = int((args.grace or 10) * 3 / CHUNK_S) if args.long else 30
        print(f"sigterm, 16 streams of {chunks * CHUNK_S:g} s in flight, grace {args.grace or 'the default'}:")
        print("run  whole  errors  refused  rows  answered-without-row  exit-s  integrity")
        terms = []
        for i in range(args.runs):
            r = asyncio.run(sigterm_run(up_port, args.grace, chunks))
            terms.append(r)
            print(f"{i + 1:>3}  {r['whole']:>5}  {r['errors']:>6}  {r['refused']:>7}  {r['rows']:>4}  "
                  f"{r['missing']:>20}  {r['exit_s']:>6.2f}  {r['integrity']}")
        exits = [r["exit_s"] for r in terms]
        print(f"exit: median {statistics.median(exits):.2f} s, max {max(exits):.2f} s; answered without a row: "
              f"{sum(r['missing'] for r in terms)}")
        print("kill -9 right after the 40th whole answer, 200 streams of 0.4 s:")
        print("run  whole  rows  answered-without-row  integrity")
        kills = []
        for i in range(args.runs):
            r = asyncio.run(kill9_run(up_port))
            kills.append(r)
            print(f"{i + 1:>3}  {r['whole']:>5}  {r['rows']:>4}  {r['missing']:>20}  {r['integrity']}")
        print(f"answered without a row: {sum(r['missing'] for r in kills)} in {args.runs} runs")
    finally:
        upstream.terminate()
        upstream.wait()


if __name__ == "__main__":
    main()
