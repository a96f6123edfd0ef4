"""`freeclaude profile test`: a few probes per tier through the real gateway, measured.

Each tier's first model gets a plain answer, a tool call with exact expected arguments, two
parallel tool calls and a streamed answer, `rounds` times; the table shows success, tool-call
accuracy, latency, time to first token, tokens/s and price.
"""

import contextlib
import json
import statistics
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from freeclaude.gateway.config import Config
from freeclaude.gateway.server import Server
from freeclaude.profiles.providers import Model
from freeclaude.profiles.schema import TIERS, Profile
from freeclaude.service import home
from freeclaude.translate import sse
from freeclaude.translate.response import accumulate

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name, e.g. Paris"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city", "unit"]},
}
SYSTEM = "You are a precise assistant. When a tool fits the request, call it instead of answering in text."


# A probe: its name, the request body without a model, and its check of the final message,
# which says whether the answer is good and, for tool probes, whether the call was exact.
Probe = tuple[str, dict[str, Any], Callable[[dict[str, Any]], tuple[bool, bool | None]]]


def probes() -> list[Probe]:
    """(name, request body without model, check) — check gets the final message, returns (ok, tool_ok)."""

    def plain(msg: dict[str, Any]) -> tuple[bool, bool | None]:
        text = "".join(b.get("text", "") for b in msg["content"] if b["type"] == "text")
        return "pong" in text.lower(), None

    def one_call(msg: dict[str, Any]) -> tuple[bool, bool | None]:
        calls = [b for b in msg["content"] if b["type"] == "tool_use"]
        exact = (len(calls) == 1 and calls[0]["name"] == "get_weather"
                 and _norm(calls[0]["input"]) == {"city": "paris", "unit": "celsius"})
        return bool(calls), exact

    def two_calls(msg: dict[str, Any]) -> tuple[bool, bool | None]:
        calls = [b for b in msg["content"] if b["type"] == "tool_use"]
        got = sorted(json.dumps(_norm(c["input"]), sort_keys=True) for c in calls if c["name"] == "get_weather")
        want = sorted(json.dumps({"city": c, "unit": "celsius"}, sort_keys=True) for c in ("paris", "tokyo"))
        return bool(calls), got == want

    def streamed(msg: dict[str, Any]) -> tuple[bool, bool | None]:
        text = "".join(b.get("text", "") for b in msg["content"] if b["type"] == "text")
        return all(str(n) in text for n in (1, 5, 10)), None

    def user(text: str) -> list[dict]:
        return [{"role": "user", "content": text}]

    return [
        ("plain", {"max_tokens": 64, "messages": user("Reply with the single word: pong")}, plain),
        ("tool call", {"max_tokens": 512, "system": SYSTEM, "tools": [WEATHER],
                       "messages": user("What is the weather in Paris, in celsius?")}, one_call),
        ("parallel calls", {"max_tokens": 512, "system": SYSTEM, "tools": [WEATHER],
                            "messages": user("Get the weather in Paris and in Tokyo, both in celsius: "
                                             "call the tool once per city, both calls at once.")}, two_calls),
        ("streamed", {"max_tokens": 256, "stream": True,
                      "messages": user("Count from 1 to 10, numbers separated by spaces, nothing else.")}, streamed),
    ]


def _norm(args: dict) -> dict:
    return {k: v.strip().lower() if isinstance(v, str) else v for k, v in args.items()}


async def send(session: aiohttp.ClientSession, server: Server, body: dict) -> tuple[dict | None, float, float | None, str | None]:
    """The final message, latency, time to first token, error."""
    start = time.monotonic()
    first = None
    headers = {"Authorization": f"Bearer {server.config.token}"}
    async with session.post(server.base_url + "/v1/messages", json=body, headers=headers) as r:
        if r.status != 200:
            error = (await r.json(content_type=None)).get("error", {})
            return None, time.monotonic() - start, None, f"{r.status} {error.get('message', '')}"[:200]
        if not body.get("stream"):
            msg = await r.json()
            return msg, time.monotonic() - start, None, None
        decoder, events = sse.Decoder(), []
        async for chunk in r.content.iter_any():
            for name, data in decoder.feed(chunk):
                if name == "error":
                    return None, time.monotonic() - start, first, json.loads(data)["error"]["message"][:200]
                if name == "content_block_delta" and first is None:
                    first = time.monotonic() - start
                events.append((name, json.loads(data)))
        return accumulate(events), time.monotonic() - start, first, None


def first_models(profile: Profile) -> list[tuple[list[str], Model]]:
    """Each tier's first model, with the tiers it serves: a model shared by tiers comes once."""
    targets: dict[str, tuple[list[str], Model]] = {}
    for tier in TIERS:
        chain = profile.chain(tier)
        if chain:
            targets.setdefault(chain[0].ref, ([], chain[0]))[0].append(tier)
    return list(targets.values())


@contextlib.asynccontextmanager
async def gateway(profile: Profile, max_wait: float = 30,
                  timeout: float | None = None) -> AsyncIterator[tuple[aiohttp.ClientSession, Server]]:
    """A short-lived gateway in this process and a client session for it."""
    server = Server(Config(profile=profile, ledger_path=home.ledger_path(), max_wait=max_wait))
    await server.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            yield session, server
    finally:
        await server.stop()


