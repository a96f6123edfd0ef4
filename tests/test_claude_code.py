"""The real Claude Code, from npm, through `freeclaude run`, against a scripted loopback upstream."""

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import KEY, run_claude
from tests.fakes import Json, Stream, call, chunk, usage
from tests.fakes import completion as make_completion

pytestmark = pytest.mark.claude

FILE_CONTENT = "hello from a free model\n"
ANSWER = "I wrote hello.txt for you."


class Upstream:
    """Answers like a model that writes the file with Write, then says it did; anything else
    Claude Code asks on the side (titles, summaries) gets a short text answer. Every answer
    reports its usage, so the ledger can be checked against exactly these numbers."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.reported: list[tuple[int, int]] = []
        self.requests: list[dict] = []

    def __call__(self, body: dict):
        self.requests.append(body)
        n = len(self.reported) + 1
        prompt, completion = 1000 + n, 10 + n
        self.reported.append((prompt, completion))
        tools = {t["function"]["name"] for t in body.get("tools") or ()}
        results = [m for m in body["messages"] if m["role"] == "tool"]
        if "Write" in tools and not results:
            args = json.dumps({"file_path": str(self.target), "content": FILE_CONTENT})
            pieces = [args[i:i + 9] for i in range(0, len(args), 9)]
            chunks = ([chunk({"role": "assistant", "content": ""}), chunk({"content": "Writing the file."}),
                       chunk({"tool_calls": [call(0, "call_w1", "Write", "")]})]
                      + [chunk({"tool_calls": [call(0, args=p)]}) for p in pieces]
                      + [chunk(finish="tool_calls"), chunk(usage=usage(prompt, completion))])
            return Stream(chunks)
        text = ANSWER if results else "Greeting"
        if not body.get("stream"):
            return Json(make_completion({"content": text}, prompt=prompt, completion_tokens=completion))
        return Stream([chunk({"content": text[:5]}), chunk({"content": text[5:]}), chunk(finish="stop"),
                       chunk(usage=usage(prompt, completion))])


def fake_profile(url: str, window: int = 200000) -> dict:
    return {"providers": {"fake": {"kind": "openai", "base_url": url, "api_key_env": "FAKE_KEY", "models": {
                "free-model": {"context_window": window, "max_output_tokens": 16384, "input_price": 0.5, "output_price": 1.5}}}},
            "tiers": {"default": ["fake:free-model"]}}


async def test_claude_code_writes_a_file_through_freeclaude(tmp_path, fake, claude_bin):
    project = tmp_path / "project"
    upstream = Upstream(project / "hello.txt")
    fake.default = upstream
    code, out, err, home, project = await run_claude(
        tmp_path, claude_bin, fake_profile(fake.url), "-p", "Create hello.txt saying hello", "--allowedTools", "Write")
    assert code == 0, f"stdout: {out}\nstderr: {err}"
    assert (project / "hello.txt").read_text() == FILE_CONTENT
    assert ANSWER in out
    # the tool result went back to the model
    assert any(m["role"] == "tool" for m in upstream.requests[-1]["messages"])
    # the ledger holds exactly what the upstream reported, request by request
    db = sqlite3.connect(home / "usage.db")
    rows = db.execute("SELECT input_tokens, output_tokens, outcome, usage_estimated FROM attempts ORDER BY id").fetchall()
    assert sorted((r[0], r[1]) for r in rows) == sorted(upstream.reported)
    assert all(r[2] == "ok" and r[3] == 0 for r in rows)
    # the bill on stderr says the same
    total_in = sum(p for p, _ in upstream.reported)
    assert f"{total_in:,}" in err
    assert KEY not in out + err
