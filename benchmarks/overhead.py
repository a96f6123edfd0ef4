"""What freeclaude adds over a direct connection to the same local upstream, and what it costs
to start.

Runs four processes on this machine: an OpenAI-compatible upstream that streams N chunks as
fast as it can, `freeclaude serve` in front of it, a bare aiohttp forwarder in front of it too
(it moves the bytes and nothing else, on the gateway's event loop: the floor any aiohttp hop
costs here, so what freeclaude adds above it is its own), and this client. It prints:

  * 50-chunk streams, one at a time, direct, through the forwarder and through freeclaude in
    turn: the time to the first byte and to the end, added (p50, p95 of the paired differences);
  * 32 streams of 200 chunks in parallel: wall time of each path, against direct;
  * the gateway's peak RSS (VmHWM);
  * in this process: validation, estimate and translation of a Claude Code-sized request (the
    capture in tests/wire, its elided prose put back as filler of the same length), the
    translation cost per streamed chunk, and two of its fast paths against what they spare;
  * `freeclaude --version`, and `freeclaude run` until the child `claude` (a stand-in shell
    script) starts;
  * `freeclaude statusline` as Claude Code runs it (through a shell, its session JSON on stdin).

Usage: python benchmarks/overhead.py [--rounds 400]
"""

import argparse
import asyncio
import json
import os
import re
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
ROOT = Path(__file__).resolve().parent.parent
PARALLEL_ROUNDS = 40  # the parallel case swings most from run to run on two shared cores


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


# ---------------------------------------------------------------- the floor (its own process)


def forwarder_main(port: int, upstream_port: int) -> None:
    """Posts what it is sent to the upstream, and streams the upstream's bytes back as they come."""
    from freeclaude.gateway import eventloop

    target = f"http://127.0.0.1:{upstream_port}/v1/chat/completions"

    async def forward(request: web.Request) -> web.StreamResponse:
        body = json.loads(await request.read())
        payload = {"model": "m", "max_tokens": body["max_tokens"], "stream": True, "messages": body["messages"],
                   "stream_options": {"include_usage": True}}
        async with request.app["session"].post(target, data=json.dumps(payload).encode(),
                                               headers={"Content-Type": "application/json"}) as up:
            resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await resp.prepare(request)
            async for chunk in up.content.iter_any():
                await resp.write(chunk)
        return resp

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", forward)
        app.router.add_get("/", health)
        async with aiohttp.ClientSession() as session:
            app["session"] = session
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            await asyncio.Event().wait()

    eventloop.run(serve())


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


async def one(session: aiohttp.ClientSession, url: str, body: dict, headers: dict) -> tuple[float, float]:
    """Seconds to the first byte of the body, and to its end."""
    start = time.perf_counter()
    async with session.post(url, json=body, headers=headers) as r:
        assert r.status == 200, await r.text()
        first = None
        async for _ in r.content.iter_any():
            if first is None:
                first = time.perf_counter() - start
    return first, time.perf_counter() - start


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PATHS = ("direct", "forwarder", "freeclaude")


