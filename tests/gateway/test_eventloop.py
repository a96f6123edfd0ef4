import asyncio
import sys

import pytest

from freeclaude.gateway import eventloop


async def loop_type() -> str:
    return type(asyncio.get_running_loop()).__module__


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not build on Windows")
def test_the_gateway_runs_on_uvloop_where_it_is_installed():
    import uvloop  # a dependency of the project on this platform

    assert eventloop.factory({}) is uvloop.new_event_loop
    assert eventloop.run(loop_type()).startswith("uvloop")


def test_freeclaude_loop_asyncio_asks_for_asyncios_own(monkeypatch):
    monkeypatch.setenv(eventloop.ENV, "asyncio")
    assert eventloop.factory() is None
    assert eventloop.run(loop_type()).startswith("asyncio")


def test_without_uvloop_it_is_asyncios_own(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    assert eventloop.factory({}) is None
