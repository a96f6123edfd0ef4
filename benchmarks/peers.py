"""How another gateway does on the corpus of tool calls written as text (tests/translate/corpus).

Serves every sample from a loopback upstream that has no tool parser (as llama.cpp, Ollama or vLLM
without --tool-call-parser serve a model), puts the gateway under test in front of it, asks it for
each sample through the Anthropic Messages API, streaming, with the sample's tools, and counts the
answers whose blocks are the ones Claude Code must get (tool_use blocks with the right input, or
the text unchanged). The gateway is an outside program, installed apart from this project:

  LiteLLM's proxy:  python -m venv /tmp/peers && /tmp/peers/bin/pip install 'litellm[proxy]'
                    python benchmarks/peers.py litellm --program /tmp/peers/bin/litellm
  claude-code-router, with its enhancetool transformer:
                    (cd /tmp/ccr && npm install @musistudio/claude-code-router)
                    python benchmarks/peers.py claude-code-router --program /tmp/ccr/node_modules/.bin/ccr
  freeclaude:       python benchmarks/peers.py freeclaude

Usage: python benchmarks/peers.py {litellm,claude-code-router,freeclaude} [--program PATH]
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.translate.textcall_corpus import chunks, comparable, recoverable, samples, table  # noqa: E402

MODEL = "claude-opus-5-5"
KEY = "sk-peers"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def upstream(port: int) -> web.AppRunner:
    """Streams the sample the last user message names, as Chat Completions SSE."""
    by_id = {s["id"]: s for _, s in samples()}

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        last = body["messages"][-1]["content"]
        text = last if isinstance(last, str) else "".join(p.get("text", "") for p in last)
        sample = by_id[text.split()[-1]]
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for c in chunks(sample, "random"):
            c.update(id="chatcmpl-1", object="chat.completion.chunk", created=int(time.time()), model="up")
            await resp.write(b"data: " + json.dumps(c).encode() + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        return resp

    @web.middleware
    async def only_chat(request, handler):  # a server without Chat Completions' siblings: say what was asked
        if request.path != "/v1/chat/completions":
            print(f"upstream: {request.method} {request.path} is not served", file=sys.stderr)
        return await handler(request)

    app = web.Application(middlewares=[only_chat])
    app.router.add_post("/v1/chat/completions", completions)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def start_litellm(program: str, port: int, upstream_port: int, tmp: Path) -> subprocess.Popen:
    config = tmp / "litellm.yaml"
    config.write_text(f"""model_list:
  - model_name: {MODEL}
    litellm_params:
      model: hosted_vllm/up  # its provider for an OpenAI-compatible vLLM server: Chat Completions (openai/ goes to /v1/responses)
      api_base: http://127.0.0.1:{upstream_port}/v1
      api_key: none
""")
    # no network here (the cost map stays local); its master key is the key this script sends
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_MASTER_KEY="sk-peers")
    return subprocess.Popen([program, "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_ccr(program: str, port: int, upstream_port: int, tmp: Path) -> subprocess.Popen:
    config = tmp / ".claude-code-router" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({
        "HOST": "127.0.0.1", "PORT": port, "APIKEY": KEY, "LOG": False,
        "Providers": [{"name": "local", "api_base_url": f"http://127.0.0.1:{upstream_port}/v1/chat/completions",
                       "api_key": "none", "models": ["up"], "transformer": {"use": ["enhancetool"]}}],
        "Router": {"default": "local,up"}}))
    return subprocess.Popen(["node", program, "start"], env=dict(os.environ, HOME=str(tmp)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_freeclaude(port: int, upstream_port: int, tmp: Path) -> subprocess.Popen:
    home = tmp / "fc-home"
    (home / "profiles").mkdir(parents=True)
    (home / "profiles" / "p.toml").write_text(f"""[providers.local]
kind = "openai"
base_url = "http://127.0.0.1:{upstream_port}/v1"

[providers.local.models.up]

[tiers]
default = ["local:up"]
""")
    env = dict(os.environ, FREECLAUDE_HOME=str(home))
    return subprocess.Popen([sys.executable, "-m", "freeclaude", "serve", "--profile", "p", "--port", str(port),
                             "--token", KEY], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            try:
                async with s.get(url) as r:
                    if r.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit(f"the gateway did not come up at {url}")


async def ask(session: aiohttp.ClientSession, base: str, sample: dict) -> list[dict]:
    """The blocks of the streamed answer, folded as an Anthropic client folds them."""
    body = {"model": MODEL, "max_tokens": 1024, "stream": True, "tools": sample["tools"],
            "messages": [{"role": "user", "content": f"sample {sample['id']}"}]}
    headers = {"x-api-key": KEY, "Authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"}
    blocks: dict[int, dict] = {}
    partial: dict[int, str] = {}
    async with session.post(base + "/v1/messages", json=body, headers=headers) as r:
        if r.status != 200:
            return [{"type": "error", "status": r.status}]
        async for line in r.content:
            line = line.decode().strip()
            if not line.startswith("data:"):
                continue
            try:
                data = json.loads(line[5:])
            except ValueError:
                continue
            if data.get("type") == "content_block_start":
                blocks[data["index"]] = dict(data["content_block"])
            elif data.get("type") == "content_block_delta":
                block, delta = blocks[data["index"]], data["delta"]
                if delta["type"] == "text_delta":
                    block["text"] = block.get("text", "") + delta["text"]
                elif delta["type"] == "thinking_delta":
                    block["thinking"] = block.get("thinking", "") + delta["thinking"]
                elif delta["type"] == "input_json_delta":
                    partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
    for index, text in partial.items():
        try:
            blocks[index]["input"] = json.loads(text) if text else {}
        except ValueError:
            blocks[index]["input"] = text
    return comparable([blocks[i] for i in sorted(blocks)])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("gateway", choices=["litellm", "claude-code-router", "freeclaude"])
    parser.add_argument("--program", default="litellm")
    args = parser.parse_args()
    upstream_port, port = free_port(), free_port()
    runner = await upstream(upstream_port)
    with tempfile.TemporaryDirectory() as tmp:
        if args.gateway == "litellm":
            proc = start_litellm(args.program, port, upstream_port, Path(tmp))
        elif args.gateway == "claude-code-router":
            proc = start_ccr(args.program, port, upstream_port, Path(tmp))
        else:
            proc = start_freeclaude(port, upstream_port, Path(tmp))
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_for(base + "/health/liveliness" if args.gateway == "litellm" else base + "/")
            results = {}
            async with aiohttp.ClientSession() as session:
                for _format, sample in samples():
                    if "deltas" in sample:  # structured calls: not text, and not what this measures
                        continue
                    results[sample["id"]] = await ask(session, base, sample) == sample["expect"]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            await runner.cleanup()
    calls = [sid for _, s in samples() if (sid := s["id"]) in results and recoverable(s)]
    print(f"{args.gateway}: {sum(results[s] for s in calls)} of {len(calls)} calls written as text recovered, "
          f"{sum(v for s, v in results.items() if s not in calls)} of {len(results) - len(calls)} texts kept")
    print(table({**{s["id"]: False for _, s in samples()}, **results}))


if __name__ == "__main__":
    asyncio.run(main())
