"""What freeclaude adds over a direct connection to the same local upstream.

Runs three processes on this machine: an OpenAI-compatible upstream that streams N chunks as
fast as it can, `freeclaude serve` in front of it, and this client. It prints:

  * 50-chunk streams, one at a time, direct and through freeclaude alternately: the
    added time per stream (p50, p95 of the paired differences);
  * 32 streams of 200 chunks in parallel: wall time direct vs through freeclaude;
  * the gateway's peak RSS (VmHWM).

Usage: python benchmarks/overhead.py [--rounds 400]
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

TOKEN = "bench-token"


# ---------------------------------------------------------------- the upstream (its own process)


def upstream_main(port: int) -> None:
    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        n = int(request.query.get("chunks") or body.get("max_tokens") or 50)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        head = {"id": "c", "object": "chat.completion.chunk", "model": "m"}
        for i in range(n):
            await resp.write(b"data: " + json.dumps({**head, "choices": [
                {"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}]}).encode() + b"\n\n")
        await resp.write(b"data: " + json.dumps({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                                 "usage": {"prompt_tokens": 20, "completion_tokens": n}}).encode() + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# ---------------------------------------------------------------- the client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for(url: str) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(200):
            try:
                async with s.get(url):
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


async def one(session: aiohttp.ClientSession, url: str, body: dict, headers: dict) -> float:
    start = time.perf_counter()
    async with session.post(url, json=body, headers=headers) as r:
        assert r.status == 200, await r.text()
        async for _ in r.content.iter_any():
            pass
    return time.perf_counter() - start


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def bench(upstream: str, gateway: str, rounds: int) -> dict:
    direct = (f"{upstream}/v1/chat/completions", {})
    proxied = (f"{gateway}/v1/messages", {"Authorization": f"Bearer {TOKEN}"})

    def body(chunks: int, via_gateway: bool) -> dict:
        messages = [{"role": "user", "content": "benchmark"}]
        if via_gateway:
            return {"model": "claude-sonnet-5-5", "max_tokens": chunks, "stream": True, "messages": messages}
        return {"model": "m", "max_tokens": chunks, "stream": True, "messages": messages,
                "stream_options": {"include_usage": True}}

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as s:
        for _ in range(30):  # warm up both paths and the connection pools
            await one(s, direct[0], body(50, False), direct[1])
            await one(s, proxied[0], body(50, True), proxied[1])
        d_times, p_times, added = [], [], []
        for i in range(rounds):
            # alternate which goes first, so drift and caching favour neither
            pair = [(direct, False), (proxied, True)] if i % 2 == 0 else [(proxied, True), (direct, False)]
            got = {}
            for (url, headers), via in pair:
                got[via] = await one(s, url, body(50, via), headers)
            d_times.append(got[False])
            p_times.append(got[True])
            added.append(got[True] - got[False])

        async def parallel(via: bool) -> tuple[float, list[float]]:
            url, headers = proxied if via else direct
            start = time.perf_counter()
            each = await asyncio.gather(*(one(s, url, body(200, via), headers) for _ in range(32)))
            return time.perf_counter() - start, list(each)

        walls = {False: [], True: []}
        for _ in range(10):
            for via in (False, True):
                wall, _ = await parallel(via)
                walls[via].append(wall)
    return {
        "direct_p50_ms": statistics.median(d_times) * 1e3,
        "proxied_p50_ms": statistics.median(p_times) * 1e3,
        "added_p50_ms": statistics.median(added) * 1e3,
        "added_p95_ms": pct(added, 95) * 1e3,
        "parallel_direct_ms": statistics.median(walls[False]) * 1e3,
        "parallel_proxied_ms": statistics.median(walls[True]) * 1e3,
    }


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--upstream", type=int, help=argparse.SUPPRESS)  # internal: run as the upstream
    args = parser.parse_args()
    if args.upstream:
        upstream_main(args.upstream)
        return

    up_port, gw_port = free_port(), free_port()
    home = Path(tempfile.mkdtemp(prefix="freeclaude-bench-"))
    (home / "profiles").mkdir()
    (home / "profiles" / "bench.toml").write_text(
        f'[providers.local]\nkind = "openai"\nbase_url = "http://127.0.0.1:{up_port}/v1"\n'
        f'[providers.local.models.m]\ncontext_window = 32768\nmax_output_tokens = 4096\n'
        f'[tiers]\ndefault = ["local:m"]\n')
    env = {**os.environ, "FREECLAUDE_HOME": str(home)}
    upstream = subprocess.Popen([sys.executable, __file__, "--upstream", str(up_port)])
    gateway = subprocess.Popen(
        [sys.executable, "-m", "freeclaude", "serve", "--profile", "bench", "--port", str(gw_port), "--token", TOKEN],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        up_url, gw_url = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{gw_port}"
        asyncio.run(wait_for(up_url))
        asyncio.run(wait_for(gw_url + "/"))
        r = asyncio.run(bench(up_url, gw_url, args.rounds))
        rss = peak_rss_mb(gateway.pid)
    finally:
        gateway.terminate()
        upstream.terminate()
        gateway.wait()
        upstream.wait()

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.rounds} paired rounds")
    print(f"50-chunk stream, one at a time: direct p50 {r['direct_p50_ms']:.2f} ms, "
          f"through freeclaude p50 {r['proxied_p50_ms']:.2f} ms")
    print(f"  added by freeclaude: p50 {r['added_p50_ms']:.2f} ms, p95 {r['added_p95_ms']:.2f} ms")
    print(f"32 parallel 200-chunk streams (wall, median of 10): direct {r['parallel_direct_ms']:.1f} ms, "
          f"through freeclaude {r['parallel_proxied_ms']:.1f} ms "
          f"(x{r['parallel_proxied_ms'] / r['parallel_direct_ms']:.2f})")
    print(f"gateway peak RSS: {rss:.1f} MB")


if __name__ == "__main__":
    main()
