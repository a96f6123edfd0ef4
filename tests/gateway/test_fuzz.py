"""Malformed and mutated requests never get a 5xx and never stop the server."""

import asyncio
import copy
import http.client
import json
import os
import threading

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from freeclaude.gateway.config import Config
from freeclaude.gateway.server import Server
from tests.conftest import KEY, TOKEN, WIRE
from tests.support.fakes import Fake, Json, Stream, completion, profile, text_chunks

REQUEST = json.loads((WIRE / "claude-code-2.1.328-request-2.json").read_text())["body"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(REQUEST) if p]


@st.composite
def mutated_requests(draw):
    body = copy.deepcopy(REQUEST)
    body["stream"] = draw(st.booleans())
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        parent = body
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    return body


@pytest.fixture(scope="module")
def live_gateway():
    """Gateway and upstream on their own loop in a thread, so hypothesis can drive them synchronously."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state = {}

    async def main():
        fake = Fake()
        fake.default = lambda body: Stream(text_chunks("fine")) if body.get("stream") else Json(completion({"content": "fine"}))
        runner = web.AppRunner(fake.app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        server = Server(Config(profile=profile(f"http://127.0.0.1:{port}/v1"), token=TOKEN, env={"FAKE_KEY": KEY},
                               max_body=1024 * 1024))
        await server.start()
        state.update(server=server, runner=runner, stop=asyncio.Event())
        ready.set()
        await state["stop"].wait()
        await server.stop()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(10)
    yield state["server"]
    loop.call_soon_threadsafe(state["stop"].set)
    thread.join(10)


def _post(server: Server, raw: bytes, path: str = "/v1/messages") -> tuple[int, bytes]:
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("POST", path, raw, {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


def _check(server: Server, raw: bytes, path: str = "/v1/messages") -> None:
    status, body = _post(server, raw, path)
    assert status < 500, body[:500]
    if status >= 400:
        err = json.loads(body)
        assert err["type"] == "error" and err["error"]["type"] and err["error"]["message"]


# FUZZ_EXAMPLES=5000 for a longer hunt; the default keeps CI quick.
SETTINGS = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "250")), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(mutated_requests())
def test_mutated_claude_code_requests(live_gateway, body):
    _check(live_gateway, json.dumps(body).encode())


@SETTINGS
@given(json_values)
def test_arbitrary_json_bodies(live_gateway, body):
    _check(live_gateway, json.dumps(body).encode())
    _check(live_gateway, json.dumps(body).encode(), "/v1/messages/count_tokens")


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes(live_gateway, raw):
    _check(live_gateway, raw)


def test_server_still_answers_after_the_fuzzing(live_gateway):
    status, body = _post(live_gateway, json.dumps({**REQUEST, "stream": False}).encode())
    assert status == 200 and json.loads(body)["content"][0]["text"] == "fine"
