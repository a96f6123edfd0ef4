"""First run: what is found, what is offered, what is said when nothing is."""

import asyncio

import pytest
from aiohttp import web
from rich.console import Console

from freeclaude.errors import FreeclaudeError
from freeclaude.profiles import discover
from freeclaude.profiles.store import Store


@pytest.fixture
async def local_server(aiohttp_server):
    """Something that answers like Ollama's OpenAI endpoint, with one model pulled."""
    async def models(request):
        return web.json_response({"data": [{"id": "qwen3:8b", "object": "model"}]})

    app = web.Application()
    app.router.add_get("/v1/models", models)
    server = await aiohttp_server(app, host="127.0.0.1")
    return server.port


async def test_scan_finds_local_servers_and_keys(local_server):
    found = await discover.scan({"GROQ_API_KEY": "x", "GEMINI_API_KEY": ""},
                                local=(("ollama", local_server), ("vllm", 9)))
    assert [(f.template, f.models) for f in found] == [("ollama", ["qwen3:8b"]), ("groq", [])]
    assert "ollama on port" in found[0].reason and found[1].reason == "$GROQ_API_KEY is set"


async def test_offered_profile_uses_the_served_model(tmp_path, local_server, monkeypatch):
    store = Store(tmp_path)
    console = Console(record=True, width=200)
    monkeypatch.setattr(discover.Prompt, "ask", lambda *a, **k: "1")  # the user takes the first offer
    # first_run runs its own event loop, as the CLI does: give it a thread of its own
    profile = await asyncio.to_thread(discover.first_run, store, console, env={}, interactive=True,
                                      local=(("ollama", local_server),))
    assert profile.name == "ollama" and store.default() == "ollama"
    opus = profile.chain("opus")[0]
    assert opus.name == "qwen3:8b" and profile.provider(opus).base_url == f"http://127.0.0.1:{local_server}/v1"
    assert "ollama on port" in console.export_text()


def test_not_interactive_says_which_command_to_run(tmp_path):
    with pytest.raises(FreeclaudeError, match=r"found \$OPENROUTER_API_KEY is set.*profile add openrouter --template openrouter"):
        discover.first_run(Store(tmp_path), Console(), env={"OPENROUTER_API_KEY": "k"}, interactive=False, local=())


def test_nothing_found_says_exactly_what_to_do(tmp_path):
    with pytest.raises(FreeclaudeError) as e:
        discover.first_run(Store(tmp_path), Console(), env={}, interactive=False, local=(("ollama", 9),))
    message = str(e.value)
    assert "OPENROUTER_API_KEY" in message and "ollama serve" in message and "profile add" in message
