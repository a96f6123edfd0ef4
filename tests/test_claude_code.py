"""The real Claude Code, from npm, through `freeclaude run`, against a scripted loopback upstream."""

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.conftest import KEY
from tests.fakes import Json, Stream, call, chunk, usage
from tests.fakes import completion as make_completion

ROOT = Path(__file__).resolve().parent.parent
CLAUDE = ROOT / "node_modules" / ".bin" / "claude"
pytestmark = pytest.mark.claude

FILE_CONTENT = "hello from a free model\n"
ANSWER = "I wrote hello.txt for you."


@pytest.fixture
def claude_bin() -> Path:
    if not CLAUDE.exists():
        pytest.fail(f"Claude Code is not installed at {CLAUDE}: run `npm ci` in {ROOT}")
    return CLAUDE


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


def profile_toml(url: str, window: int = 200000) -> str:
    return (f'[providers.fake]\nkind = "openai"\nbase_url = "{url}"\napi_key_env = "FAKE_KEY"\n'
            f'[providers.fake.models.free-model]\ncontext_window = {window}\nmax_output_tokens = 16384\n'
            f'input_price = 0.5\noutput_price = 1.5\n[tiers]\ndefault = ["fake:free-model"]\n')


async def run_claude(tmp_path: Path, claude: Path, url: str, *claude_args: str, window: int = 200000, timeout: float = 180):
    home = tmp_path / "fc-home"
    (home / "profiles").mkdir(parents=True, exist_ok=True)
    (home / "profiles" / "p.toml").write_text(profile_toml(url, window))
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    user_home = tmp_path / "user-home"  # Claude Code's own config starts empty
    user_home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
    env.update(HOME=str(user_home), FREECLAUDE_HOME=str(home), FREECLAUDE_CLAUDE=str(claude), FAKE_KEY=KEY,
               COLUMNS="200", CI="1")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "freeclaude", "run", "--profile", "p", "--", *claude_args,
        cwd=project, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        stdout, stderr = await proc.communicate()
        raise AssertionError(f"claude did not finish: {stdout.decode()}\n{stderr.decode()}")
    return proc.returncode, stdout.decode(), stderr.decode(), home, project


async def test_claude_code_writes_a_file_through_freeclaude(tmp_path, fake, claude_bin):
    project = tmp_path / "project"
    upstream = Upstream(project / "hello.txt")
    fake.default = upstream
    code, out, err, home, project = await run_claude(
        tmp_path, claude_bin, fake.url, "-p", "Create hello.txt saying hello", "--allowedTools", "Write")
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
