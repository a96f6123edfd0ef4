"""What it costs that an answer's row is committed before the answer's last byte leaves.

Runs an OpenAI-compatible upstream that streams as fast as it can (overhead.py's), and two
gateways in front of it, each with its own ledger: `freeclaude serve` as it ships, which awaits
the commit before the last byte, and the same with that wait taken out (Writer.row patched to
hand the row over without a waiter: rows are still written, just not waited for) — or, with
`--against DIR`, the freeclaude package in DIR (an older commit's, say: `git archive COMMIT cli
profiles`, then DIR/freeclaude a link to its cli/ and cli/templates to its profiles/). The client
sends 50-chunk streams to each in turn and prints, paired round by round:

  * the time to the last byte, added by the wait (p50, p95);
  * 32 parallel 200-chunk streams: wall time of the waiting gateway against the other (median of
    paired rounds), and each gateway's CPU per stream.

Usage: python benchmarks/durability.py [--rounds 300] [--against DIR]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import TOKEN, cpu_seconds, free_port, pct, wait_for

ROOT = Path(__file__).resolve().parent.parent
PARALLEL_ROUNDS = 30
KINDS = ("waits", "does not wait")


def gateway_main(port: int, wait: bool) -> None:
    if not wait:
        from freeclaude.gateway import writer

        def row(self, row, notes, cooling) -> asyncio.Future:
            self.submit(lambda: self._row(row, notes, cooling))
            done = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

        writer.Writer.row = row
    from freeclaude.commands import serve

    serve.main("bench", "127.0.0.1", port, TOKEN)


async def last_byte(session: aiohttp.ClientSession, url: str, chunks: int) -> float:
    body = {"model": "claude-sonnet-5-5", "max_tokens": chunks, "stream": True,
            "messages": [{"role": "user", "content": "benchmark"}]}
    start = time.perf_counter()
    async with session.post(url + "/v1/messages", json=body, headers={"Authorization": f"Bearer {TOKEN}"}) as r:
        assert r.status == 200, await r.text()
        await r.read()
    return time.perf_counter() - start


async def bench(urls: dict[str, str], pids: dict[str, int], rounds: int) -> dict:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        for _ in range(30):
            for kind in KINDS:
                await last_byte(s, urls[kind], 50)
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        cpu = {kind: cpu_seconds(pid) for kind, pid in pids.items()}
        for i in range(rounds):
            for kind in KINDS[i % 2:] + KINDS[:i % 2]:
                times[kind].append(await last_byte(s, urls[kind], 50))
        one_cpu = {kind: (cpu_seconds(pid) - cpu[kind]) / rounds * 1e6 for kind, pid in pids.items()}
        walls: dict[str, list[float]] = {kind: [] for kind in KINDS}
        parallel_cpu = dict.fromkeys(KINDS, 0.0)
        for i in range(PARALLEL_ROUNDS):
            for kind in KINDS[i % 2:] + KINDS[:i % 2]:
                before, start = cpu_seconds(pids[kind]), time.perf_counter()
                await asyncio.gather(*(last_byte(s, urls[kind], 200) for _ in range(32)))
                walls[kind].append(time.perf_counter() - start)
                parallel_cpu[kind] += cpu_seconds(pids[kind]) - before
    added = [w - n for w, n in zip(times["waits"], times["does not wait"])]
    return {
        "last_byte_ms": {kind: statistics.median(t) * 1e3 for kind, t in times.items()},
        "added_p50_ms": statistics.median(added) * 1e3, "added_p95_ms": pct(added, 95) * 1e3,
        "one_cpu_us": one_cpu,
        "parallel_ms": {kind: statistics.median(w) * 1e3 for kind, w in walls.items()},
        "parallel_ratio": statistics.median(w / n for w, n in zip(walls["waits"], walls["does not wait"])),
        "parallel_cpu_us": {kind: spent / (PARALLEL_ROUNDS * 32) * 1e6 for kind, spent in parallel_cpu.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--gateway", type=int, help=argparse.SUPPRESS)  # internal: run as a gateway
    parser.add_argument("--no-wait", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--against", type=Path, help="a directory holding another freeclaude package to compare with")
    args = parser.parse_args()
    if args.gateway:
        gateway_main(args.gateway, wait=not args.no_wait)
        return

    up_port = free_port()
    ports = {kind: free_port() for kind in KINDS}
    profile = (f'[providers.local]\nkind = "openai"\nbase_url = "http://127.0.0.1:{up_port}/v1"\n'
               f'[providers.local.models.m]\ncontext_window = 32768\nmax_output_tokens = 4096\n'
               f'[tiers]\ndefault = ["local:m"]\n')
    procs = [subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "overhead.py"), "--upstream", str(up_port)])]
    pids = {}
    for kind in KINDS:
        home = Path(tempfile.mkdtemp(prefix="freeclaude-durable-"))
        (home / "profiles").mkdir()
        (home / "profiles" / "bench.toml").write_text(profile)
        env = {**os.environ, "FREECLAUDE_HOME": str(home)}
        argv = [sys.executable, __file__, "--gateway", str(ports[kind])]
        if kind != "waits" and args.against:
            env["PYTHONPATH"] = str(args.against)
            argv = [sys.executable, "-m", "freeclaude", "serve", "--profile", "bench", "--port", str(ports[kind]),
                    "--token", TOKEN]
        elif kind != "waits":
            argv.append("--no-wait")
        procs.append(subprocess.Popen(argv, env=env, cwd=tempfile.gettempdir(),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        pids[kind] = procs[-1].pid
    try:
        urls = {kind: f"http://127.0.0.1:{port}" for kind, port in ports.items()}
        for url in [*urls.values(), f"http://127.0.0.1:{up_port}"]:
            asyncio.run(wait_for(url + "/"))
        r = asyncio.run(bench(urls, pids, args.rounds))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {args.rounds} rounds; the other gateway: "
          f"{args.against or 'this one without the wait'}")
    print(f"50-chunk stream, time to the last byte (p50): {r['last_byte_ms']['waits']:.2f} ms waiting for the commit, "
          f"{r['last_byte_ms']['does not wait']:.2f} ms without; added by the wait p50 {r['added_p50_ms']:.2f} ms, "
          f"p95 {r['added_p95_ms']:.2f} ms; CPU a stream {r['one_cpu_us']['waits']:.0f} us vs "
          f"{r['one_cpu_us']['does not wait']:.0f} us")
    print(f"32 parallel 200-chunk streams (median of {PARALLEL_ROUNDS} paired rounds): {r['parallel_ms']['waits']:.1f} ms "
          f"waiting vs {r['parallel_ms']['does not wait']:.1f} ms, x{r['parallel_ratio']:.3f}; CPU a stream "
          f"{r['parallel_cpu_us']['waits']:.0f} us vs {r['parallel_cpu_us']['does not wait']:.0f} us")


if __name__ == "__main__":
    main()