async def bench(urls: dict[str, str], rounds: int, pids: dict[str, int]) -> dict:
    def request(path: str, chunks: int) -> tuple[str, dict, dict]:
        messages = [{"role": "user", "content": "benchmark"}]
        if path == "direct":
            return (f"{urls[path]}/v1/chat/completions", {"model": "m", "max_tokens": chunks, "stream": True,
                    "messages": messages, "stream_options": {"include_usage": True}}, {})
        return (f"{urls[path]}/v1/messages", {"model": "claude-sonnet-5-5", "max_tokens": chunks, "stream": True,
                "messages": messages}, {"Authorization": f"Bearer {TOKEN}"})

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as s:
        for _ in range(30):  # warm up every path and the connection pools
            for path in PATHS:
                await one(s, *request(path, 50))
        times: dict[str, list[tuple[float, float]]] = {path: [] for path in PATHS}
        cpu = {path: cpu_seconds(pid) for path, pid in pids.items()}
        for i in range(rounds):
            # rotate which goes first, so drift and caching favour none
            for path in PATHS[i % 3:] + PATHS[:i % 3]:
                times[path].append(await one(s, *request(path, 50)))

        # CPU time is steadier than wall time here: what each hop spent on one 50-chunk stream
        request_cpu = {path: (cpu_seconds(pid) - cpu[path]) / rounds * 1e6 for path, pid in pids.items()}

        async def parallel(path: str) -> float:
            start = time.perf_counter()
            await asyncio.gather(*(one(s, *request(path, 200)) for _ in range(32)))
            return time.perf_counter() - start

        walls: dict[str, list[float]] = {path: [] for path in PATHS}
        chunk_cpu = dict.fromkeys(pids, 0.0)  # each hop's, in its own rounds only
        for _ in range(PARALLEL_ROUNDS):
            for path in PATHS:
                before = cpu_seconds(pids[path]) if path in pids else 0.0
                walls[path].append(await parallel(path))
                if path in pids:
                    chunk_cpu[path] += cpu_seconds(pids[path]) - before
    out: dict = {"direct": {name: statistics.median(t[k] for t in times["direct"]) * 1e3
                            for name, k in (("ttfb", 0), ("total", 1))}}
    for path in PATHS[1:]:
        for name, k in (("ttfb", 0), ("total", 1)):
            added = [p[k] - d[k] for d, p in zip(times["direct"], times[path])]
            out[path, name] = {"p50": statistics.median(added) * 1e3, "p95": pct(added, 95) * 1e3}
        # the median of the paired ratios: each parallel round against the direct one just before it
        out[path, "parallel"] = statistics.median(p / d for d, p in zip(walls["direct"], walls[path]))
    out["parallel_direct_ms"] = statistics.median(walls["direct"]) * 1e3
    out["request_cpu_us"] = request_cpu
    out["chunk_cpu_us"] = {path: spent / (PARALLEL_ROUNDS * 32 * 200) * 1e6 for path, spent in chunk_cpu.items()}
    return out


# ---------------------------------------------------------------- in this process


def claude_code_sized() -> bytes:
    """The captured Claude Code request with its elided prose put back as filler of its length."""
    capture = json.loads((ROOT / "tests" / "wire" / "claude-code-2.1.328-request-1.json").read_text())["body"]
    filler = "read the file then run the tests and fix what fails before you answer " * 400

    def fill(match: re.Match) -> str:
        n = int(match.group(1))
        return (filler * (n // len(filler) + 1))[:n]

    return re.sub(r"<(\d+) characters of prose, elided>", fill, json.dumps(capture)).encode()


def per_call_us(fn, n: int) -> float:
    """Median of 7 runs of n calls, in microseconds per call."""
    runs = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n)
    return statistics.median(runs) * 1e6


def in_process() -> dict:
    from freeclaude.profiles.providers import Model
    from freeclaude.translate import sse
    from freeclaude.translate.repeats import Repeats
    from freeclaude.translate.request import to_openai
    from freeclaude.translate.stream import StreamTranslator
    from freeclaude.translate.tokens import estimate
    from freeclaude.translate.tools import ToolNames
    from freeclaude.translate.validate import validate

    raw = claude_code_sized()
    model = Model(name="m", provider="p")
    parsed = json.loads(raw)

    def prepare() -> None:
        body = json.loads(raw)  # a new body each time, as each request is: no estimate cached by identity
        validate(body)
        estimate(body)
        to_openai(body, model, ToolNames(), stream=True, max_tokens=8192)

    parse_only = per_call_us(lambda: json.loads(raw), 200)
    tools = {t["name"]: t.get("input_schema") or {} for t in parsed["tools"]}
    translator = StreamTranslator(model="claude-opus-5-5", tools=tools)
    decoder = sse.Decoder()
    line = b'data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,' \
           b'"delta":{"content":"tok "},"finish_reason":null}]}\n\n'

    repeats = Repeats()

    def chunk() -> None:  # as upstream.ChatCompletions reads a stream
        events = []
        for _, data in decoder.feed(line):
            text = repeats.text(data)
            if text is not None:
                events += translator.feed_text(text)
            else:
                obj = json.loads(data)
                events += translator.feed(obj)
                repeats.learn(data, obj)
        sse.encode_all(events)

    chunk()
    # two of its fast paths, each against what it spares: a line that repeats the last text chunk
    # but for its text (translate/repeats.py), and the template of a text delta (translate/sse.py)
    data = line.decode().removeprefix("data: ").strip()
    assert repeats.text(data) == "tok "
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "tok "}}
    assert sse.encode("content_block_delta", delta) == f"event: content_block_delta\ndata: {sse.dumps(delta)}\n\n".encode()
    return {"request_bytes": len(raw), "tools": len(parsed["tools"]),
            "prepare_ms": (per_call_us(prepare, 200) - parse_only) / 1e3, "chunk_us": per_call_us(chunk, 20000),
            "repeat_us": per_call_us(lambda: repeats.text(data), 20000), "loads_us": per_call_us(lambda: json.loads(data), 20000),
            "template_us": per_call_us(lambda: sse.encode("content_block_delta", delta), 20000),
            "dumps_us": per_call_us(lambda: f"event: content_block_delta\ndata: {sse.dumps(delta)}\n\n".encode(), 20000)}


