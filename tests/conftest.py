import json
from pathlib import Path

import anthropic
import pytest

from freeclaude.server import Config, Server
from tests.fakes import Fake

WIRE = Path(__file__).resolve().parent / "wire"
TOKEN = "test-token"
KEY = "sk-upstream-secret-123"


@pytest.fixture
def wire_requests() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(WIRE.glob("*.json"))]


@pytest.fixture
async def fake(aiohttp_server) -> Fake:
    f = Fake()
    server = await aiohttp_server(f.app(), host="127.0.0.1")
    f.url = str(server.make_url("/v1")).rstrip("/")
    return f


@pytest.fixture
async def gateway(tmp_path):
    """Starts real gateways (real port, real runner settings); stops them afterwards."""
    started = []

    async def start(profile, **kw) -> Server:
        kw.setdefault("env", {"FAKE_KEY": KEY})
        kw.setdefault("ledger_path", tmp_path / "usage.db")
        server = Server(Config(profile=profile, token=TOKEN, **kw))
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
async def sdk():
    """The official SDK as a client of a gateway; no retries, so each error is seen as sent."""
    clients = []

    def make(server: Server, api_key: str = TOKEN) -> anthropic.AsyncAnthropic:
        clients.append(anthropic.AsyncAnthropic(base_url=server.base_url, api_key=api_key, max_retries=0))
        return clients[-1]

    yield make
    for client in clients:
        await client.close()
