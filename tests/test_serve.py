"""`freeclaude serve`: the same gateway, kept running for other Anthropic clients."""

import asyncio
import os
import signal
import sys

import aiohttp
import tomli_w

from tests.conftest import KEY
from tests.fakes import Json, completion, profile


async def test_serve_prints_url_and_token_and_stops_cleanly(fake, tmp_path):
    fake.default = Json(completion({"content": "served"}))
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "p.toml").write_text(tomli_w.dumps(profile(fake.url).data))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "freeclaude", "serve", "--profile", "p", "--token", "my-token",
        env={**os.environ, "FREECLAUDE_HOME": str(tmp_path), "FAKE_KEY": KEY},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    url_line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
    token_line = (await proc.stdout.readline()).decode().strip()
    assert url_line.startswith("ANTHROPIC_BASE_URL=http://127.0.0.1:")
    assert token_line == "ANTHROPIC_AUTH_TOKEN=my-token"
    base = url_line.split("=", 1)[1]
    body = {"model": "claude-opus-5-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as s:
        async with s.post(base + "/v1/messages", json=body, headers={"x-api-key": "my-token"}) as r:
            assert r.status == 200 and (await r.json())["content"][0]["text"] == "served"
        async with s.post(base + "/v1/messages", json=body) as r:
            assert r.status == 401
    proc.send_signal(signal.SIGINT)
    _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode in (0, 130) and b"Traceback" not in stderr
    assert KEY.encode() not in stderr