def startup(env: dict) -> dict:
    """Wall times of `freeclaude --version`, of `freeclaude run` until the child starts, and of
    the statusline command as Claude Code runs it."""
    tmp = Path(tempfile.mkdtemp(prefix="freeclaude-start-"))
    stamp = tmp / "started"
    claude = tmp / "claude"
    # (run asks a claude it has not seen before its version, once)
    claude.write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "2.1.330 (Claude Code)" && exit\ndate +%s%N > "{stamp}"\n')
    claude.chmod(0o755)
    exe = Path(sys.executable).with_name("freeclaude")
    run_env = {**env, "FREECLAUDE_CLAUDE": str(claude)}
    version, run = [], []
    for _ in range(15):
        start = time.perf_counter()
        subprocess.run([exe, "--version"], env=env, check=True, stdout=subprocess.DEVNULL)
        version.append(time.perf_counter() - start)
        start_ns = time.time_ns()
        subprocess.run([exe, "run", "--quiet", "--profile", "bench"], env=run_env, check=True)
        run.append((int(stamp.read_text()) - start_ns) / 1e9)
    return {"version_ms": statistics.median(version) * 1e3, "run_to_exec_ms": statistics.median(run) * 1e3,
            "run_to_exec_spread_ms": (min(run) * 1e3, max(run) * 1e3), **statusline(tmp)}


