"""Free plans that hold a Claude Code session (issue 16's proof): the real Claude Code, the groq
and cerebras templates as shipped (their lean level, minimal, included), against the strict Groq
and Cerebras emulators, which count prompt + max_tokens per minute, stop an answer at max_tokens
and state the plan in their headers as the providers do."""

import time

import pytest

from freeclaude.profiles import store
from tests.conftest import run_claude
from tests.emulators import emulate, pointed
from tests.emulators.brain import Call, Turn, WriteRead

pytestmark = pytest.mark.claude

PROMPT = "Write notes.txt, then read it back and tell me what it says."


async def loop(tmp_path, claude_bin, name: str, *run_opts: str, plan=None):
    """The three-step loop (write a file, read it back, answer) through `freeclaude run`; the
    emulator, Claude Code's exit code and output, and the seconds it took."""
    project = tmp_path / "project"
    project.mkdir()
    emulator, server, url = await emulate(name, WriteRead(project))
    if plan:
        plan(emulator)
    data, env = pointed(store.templates()[name], url, emulator.key)
    start = time.monotonic()
    try:
        code, out, err, _, _ = await run_claude(tmp_path, claude_bin, data, "-p", PROMPT, "--allowedTools", "Write,Read,Bash",
                                                env=env, timeout=400, run_opts=run_opts)
    finally:
        await server.close()
    took = time.monotonic() - start
    assert code == 0 and "notes.txt says: hello from a free plan" in out, f"stdout: {out}\nstderr: {err}"
    assert (project / "notes.txt").read_text() == "hello from a free plan\n"
    assert emulator.rejected == [], emulator.rejected  # paced, never refused
    return emulator, took


async def test_groq_free_plan_holds_the_loop(tmp_path, claude_bin):
    emulator, _ = await loop(tmp_path, claude_bin, "groq")
    asked = [r.body["max_tokens"] for r in emulator.received]
    assert len(asked) >= 3 and max(asked) <= 1024  # bounded answers: an eighth of the 8K minute


async def test_cerebras_free_trial_runs_the_loop_in_under_90_s(tmp_path, claude_bin):
    emulator, took = await loop(tmp_path, claude_bin, "cerebras")
    assert took < 90 and len(emulator.received) >= 3


async def test_groq_developer_plan_takes_claude_codes_whole_prompt(tmp_path, claude_bin):
    emulator, _ = await loop(tmp_path, claude_bin, "groq", "--lean", "off", plan=lambda e: e.paid_plan())
    first, *rest = [r.body for r in emulator.received]
    assert len(first["tools"]) >= 10 and len(str(first)) > 40_000  # the full prompt, nothing left out
    # The first request was over the free plan's 8K minute: sent once, and Groq's headers told the
    # plan's 250K, so the next ones asked for answers bigger than the whole free minute.
    assert all(r["max_tokens"] > 8000 for r in rest)


class LongWrite:
    """Writes one file longer than a bounded answer holds (about 5K tokens), then says so."""

    CONTENT = "".join(f"line {i}: " + "x" * 60 + "\n" for i in range(300))

    def __init__(self, project) -> None:
        self.path = str(project / "long.txt")

    def __call__(self, view):
        if "long.txt" not in view.user or "Write" not in view.tools:
            return Turn(text="OK")
        if not view.results:
            return Turn(text="Writing it.", calls=[Call("Write", {"file_path": self.path, "content": self.CONTENT})])
        return Turn(text="Wrote long.txt.")


async def test_an_answer_longer_than_the_bound_is_asked_again_and_arrives_whole(tmp_path, claude_bin):
    project = tmp_path / "project"
    project.mkdir()
    emulator, server, url = await emulate("cerebras", LongWrite(project))
    data, env = pointed(store.templates()["cerebras"], url, emulator.key)
    try:
        code, out, err, _, _ = await run_claude(tmp_path, claude_bin, data, "-p", "Write long.txt.",
                                                "--allowedTools", "Write", env=env, run_opts=("--lean", "core"))
    finally:
        await server.close()
    assert code == 0 and "Wrote long.txt." in out, f"stdout: {out}\nstderr: {err}"
    assert (project / "long.txt").read_text() == LongWrite.CONTENT  # whole: Claude Code never saw the cut one
    asked = [r.body["max_completion_tokens"] for r in emulator.received]
    assert asked[:2] == [3750, 15000] and emulator.rejected == []