async def run(profile: Profile, console: Console, rounds: int = 2) -> list[dict]:
    checks = probes()
    results = []
    async with gateway(profile) as (session, server):
        with Progress(console=console, transient=True) as progress:
            for tiers, model in first_models(profile):
                tier = ", ".join(tiers)
                task = progress.add_task(f"{tier}: {model.ref}", total=rounds * len(checks))
                results.append(await _tier(session, server, tier, model, checks, rounds, progress, task))
    return results


async def _tier(session: aiohttp.ClientSession, server: Server, tier: str, model: Model, probes: list[Probe],
                rounds: int, progress: Progress, task: TaskID) -> dict[str, Any]:
    latencies: list[float] = []
    ttfts: list[float] = []
    rates: list[float] = []
    errors: list[str] = []
    ok = tool_ok = tool_total = 0
    for _ in range(rounds):
        for name, body, check in probes:
            msg, latency, ttft, error = await send(session, server, {"model": model.name, **body})
            progress.advance(task)
            latencies.append(latency)
            if error or msg is None:
                errors.append(f"{name}: {error}")
                if "tool" in name or "parallel" in name:
                    tool_total += 1
                continue
            good, exact = check(msg)
            ok += good
            if exact is not None:
                tool_total += 1
                tool_ok += exact
            if ttft is not None:
                ttfts.append(ttft)
                out = msg["usage"]["output_tokens"]
                if latency > ttft and out:
                    rates.append(out / (latency - ttft))
    total = rounds * len(probes)
    return {
        "tier": tier, "provider": model.provider, "model": model.name, "probes": total,
        "success": round(ok / total, 3), "tool_accuracy": round(tool_ok / tool_total, 3) if tool_total else None,
        "latency_p50_ms": _ms(_pct(latencies, 50)), "latency_p95_ms": _ms(_pct(latencies, 95)),
        "ttft_ms": _ms(statistics.median(ttfts)) if ttfts else None,
        "tokens_per_s": round(statistics.median(rates), 1) if rates else None,
        "input_usd_per_mtok": model.input_price, "output_usd_per_mtok": model.output_price,
        "errors": errors, "limits": server.pacer.stated(model),
    }


def _pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


MARKDOWN_HEADER = ("| model | tiers | answers | tool calls | latency p50 / p95 | TTFT | tokens/s | checked |\n"
                   "|---|---|---|---|---|---|---|---|")


def markdown(results: list[dict], source: str) -> str:
    """One shareable row per model probed; `source` says what was tested (a profile, a template)."""
    from freeclaude import __version__

    day = time.strftime("%Y-%m-%d")
    rows = [MARKDOWN_HEADER]
    for r in results:
        tools = "–" if r["tool_accuracy"] is None else f"{r['tool_accuracy']:.0%}"
        latency = "–" if r["latency_p50_ms"] is None else f"{r['latency_p50_ms']:,} / {r['latency_p95_ms']:,} ms"
        ttft = "–" if r["ttft_ms"] is None else f"{r['ttft_ms']:,} ms"
        rate = "–" if r["tokens_per_s"] is None else f"{r['tokens_per_s']:,.0f}"
        errors = f" ({len(r['errors'])} failed: {r['errors'][0]})" if r["errors"] else ""
        rows.append(f"| `{r['provider']}:{r['model']}` | {r['tier']} | {r['success']:.0%}{errors} | {tools} | "
                    f"{latency} | {ttft} | {rate} | {day}, {source}, freeclaude {__version__} |")
    return "\n".join(rows)


def limits_line(limits: dict[str, dict]) -> str:
    """What the provider's headers said of the plan, against the profile: "tpm 250,000 (profile
    8,000), 236,000 left"."""
    parts = []
    for name, s in sorted(limits.items()):
        value = f"{s['stated']:,}" if s["stated"] else "?"
        if s["profile"] and s["profile"] != s["stated"]:
            value += f" (profile {s['profile']:,})"
        parts.append(f"{name} {value}" + (f", {s['remaining']:,} left" if s["remaining"] is not None else ""))
    return "; ".join(parts)


def table(results: list[dict]) -> Table:
    t = Table(header_style="bold")
    learned = any(r.get("limits") for r in results)  # the column only where a provider stated its plan
    stated = ("limits the provider stated",) if learned else ()
    for header in ("tier", "model", "success", "tool accuracy", "p50 ms", "p95 ms", "TTFT ms", "tok/s", "$/Mtok in/out",
                   *stated, "errors"):
        t.add_column(header, justify="left" if header in ("tier", "model", "errors", *stated) else "right")
    def dash(value: object, fmt: str = "{}") -> str:
        return "–" if value is None else fmt.format(value)

    for r in results:
        t.add_row(r["tier"], f"{r['provider']}:{r['model']}", f"{r['success']:.0%}", dash(r["tool_accuracy"], "{:.0%}"),
                  dash(r["latency_p50_ms"]), dash(r["latency_p95_ms"]), dash(r["ttft_ms"]), dash(r["tokens_per_s"]),
                  f"{r['input_usd_per_mtok']:g} / {r['output_usd_per_mtok']:g}",
                  *((limits_line(r.get("limits") or {}) or "none",) if learned else ()), "\n".join(r["errors"][:3]) or "")
    return t