def statusline(tmp: Path) -> dict:
    """`freeclaude statusline` as Claude Code 2.1.330 runs it: the command `run` gives it, the
    session JSON it sends on stdin, the state file the gateway keeps for that session."""
    from freeclaude.claude.sessions import DIR_ENV, Board
    from freeclaude.claude.statusline import command
    from freeclaude.usage.ledger import Row

    stdin = json.loads((ROOT / "tests" / "captures" / "claude-code-2.1.330-statusline.json").read_text())["stdin"]
    Board(str(tmp / "sessions")).record(Row(
        session="bench", request_id="req_1", profile="bench", tier="opus", requested_model=stdin["model"]["id"],
        provider="local", upstream_model="m", stream=True, position=0, attempt=0, input_tokens=1200, output_tokens=34,
        client_session=stdin["session_id"]), {})
    data, env = json.dumps(stdin).encode(), {**os.environ, DIR_ENV: str(tmp / "sessions")}
    times = []
    for _ in range(21):
        start = time.perf_counter()
        out = subprocess.run(command(), shell=True, input=data, env=env, capture_output=True, check=True).stdout
        times.append(time.perf_counter() - start)
    assert out.startswith(b"local:m"), out
    return {"statusline_ms": statistics.median(times[1:]) * 1e3, "statusline_spread_ms": (min(times[1:]) * 1e3,
                                                                                            max(times[1:]) * 1e3)}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--upstream", type=int, help=argparse.SUPPRESS)  # internal: run as the upstream
    parser.add_argument("--forwarder", type=int, nargs=2, help=argparse.SUPPRESS)  # internal: as the floor
    args = parser.parse_args()
    if args.upstream:
        upstream_main(args.upstream)
        return
    if args.forwarder:
        forwarder_main(*args.forwarder)
        return

    up_port, gw_port, fw_port = free_port(), free_port(), free_port()
    home = Path(tempfile.mkdtemp(prefix="freeclaude-bench-"))
    (home / "profiles").mkdir()
    (home / "profiles" / "bench.toml").write_text(
        f'[providers.local]\nkind = "openai"\nbase_url = "http://127.0.0.1:{up_port}/v1"\n'
        f'[providers.local.models.m]\ncontext_window = 32768\nmax_output_tokens = 4096\n'
        f'[tiers]\ndefault = ["local:m"]\n')
    env = {**os.environ, "FREECLAUDE_HOME": str(home)}
    upstream = subprocess.Popen([sys.executable, __file__, "--upstream", str(up_port)])
    forwarder = subprocess.Popen([sys.executable, __file__, "--forwarder", str(fw_port), str(up_port)])
    gateway = subprocess.Popen(
        [sys.executable, "-m", "freeclaude", "serve", "--profile", "bench", "--port", str(gw_port), "--token", TOKEN],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        urls = {path: f"http://127.0.0.1:{port}" for path, port in zip(PATHS, (up_port, fw_port, gw_port))}
        for url in urls.values():
            asyncio.run(wait_for(url + "/"))
        r = asyncio.run(bench(urls, args.rounds, {"forwarder": forwarder.pid, "freeclaude": gateway.pid}))
        rss = peak_rss_mb(gateway.pid)
    finally:
        for process in (gateway, forwarder, upstream):
            process.terminate()
            process.wait()

    inproc = in_process()
    starts = startup(env)

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.rounds} rounds of each path")
    for name, what in (("ttfb", "time to first byte"), ("total", "whole 50-chunk stream")):
        fw, fc = r["forwarder", name], r["freeclaude", name]
        print(f"{what}: direct p50 {r['direct'][name]:.2f} ms; added by the bare forwarder p50 {fw['p50']:.2f} ms "
              f"(p95 {fw['p95']:.2f}), by freeclaude p50 {fc['p50']:.2f} ms (p95 {fc['p95']:.2f}): "
              f"freeclaude's own {fc['p50'] - fw['p50']:+.2f} ms")
    req, chunk = r["request_cpu_us"], r["chunk_cpu_us"]
    print(f"CPU per 50-chunk stream, one at a time: bare forwarder {req['forwarder']:.0f} us, freeclaude "
          f"{req['freeclaude']:.0f} us (its ledger and log thread included)")
    print(f"32 parallel 200-chunk streams (median of {PARALLEL_ROUNDS} paired rounds): direct "
          f"{r['parallel_direct_ms']:.1f} ms; bare forwarder x{r['forwarder', 'parallel']:.2f}, freeclaude "
          f"x{r['freeclaude', 'parallel']:.2f}; CPU a chunk: bare forwarder {chunk['forwarder']:.1f} us, "
          f"freeclaude {chunk['freeclaude']:.1f} us")
    print(f"gateway peak RSS: {rss:.1f} MB")
    print(f"Claude Code-sized request ({inproc['request_bytes']:,} bytes, {inproc['tools']} tools): validation + "
          f"estimate + translation {inproc['prepare_ms']:.3f} ms")
    print(f"translation per streamed chunk (SSE decode, read, translate, encode): {inproc['chunk_us']:.1f} us; of it, "
          f"the line read as a repeat {inproc['repeat_us']:.2f} us (json.loads: {inproc['loads_us']:.2f}), the text delta "
          f"written from its template {inproc['template_us']:.2f} us (json's encoder: {inproc['dumps_us']:.2f})")
    print(f"freeclaude --version: {starts['version_ms']:.0f} ms; freeclaude run to the child's start: "
          f"{starts['run_to_exec_ms']:.0f} ms (min {starts['run_to_exec_spread_ms'][0]:.0f}, "
          f"max {starts['run_to_exec_spread_ms'][1]:.0f}), medians of 15")
    print(f"freeclaude statusline, as Claude Code runs it: {starts['statusline_ms']:.1f} ms (min "
          f"{starts['statusline_spread_ms'][0]:.1f}, max {starts['statusline_spread_ms'][1]:.1f}), median of 20")


if __name__ == "__main__":
    main()
