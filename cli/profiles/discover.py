"""First run: find what this machine can use (local servers, keys in the environment) and
offer a profile for it."""

import asyncio
import copy
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from rich.console import Console
from rich.prompt import Prompt

from freeclaude.errors import FreeclaudeError
from freeclaude.profiles.schema import Profile
from freeclaude.profiles.store import Store, template, templates


def _from_templates() -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, str], ...]]:
    """The templates already know where each local server listens and which variable holds
    each cloud key: (template, port) for local servers, (template, variable) for keys.
    The anthropic passthrough is no free alternative to offer, so it is left out."""
    local: list[tuple[str, int]] = []
    keys: list[tuple[str, str]] = []
    for name, data in templates().items():
        provider = next(iter(data["providers"].values()))
        if provider.get("api_key_env"):
            if name != "anthropic":
                keys.append((name, provider["api_key_env"]))
        else:
            local.append((name, urlsplit(provider["base_url"]).port or 80))
    return tuple(local), tuple(keys)


LOCAL, KEYS = _from_templates()


@dataclass
class Found:
    template: str
    reason: str
    base_url: str | None = None  # a local server's address, when it differs from the template's
    models: list[str] = field(default_factory=list)  # what a local server says it serves
    context_window: int | None = None


async def _probe_local(session: aiohttp.ClientSession, name: str, port: int, host: str) -> Found | None:
    base = f"http://{host}:{port}/v1"
    try:
        async with session.get(base + "/models") as r:
            if r.status != 200:
                return None
            data = await r.json(content_type=None)
        models = [m["id"] for m in data.get("data", []) if isinstance(m, dict) and isinstance(m.get("id"), str)]
        window = None
        if name == "llamacpp":  # llama-server reports the context size it was started with
            async with session.get(f"http://{host}:{port}/props") as r:
                if r.status == 200:
                    props = await r.json(content_type=None)
                    window = (props.get("default_generation_settings") or {}).get("n_ctx")
    except (TimeoutError, aiohttp.ClientError, ValueError, AttributeError):
        return None
    served = f" serving {', '.join(models[:3])}" if models else ""
    return Found(name, f"{name} on port {port}{served}", base, models, window if isinstance(window, int) else None)


async def scan(env: Mapping[str, str], host: str = "127.0.0.1",
               local: Sequence[tuple[str, int]] = LOCAL) -> list[Found]:
    timeout = aiohttp.ClientTimeout(total=1.5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        results = await asyncio.gather(*(_probe_local(session, name, port, host) for name, port in local))
    found = [f for f in results if f]
    found += [Found(name, f"${var} is set") for name, var in KEYS if env.get(var)]
    return found


def profile_data(found: Found) -> dict:
    """The template, pointed at what was found: the local server's own model and window."""
    data = copy.deepcopy(template(found.template))
    if found.base_url is None or not found.models:
        return data
    provider_name, provider = next(iter(data["providers"].items()))
    provider["base_url"] = found.base_url
    placeholder = next(iter(provider["models"].values()))
    limits = dict(placeholder)
    if found.context_window:
        limits["context_window"] = found.context_window
        limits["max_output_tokens"] = min(limits.get("max_output_tokens", 8192), found.context_window // 4)
    model = found.models[0]
    provider["models"] = {model: limits}
    data["tiers"] = {"opus": [f"{provider_name}:{model}"], "sonnet": [f"{provider_name}:{model}"],
                     "haiku": [f"{provider_name}:{model}"]}
    return data


NOTHING_FOUND = (
    "no profile yet, and nothing to use was found: no local model server on the usual ports ("
    + ", ".join(f"{name} {port}" for name, port in LOCAL) + ") and none of "
    + ", ".join(var for _, var in KEYS) + " is set. Either export a key (a free one: "
    "https://openrouter.ai/keys, then `export OPENROUTER_API_KEY=...`), or start a local server "
    "(`ollama serve`), then run `freeclaude run` again; or add a profile yourself: "
    "`freeclaude profile add NAME --template T` (`freeclaude profile templates` lists them)"
)


def first_run(store: Store, console: Console, env: Mapping[str, str] | None = None,
              interactive: bool | None = None, local: Sequence[tuple[str, int]] = LOCAL) -> Profile:
    """Offers a profile for what was found; saves the one the user picks."""
    env = os.environ if env is None else env
    found = asyncio.run(scan(env, local=local))
    if not found:
        raise FreeclaudeError(NOTHING_FOUND)
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        first = found[0].template
        raise FreeclaudeError(
            "no profile yet; found " + "; ".join(f.reason for f in found)
            + f". Create one with `freeclaude profile add {first} --template {first}`"
        )
    console.print("[bold]freeclaude: no profile yet.[/bold] Found:")
    for i, f in enumerate(found, 1):
        console.print(f"  {i}. {f.reason} → template [bold]{f.template}[/bold]", highlight=False)
    choices = [str(i) for i in range(1, len(found) + 1)] + ["q"]
    answer = Prompt.ask("Create a profile from which one? (q to quit)", choices=choices, default="1", console=console)
    if answer == "q":
        raise FreeclaudeError("no profile created; `freeclaude profile add NAME --template T` makes one")
    chosen = found[int(answer) - 1]
    profile = store.save(chosen.template, profile_data(chosen))
    console.print(f"saved profile [bold]{chosen.template}[/bold] (default) to {store.path(chosen.template)}",
                  highlight=False)
    return profile
