"""Records the requests of one multi-turn Claude Code session, as Claude Code sends them, to a
loopback Messages API that answers as a scripted model: write a file, read it, edit it, read it
again, say what it holds. The prose (Claude Code's system prompt, tool descriptions, reminders,
tool results) is elided, each string into its length and a hash of it, so a text that changes
between requests still shows as changed. The user's own prompt and every key, id and tool name
stay as sent.

    python -m tests.support.capture_session OUT.json [path/to/claude]

tests/gateway/test_prefix.py reads the file it writes (tests/wire/sessions/claude-code-<version>.json).
"""

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from aiohttp.test_utils import TestServer

from tests.emulators.base import AnthropicEmulator
from tests.emulators.brain import Call, Turn, View

PROMPT = "Write notes.txt saying draft, read it, change draft to final, read it again and tell me what it says."
KEEP = {PROMPT}
SHORT = 40  # strings this short are names, ids, paths or values, not prose


class Session:
    """The scripted model: one step per tool result seen."""

    def __init__(self, project: Path) -> None:
        self.path = str(project / "notes.txt")

    def __call__(self, view: View) -> Turn:
        if "notes.txt" not in view.user or "Edit" not in view.tools:
            return Turn(text="OK")  # Claude Code's side requests
        write = (Call("Write", {"file_path": self.path, "content": "draft\n"}) if "Write" in view.tools else
                 Call("Edit", {"file_path": self.path, "old_string": "", "new_string": "draft\n"}))  # minimal mode
        steps = [write, Call("Read", {"file_path": self.path}),
                 Call("Edit", {"file_path": self.path, "old_string": "draft", "new_string": "final"}),
                 Call("Read", {"file_path": self.path})]
        done = len(view.results)
        if done < len(steps):
            return Turn(reasoning=f"Step {done + 1}.", text=f"Step {done + 1}.", calls=[steps[done]])
        return Turn(reasoning="Done.", text="notes.txt says: final")


def elide(value):
    if isinstance(value, dict):
        return {k: elide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [elide(v) for v in value]
    if isinstance(value, str) and len(value) > SHORT and value not in KEEP \
            and not value.startswith("x-anthropic-billing-header"):
        digest = hashlib.sha256(value.encode()).hexdigest()[:12]
        return f"<{len(value)} characters of prose, elided, sha256 {digest}>"
    return value


async def capture(out: Path, claude: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project, home = Path(tmp) / "project", Path(tmp) / "home"
        project.mkdir()
        home.mkdir()
        emulator = AnthropicEmulator(Session(project))
        server = TestServer(emulator.app(), host="127.0.0.1")
        await server.start_server()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
        env.update(HOME=str(home), ANTHROPIC_BASE_URL=str(server.make_url("")).rstrip("/"),
                   ANTHROPIC_AUTH_TOKEN=emulator.key, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", CI="1")
        try:
            done = await asyncio.to_thread(subprocess.run, [claude, "-p", PROMPT, "--allowedTools", "Write,Read,Edit"],
                                           cwd=project, env=env, capture_output=True, text=True, timeout=300)
        finally:
            await server.close()
        version = subprocess.run([claude, "--version"], capture_output=True, text=True, env=env).stdout.split()[0]
    if "final" not in done.stdout:
        sys.exit(f"the session did not finish: {done.stdout}\n{done.stderr}")
    requests = [{"method": "POST", "path": r.path, "body": elide(r.body)} for r in emulator.received]
    out.write_text(json.dumps({"claude_code": version, "prompt": PROMPT, "requests": requests}, indent=1) + "\n")
    print(f"{len(requests)} requests of Claude Code {version} in {out}")


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2]
    asyncio.run(capture(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else str(root / "node_modules/.bin/claude")))
