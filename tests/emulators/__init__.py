"""Strict provider emulators, one module per provider family; `registry()` maps each built-in
template to the emulator class it is proven against (each module lists its TEMPLATES), and
`emulate(name)` starts one on loopback with the template pointed at it."""

import copy
import importlib
import pkgutil
from urllib.parse import urlsplit

_NOT_EMULATORS = ("base", "brain", "wire", "test_")


def registry() -> dict[str, type]:
    """template name -> emulator class, from every module's TEMPLATES = {"template": Class}."""
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith(_NOT_EMULATORS):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.update(getattr(module, "TEMPLATES", {}))
    return found


def pointed(data: dict, url: str, key: str) -> tuple[dict, dict]:
    """A template with every base_url's scheme and host replaced by `url`, and the environment
    that holds its keys."""
    data = copy.deepcopy(data)
    env = {}
    for provider in data["providers"].values():
        provider["base_url"] = url + urlsplit(provider["base_url"]).path
        if provider.get("api_key_env"):
            env[provider["api_key_env"]] = key
    return data, env


async def emulate(name: str, brain=None):
    """The template's emulator on loopback: (emulator, its TestServer, its base URL)."""
    from aiohttp.test_utils import TestServer

    cls = registry()[name]
    emulator = cls(brain) if brain else cls()
    server = TestServer(emulator.app(), host="127.0.0.1")
    await server.start_server()
    return emulator, server, str(server.make_url("")).rstrip("/")
