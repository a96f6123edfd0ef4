"""The real Claude Code, through `freeclaude run`, against a model served without a tool parser:
its Write call comes as GLM-4.5's text (<tool_call>NAME<arg_key>…<arg_value>…, the shape of
lmstudio-ai/lmstudio-bug-tracker#829, which Claude Code alone shows as its answer and stops), and
the file must be written all the same."""

import json
from pathlib import Path

import pytest

from tests.conftest import run_claude
from tests.e2e.test_claude_code import FILE_CONTENT, fake_profile
from tests.support.fakes import Json, Stream, chunk, completion, usage

pytestmark = pytest.mark.claude

ANSWER = "The file is written."


class TextCallingModel:
    """Writes its one call into the content, in small pieces, and says it did once the tool ran."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.requests: list[dict] = []

    def __call__(self, body: dict):
        self.requests.append(body)
        tools = {t["function"]["name"] for t in body.get("tools") or ()}
        done = any(m["role"] == "tool" for m in body["messages"])
        if "Write" in tools and not done:
            text = (f"I'll create the file with the Write tool.\n<tool_call>Write\n<arg_key>file_path</arg_key>\n"
                    f"<arg_value>{self.target}</arg_value>\n<arg_key>content</arg_key>\n<arg_value>{FILE_CONTENT}</arg_value>\n"
                    f"</tool_call>")
            pieces = [text[i:i + 7] for i in range(0, len(text), 7)]
            return Stream([chunk({"role": "assistant", "content": ""})] + [chunk({"content": p}) for p in pieces]
                          + [chunk(finish="stop"), chunk(usage=usage(900, 60))])
        text = ANSWER if done else "Greeting"
        if not body.get("stream"):
            return Json(completion({"content": text}))
        return Stream([chunk({"content": text}), chunk(finish="stop"), chunk(usage=usage(900, 5))])


async def test_claude_code_runs_a_call_the_model_wrote_as_text(tmp_path, fake, claude_bin):
    model = TextCallingModel(tmp_path / "project" / "hello.txt")
    fake.default = model
    code, out, err, _, project = await run_claude(
        tmp_path, claude_bin, fake_profile(fake.url), "-p", "Create hello.txt saying hello", "--allowedTools", "Write")
    assert code == 0, f"stdout: {out}\nstderr: {err}"
    assert (project / "hello.txt").read_text() == FILE_CONTENT
    assert ANSWER in out and "<arg_key>" not in out
    # the call went back to the model as a call, answered by Claude Code's tool result
    last = model.requests[-1]["messages"]
    calls = [c for m in last if m["role"] == "assistant" for c in m.get("tool_calls") or ()]
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])["file_path"]) for c in calls] == \
        [("Write", str(model.target))]
    assert any(m["role"] == "tool" for m in last)
