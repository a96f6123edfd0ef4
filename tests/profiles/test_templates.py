"""Every built-in template, unchanged but for its base URL, against a strict emulator of the
provider it names (tests/emulators): `profile test` passes on every tier, and the real Claude Code
runs a multi-turn tool loop through `freeclaude run`, each turn's provider state carried back."""

import asyncio
import io

import pytest
from rich.console import Console

from freeclaude.diagnose import probe
from freeclaude.profiles import schema, store
from tests.conftest import run_claude
from tests.emulators import emulate, pointed, registry
from tests.emulators.brain import Writer

TEMPLATES = store.templates()
EMULATORS = registry()
FILES = ("first.txt", "second.txt")
# What a free plan does with Claude Code (at a lean level, or the template's own: None), checked
# before the loop runs on the paid plan with the template unchanged (the gateway learns the paid
# plan's limits from its headers):
FREE_PLAN = {
    # Groq: 8K tokens a minute, counted on prompt + max_tokens, holds no request of Claude Code's
    # whole prompt: the first goes once to learn the plan (a 413 that names the limit), then it is
    # refused at once, the limit named on stderr. At the template's own level, minimal (about 1K
    # tokens), it answers.
    "groq": (("off", "refused"), (None, "answers")),
    # Cerebras: 30K tokens a minute, refilled continuously, holds a request of the whole prompt
    # with a bounded answer: it answers at either level.
    "cerebras": (("off", "answers"), (None, "answers")),
}


def test_every_template_has_an_emulator():
    assert sorted(set(TEMPLATES) - set(EMULATORS)) == []
    assert sorted(set(EMULATORS) - set(TEMPLATES)) == []


@pytest.mark.parametrize("name", sorted(TEMPLATES))
async def test_profile_test_passes_against_the_emulator(name, tmp_path, monkeypatch):
    emulator, server, url = await emulate(name)
    try:
        data, env = pointed(TEMPLATES[name], url, emulator.key)
        for var, value in env.items():
            monkeypatch.setenv(var, value)
        monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path))
        results = await probe.run(schema.parse(data, name, name), Console(file=io.StringIO()), rounds=1)
    finally:
        await server.close()
    assert results
    for r in results:
        assert (r["success"], r["tool_accuracy"], r["errors"]) == (1.0, 1.0, []), (r, emulator.rejected)


@pytest.mark.claude
async def test_claude_code_runs_a_tool_loop_against_every_emulator(tmp_path, claude_bin):
    """All templates at once, a few Claude Codes at a time (each is a Node process on 2 cores)."""
    gate = asyncio.Semaphore(3)

    async def one(name: str) -> str | None:
        async with gate:
            home = tmp_path / name
            project = home / "project"
            project.mkdir(parents=True)
            emulator, server, url = await emulate(name, Writer(project))
            try:
                data, env = pointed(TEMPLATES[name], url, emulator.key)
                checks = FREE_PLAN.get(name, ())
                for level, expected in checks:
                    free = {**data, "lean": level} if level else data
                    emulator.received.clear()
                    emulator.rejected.clear()
                    code, out, err, _, _ = await run_claude(home / "free", claude_bin, free, "-p", "Say hi.", env=env)
                    if expected == "refused":
                        # Claude Code words it its own way; the bill on stderr names the provider's limit
                        wrong = (code == 0 or "prompt is too long" not in out.lower() or len(emulator.received) != 1
                                 or [s for s, _ in emulator.rejected] != [413]
                                 or "tokens-per-minute limit" not in " ".join(err.split()))
                    else:
                        wrong = code != 0 or "OK" not in out or emulator.rejected
                    if wrong:
                        return (f"{name} (free plan, {level or 'its'} lean level, {expected}): exit {code}, sent "
                                f"{len(emulator.received)}, refused {emulator.rejected[:2]}\n  stdout: {out[-400:]}\n"
                                f"  stderr: {err[-600:]}")
                if checks:
                    emulator.paid_plan()
                    emulator.rejected.clear()
                code, out, err, _, _ = await run_claude(  # Edit: how minimal mode writes a file
                    home, claude_bin, data, "-p", f"Write {FILES[0]} and then {FILES[1]}, one at a time.",
                    "--allowedTools", "Write,Edit", env=env)
            finally:
                await server.close()
            written = [f for f in FILES if (project / f).is_file()]
            if code != 0 or written != list(FILES) or f"Wrote {', '.join(FILES)}." not in out or emulator.rejected:
                return (f"{name}: exit {code}, wrote {written}, refused {emulator.rejected[:2]}\n"
                        f"  stdout: {out[-400:]}\n  stderr: {err[-400:]}")
            return None

    failures = [f for f in await asyncio.gather(*(one(n) for n in sorted(TEMPLATES))) if f]
    assert not failures, "\n".join(failures)
