"""The real Claude Code, interactive, under `freeclaude run` in tmux, against a scripted loopback
upstream: the statusline names the upstream model; /model lists the profile's models, and one
picked there answers; a session moved to the background outlives the foreground and is still
served. Runs on the pinned Claude Code, or the one FREECLAUDE_TEST_CLAUDE names."""

import json
import os
import subprocess
import sys

import pytest
import tomli_w

from tests.conftest import KEY
from tests.support.fakes import Json, Stream, completion, text_chunks
from tests.support.tmux import Tmux

pytestmark = pytest.mark.claude

ANSWER = "Hello from the scripted model."


def upstream(body: dict):
    """Says hello, reporting 1,200 tokens in and 34 out, whatever it is asked."""
    if body.get("stream"):
        return Stream(text_chunks(ANSWER, prompt=1200, completion=34))
    return Json(completion({"content": ANSWER}, prompt=1200, completion_tokens=34))


@pytest.fixture
async def screen(tmp_path, fake, claude_bin):
    """Claude Code under `freeclaude run --profile p` in tmux, in a fresh Claude Code home whose
    onboarding is done and whose project folder is trusted."""
    fake.default = upstream
    home, user, project = tmp_path / "fc-home", tmp_path / "user-home", tmp_path / "project"
    for d in (home / "profiles", user, project):
        d.mkdir(parents=True)
    (home / "profiles" / "p.toml").write_text(tomli_w.dumps({
        "providers": {"fake": {"kind": "openai", "base_url": fake.url, "api_key_env": "FAKE_KEY", "models": {
            "scripted-big": {"context_window": 200000, "max_output_tokens": 16384, "input_price": 0.5,
                             "output_price": 1.5},
            "scripted-small": {"context_window": 128000}}}},
        "tiers": {"opus": ["fake:scripted-big"], "sonnet": ["fake:scripted-small"], "haiku": ["fake:scripted-small"]}}))
    (user / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True,
                                                   "projects": {str(project): {"hasTrustDialogAccepted": True}}}))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANTHROPIC_", "CLAUDE", "TMUX")) and k not in ("COLUMNS", "LINES")}
    env.update(HOME=str(user), FREECLAUDE_HOME=str(home), FREECLAUDE_CLAUDE=str(claude_bin), FAKE_KEY=KEY,
               TERM="xterm-256color")
    tmux = Tmux(tmp_path.name[-20:], env)
    session = Session(tmux, env, project, claude_bin, fake)
    try:
        yield session
    finally:
        tmux.close()
        subprocess.run([str(claude_bin), "daemon", "stop", "--any"], env=env, capture_output=True, timeout=60)


class Session:
    def __init__(self, tmux: Tmux, env: dict, project, claude, fake) -> None:
        self.tmux, self.env, self.project, self.claude, self.fake = tmux, env, project, claude, fake
        self.main = None

    async def start(self) -> None:
        self.main = self.tmux.open([sys.executable, "-m", "freeclaude", "run", "--profile", "p"], self.project)
        found = await self.tmux.wait_for(self.main, r"for agents|Yes, I trust this folder", 90)
        if "trust" in found.group(0):  # newer Claude Codes may ask again despite hasTrustDialogAccepted
            self.tmux.send(self.main, "Down", "Enter")
            await self.tmux.wait_for(self.main, r"for agents", 60)

    async def say(self, text: str, target=None) -> None:
        target = target or self.main
        self.tmux.type(target, text)
        await self.tmux.wait_for(target, text.replace("?", r"\?"), 10)
        self.tmux.send(target, "Enter")

    def claude_json(self, *args: str):
        done = subprocess.run([str(self.claude), *args], env=self.env, capture_output=True, text=True, timeout=60,
                              cwd=self.project)
        return json.loads(done.stdout)


async def test_the_statusline_names_the_upstream_model(screen):
    await screen.start()
    await screen.say("say hi")
    await screen.tmux.wait_for(screen.main, ANSWER)
    line = await screen.tmux.wait_for(screen.main, r"fake:scripted-big · .* in / .* out · \$[\d.]+ \(Anthropic \$[\d.]+\)", 30)
    assert "1.2k in / 34 out" in line.group(0)
    screen.tmux.type(screen.main, "/exit")
    screen.tmux.send(screen.main, "Enter")
    await screen.tmux.wait_for(screen.main, r"EXIT=0", 60)
    assert "this session on profile p (from --profile)" in screen.tmux.screen(screen.main)


async def test_model_lists_the_profile_and_a_pick_answers(screen):
    await screen.start()
    screen.tmux.type(screen.main, "/model")
    await screen.tmux.wait_for(screen.main, r"/model", 10)
    screen.tmux.send(screen.main, "Enter")
    await screen.tmux.wait_for(screen.main, r"Select model")
    # each tier's row says what it runs; the gateway's models are listed as /v1/models names them
    shown = await screen.tmux.wait_for(screen.main, r"(?s)Opus · fake:scripted-big.*Sonnet · fake:scripted-small.*"
                                                    r"Haiku · fake:scripted-small.*fake:scripted-small +128k window", 30)
    assert "opus chain: fake:scripted-big · $0.5/$1.5 per Mtok" in shown.string
    rows = [line for line in shown.string.splitlines() if "fake:scripted-small" in line and "128k window" in line]
    cursor = next(i for i, line in enumerate(shown.string.splitlines()) if "❯" in line and "Default" in line)
    target = shown.string.splitlines().index(rows[0])
    screen.tmux.send(screen.main, *["Down"] * (target - cursor), "Enter")
    await screen.tmux.wait_for(screen.main, r"Set model to fake:scripted-small")  # the label of the pick
    before = len(screen.fake.received)
    await screen.say("which model are you")
    await screen.tmux.wait_for(screen.main, r"(?s)which model are you.*" + ANSWER)
    await screen.tmux.wait_for(screen.main, r"fake:scripted-small · [\d.]+k? in / ", 30)  # the statusline
    asked = {r.body["model"] for r in screen.fake.received[before:] if r.body.get("tools")}  # the main loop's
    assert asked == {"scripted-small"}


async def test_a_session_moved_to_the_background_is_still_served(screen):
    await screen.start()
    await screen.say("say hi")
    await screen.tmux.wait_for(screen.main, ANSWER)
    screen.tmux.send(screen.main, "Left")  # Claude Code: the session moves to the background
    await screen.tmux.wait_for(screen.main, r"moved to the background")
    screen.tmux.send(screen.main, "C-c")
    screen.tmux.send(screen.main, "C-c")  # twice: out of the agent view; the session keeps running
    await screen.tmux.wait_for(screen.main, r"background sessions use this gateway", 30)
    (agent,) = [a for a in screen.claude_json("agents", "--json") if a["kind"] == "background"]
    other = screen.tmux.open([str(screen.claude), "attach", agent["id"]], screen.project)
    await screen.tmux.wait_for(other, ANSWER, 60)
    before = len(screen.fake.received)
    await screen.say("are you still there?", other)
    await screen.tmux.wait_for(other, r"(?s)are you still there\?.*" + ANSWER, 60)
    assert len(screen.fake.received) > before  # answered through run's gateway, after run's Claude Code exited
    subprocess.run([str(screen.claude), "stop", agent["id"]], env=screen.env, capture_output=True, timeout=60)
    await screen.tmux.wait_for(screen.main, r"EXIT=0", 90)  # the daemon ended, and run with it
    assert "this session on profile p" in screen.tmux.screen(screen.main)
