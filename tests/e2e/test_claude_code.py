"""The real Claude Code, from npm, through `freeclaude run`, against a scripted loopback upstream."""

import json
import sqlite3
from pathlib import Path

import pytest

from freeclaude.translate.tokens import count_text
from tests.conftest import KEY, run_claude
from tests.support.fakes import Json, Stream, call, chunk, usage
from tests.support.fakes import completion as make_completion

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


class RateLimitedSmallModel:
    """Issue 4's upstream: a 32k window, an 8k output cap, and a 429 for every second request.
    It writes the next missing file each turn (about 700 tokens each, so the history outgrows
    the window and Claude Code has to compact), answers compaction requests with a summary,
    and reports as usage the prompt size it was sent, as a real model would."""

    def __init__(self, project: Path, files: int) -> None:
        self.project = project
        self.files = files
        self.calls = 0
        self.served: list[tuple[int, int]] = []
        self.max_tokens: list[int] = []
        self.compactions = 0

    def __call__(self, body: dict):
        self.calls += 1
        if self.calls % 2 == 0:
            return Json({"error": {"message": "rate limited, try again"}}, status=429, headers={"Retry-After": "0.3"})
        self.max_tokens.append(body["max_tokens"])
        prompt = count_text(json.dumps(body["messages"])) + count_text(json.dumps(body.get("tools") or []))
        self.served.append((prompt, 30))
        end = [chunk(finish="stop"), chunk(usage=usage(prompt, 30))]
        if "Respond with TEXT ONLY" in str(body["messages"][-1].get("content")):
            self.compactions += 1
            return Stream([chunk({"content": "<summary>Writing the parts one by one.</summary>"})] + end)
        missing = [i for i in range(self.files) if not (self.project / f"part{i}.txt").exists()]
        if not missing:
            return Stream([chunk({"content": f"All {self.files} parts are written."})] + end)
        n = missing[0]
        args = json.dumps({"file_path": str(self.project / f"part{n}.txt"), "content": "word " * 700 + f"part {n}\n"})
        return Stream([chunk({"content": f"Writing part {n}."}),
                       chunk({"tool_calls": [call(0, f"call_{self.calls}", "Write", args[:12])]}),
                       chunk({"tool_calls": [call(0, args=args[12:])]}),
                       chunk(finish="tool_calls"), chunk(usage=usage(prompt, 30))])


async def test_a_long_session_on_a_rate_limited_small_model(tmp_path, fake, claude_bin):
    project = tmp_path / "project"
    upstream = RateLimitedSmallModel(project, files=24)
    fake.default = upstream
    data = fake_profile(fake.url, window=32768)
    data["providers"]["fake"]["models"]["free-model"]["max_output_tokens"] = 8192
    code, out, err, home, _ = await run_claude(
        tmp_path, claude_bin, data, "-p", "Write part0.txt to part23.txt", "--allowedTools", "Write", timeout=300)
    assert code == 0, f"stdout: {out}\nstderr: {err}"
    assert out.strip() == "All 24 parts are written."  # and nothing else: no error reached the user
    assert all((project / f"part{i}.txt").exists() for i in range(24))
    assert upstream.compactions >= 1  # the history outgrew the 32k window and Claude Code compacted
    assert max(upstream.max_tokens) <= 8192 and max(p for p, _ in upstream.served) < 32768
    rows = sqlite3.connect(home / "usage.db").execute(
        "SELECT outcome, input_tokens, output_tokens FROM attempts ORDER BY id").fetchall()
    assert len(rows) == upstream.calls  # every attempt, the refused ones too
    assert sorted((r[1], r[2]) for r in rows if r[0] == "ok") == sorted(upstream.served)
    assert sum(r[0] == "rate_limit_error" for r in rows) == upstream.calls // 2


async def test_run_wins_over_a_gateway_in_the_users_settings(tmp_path, fake, claude_bin):
    """After `ide install claude` the user's settings.json `env` names the background gateway,
    and Claude Code applies that over its own environment: run must still get its Claude Code.
    The settings here name a port nothing listens on, so only run's gateway can answer."""
    project = tmp_path / "project"
    upstream = Upstream(project / "hello.txt")
    fake.default = upstream
    settings = tmp_path / "user-home" / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    mine = {"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9", "ANTHROPIC_AUTH_TOKEN": "fc-elsewhere"}}
    settings.write_text(json.dumps(mine))
    code, out, err, home, project = await run_claude(
        tmp_path, claude_bin, fake_profile(fake.url), "-p", "Create hello.txt saying hello", "--allowedTools", "Write")
    assert code == 0, f"stdout: {out}\nstderr: {err}"
    assert (project / "hello.txt").read_text() == FILE_CONTENT and ANSWER in out
    assert json.loads(settings.read_text()) == mine  # theirs, untouched
    assert not list(home.glob("run-*-settings.json"))  # the run's own, with its token, is gone
