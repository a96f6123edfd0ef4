import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import anthropic
import pytest
import tomli_w

from freeclaude.gateway.config import Config
from freeclaude.gateway.server import Server
from freeclaude.usage.ledger import Ledger
from tests.support.fakes import Fake

# Real outside programs take their time: Claude Code against a 135M model on 2 cores makes up to
# three tries of a minute or more each.
SLOW_TIMEOUT = 900


def pytest_collection_modifyitems(items):
    for item in items:
        if (item.get_closest_marker("claude") or item.get_closest_marker("llama")) and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))

ROOT = Path(__file__).resolve().parent.parent
# render.py's consoles read COLUMNS once, when the first module imports them: without it here, the
# width of what the CLI prints in-process would depend on which test ran first in each worker.
os.environ["COLUMNS"] = "200"
WIRE = ROOT / "tests" / "wire"
CLAUDE = ROOT / "node_modules" / ".bin" / "claude"
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
async def search_fake(aiohttp_server):
    """Serves a fake search service (tests/support/search_fakes.py) on loopback; sets its url."""

    async def start(f):
        server = await aiohttp_server(f.app(), host="127.0.0.1")
        f.url = str(server.make_url("")).rstrip("/")
        return f

    return start


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


def rows(server: Server, columns: str = "*") -> list[dict]:
    """The gateway's ledger rows, once its writer thread has written all it was given."""
    server.flush()
    with Ledger(server.config.ledger_path) as ledger:
        return [dict(r) for r in ledger.db.execute(f"SELECT {columns} FROM attempts ORDER BY id")]


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


@pytest.fixture
def standin(tmp_path) -> Path:
    """A stand-in `claude` (tests/support/standin.py)."""
    from tests.support.standin import make_standin

    return make_standin(tmp_path)


@pytest.fixture
def claude_bin() -> Path:
    """The pinned Claude Code from `npm ci`, or the one FREECLAUDE_TEST_CLAUDE names (CI points
    it at the newest on npm, installed into a prefix of its own)."""
    other = os.environ.get("FREECLAUDE_TEST_CLAUDE")
    claude = Path(other) if other else CLAUDE
    if not claude.exists():
        if other:  # asked for by name: its absence is an error, not a reason to skip
            pytest.fail(f"FREECLAUDE_TEST_CLAUDE names no file: {claude}")
        pytest.skip(f"Claude Code is not installed at {claude}: run `npm ci` in {ROOT}")
    return claude


async def run_claude(tmp_path: Path, claude: Path, profile: dict, *claude_args: str, timeout: float = 180,
                     env: dict | None = None, run_opts: tuple[str, ...] = ()):
    """`freeclaude run --profile p RUN_OPTS -- ARGS` with the real Claude Code, in a fresh home and
    project. Returns exit code, stdout, stderr, the freeclaude home and the project directory."""
    home = tmp_path / "fc-home"
    (home / "profiles").mkdir(parents=True, exist_ok=True)
    (home / "profiles" / "p.toml").write_text(tomli_w.dumps(profile))
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    user_home = tmp_path / "user-home"  # Claude Code's own config starts empty
    user_home.mkdir(exist_ok=True)
    extra_env = env
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
    env.update(HOME=str(user_home), FREECLAUDE_HOME=str(home), FREECLAUDE_CLAUDE=str(claude), FAKE_KEY=KEY,
               COLUMNS="200", CI="1")
    env.update(extra_env or {})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "freeclaude", "run", "--profile", "p", *run_opts, "--", *claude_args,
        cwd=project, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        os.killpg(proc.pid, signal.SIGKILL)  # claude too, not only freeclaude
        stdout, stderr = await proc.communicate()
        raise AssertionError(f"claude did not finish in {timeout} s: {stdout.decode()}\n{stderr.decode()}") from None
    return proc.returncode, stdout.decode(), stderr.decode(), home, project
