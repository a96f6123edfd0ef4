"""What a bounded answer saves on providers that reserve max_tokens out of the minute (Groq,
Cerebras): the real Claude Code runs a five-request session (write a file, read it, edit it, read
it again, say what it holds) through `freeclaude run` against each provider's strict emulator on
its free plan (which stops an answer at max_tokens), once with the template as shipped (the first ask bounded to an eighth of the
minute) and once with `reserves_max_tokens = false` (max_tokens as the room left allows). It
prints, per run, the tokens the provider counted against its minute (prompt + max_tokens, as the
emulator counts them), per request, the requests that asked the same turn again (a cut answer, or
another model after a refusal), the requests refused and the wall time.

Usage: python benchmarks/bounded.py [--lean off|core|minimal] [--claude-args "..."]
"""

import argparse
import asyncio
import copy
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from freeclaude.profiles import store
from tests.conftest import CLAUDE, run_claude
from tests.emulators import emulate, pointed
from tests.emulators.cerebras import prompt_tokens, requested_output
from tests.support.capture_session import PROMPT, Session


async def run(name: str, bounded: bool, lean: str | None, claude_args: list[str]) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"freeclaude-bounded-{name}-"))
    project = tmp / "project"
    project.mkdir()
    emulator, server, url = await emulate(name, Session(project))
    data, env = pointed(store.templates()[name], url, emulator.key)
    if not bounded:
        data = copy.deepcopy(data)
        data["providers"][name]["quirks"]["reserves_max_tokens"] = False
    start = time.monotonic()
    try:
        code, out, err, _, _ = await run_claude(tmp, CLAUDE, data, "-p", PROMPT, "--allowedTools", "Write,Read,Edit",
                                                *claude_args, env=env, timeout=900, run_opts=("--lean", lean) if lean else ())
    finally:
        await server.close()
    took = time.monotonic() - start
    counted = [prompt_tokens(r.body) + (requested_output(r.body) or 0) for r in emulator.received]
    bodies = [r.body["messages"] for r in emulator.received]
    again = sum(1 for before, after in zip(bodies, bodies[1:]) if before == after)  # the same turn once more
    return {"template": name, "bounded": bounded, "ok": code == 0 and "final" in out, "requests": len(counted),
            "counted": sum(counted), "per_request": sum(counted) // max(1, len(counted)),
            "asked_again": again, "refused": len(emulator.rejected), "seconds": took}


async def main(lean: str | None, claude_args: list[str]) -> None:
    print(f"Claude Code at lean level {lean or 'of the template'}" + (f", with {' '.join(claude_args)}" if claude_args else ""))
    print("| template | first ask | requests | tokens counted against the minute | per request | asked again "
          "| refused | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("groq", "cerebras"):
        for bounded in (False, True):
            r = await run(name, bounded, lean, claude_args)
            ask = "bounded" if bounded else "all the room"
            print(f"| {name} | {ask} | {r['requests']} | {r['counted']:,} | {r['per_request']:,} | {r['asked_again']} "
                  f"| {r['refused']} | {r['seconds']:.0f}{'' if r['ok'] else ' (failed)'} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lean", choices=("off", "core", "minimal"), help="run --lean (default: the template's own)")
    parser.add_argument("--claude-args", default="", help="passed on to claude")
    args = parser.parse_args()
    asyncio.run(main(args.lean, shlex.split(args.claude_args)))
