"""`freeclaude doctor`: each thing freeclaude depends on, whether it is right, and what to do
when it is not. Key values are never shown, only the names of the variables."""

import asyncio
import dataclasses
import os
import subprocess
import time
from collections.abc import Mapping

import aiohttp

from freeclaude.claude import facts
from freeclaude.diagnose import probe
from freeclaude.errors import FreeclaudeError
from freeclaude.ide import clients
from freeclaude.profiles.schema import Profile
from freeclaude.profiles.store import Store
from freeclaude.service import background

OK, WARN, FAIL = "ok", "warn", "fail"  # a warning does not make the exit code 1


@dataclasses.dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str | None = None


def run(env: Mapping[str, str] = os.environ) -> list[Check]:
    checks = [claude(env)]
    found = background.lookup()
    try:
        chosen = Store().resolve(None)
        checks.append(Check("profile", OK, f"{chosen.name} (the default) is valid"))
        checks += keys(chosen, env)
        if all(env.get(v) for v in chosen.key_vars()):
            checks += asyncio.run(tiers(chosen))
    except FreeclaudeError as e:
        checks.append(Check("profile", FAIL, str(e)))  # the message says what to do
    if live := found.live:
        try:  # the gateway holds its own keys; its profile must still load for `env` and `ide install`
            Store().load(live.profile)
        except FreeclaudeError as e:
            checks.append(Check(f"profile {live.profile}", FAIL, f"the background gateway's: {e}"))
    checks += gateway(found)
    checks += ports(found)
    checks += installs(found)
    if env.get("ANTHROPIC_API_KEY"):
        checks.append(Check("ANTHROPIC_API_KEY", WARN, "set in this environment: `run` keeps it from Claude Code, but a "
                            "Claude Code started from here through `env` or `ide install` sends it too, and asks "
                            "which to use", "unset ANTHROPIC_API_KEY"))
    return checks


def claude(env: Mapping[str, str]) -> Check:
    try:
        path = facts.find_claude(env)
    except FreeclaudeError as e:
        return Check("claude", FAIL, str(e), facts.INSTALL_HINT)
    try:
        # claude is claude.cmd on Windows: CreateProcess runs a batch file given by its path
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return Check("claude", FAIL, f"{path} does not run: {e}", facts.INSTALL_HINT)
    version = done.stdout.strip().split(" ")[0] if done.returncode == 0 else ""
    if not version:
        return Check("claude", FAIL, f"`{path} --version` failed (exit {done.returncode}): {done.stderr.strip()[:200]}",
                     facts.INSTALL_HINT)
    return Check("claude", OK, f"{path} (Claude Code {version})")


def keys(profile: Profile, env: Mapping[str, str]) -> list[Check]:
    out = []
    for var in profile.key_vars():
        if env.get(var):
            out.append(Check(f"${var}", OK, f"set (profile {profile.name})"))
        else:
            out.append(Check(f"${var}", FAIL, f"not set; profile {profile.name} needs it", f"export {var}=<your key>"))
    return out


async def tiers(profile: Profile) -> list[Check]:
    """One small real request to each tier's first model, through a gateway of our own."""
    out = []
    body = {"max_tokens": 64, "messages": [{"role": "user", "content": "Reply with the single word: pong"}]}
    async with probe.gateway(profile, max_wait=10, timeout=120) as (session, server):
        for tiers_served, model in probe.first_models(profile):
            name = f"{'/'.join(tiers_served)} ({profile.name})"
            where = f"{model.ref}"
            start = time.monotonic()
            try:
                _, latency, _, error = await probe.send(session, server, {"model": model.name, **body})
            except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as e:
                latency, error = time.monotonic() - start, f"no answer: {e or type(e).__name__}"
            if error:
                out.append(Check(name, FAIL, f"{where}: {error}",
                                 f"`freeclaude profile test {profile.name}` for details, or another model in the chain"))
            else:
                out.append(Check(name, OK, f"{where} answered in {latency * 1000:.0f} ms"))
    return out


def gateway(found: background.Lookup) -> list[Check]:
    if s := found.live:
        return [Check("gateway", OK, f"running at {s.base_url} (profile {s.profile}, pid {s.pid})")]
    installed = [t for t in clients.TARGETS if clients.records(t)]
    if found.stale:
        return [Check("gateway", FAIL, "not running: the last one did not stop cleanly", "`freeclaude start`")]
    if installed:
        return [Check("gateway", FAIL, f"not running, and the settings of {', '.join(installed)} point at it",
                      "`freeclaude start`")]
    return [Check("gateway", OK, "not running (only `start` needs it: `run` starts its own)")]


def ports(found: background.Lookup) -> list[Check]:
    """The gateway's port, and those IDE settings name, held by something that is not it."""
    return [Check(f"port {port}", FAIL, background.taken(port, holder), background.TAKEN_FIX)
            for port, holder in background.foreign(found)]


def installs(found: background.Lookup) -> list[Check]:
    out = []
    live = found.live
    for target in clients.TARGETS:
        name = f"ide {target}"
        try:
            found_files = clients.check(target)
        except FreeclaudeError as e:  # a settings file or record that cannot be read: named in `e`
            out.append(Check(name, FAIL, str(e)))
            continue
        for path, present, ours in found_files:
            if not present:
                out.append(Check(name, WARN, f"{path}: none of freeclaude's values are left (edited or removed)",
                                 f"`freeclaude ide install {target}` to put them back"))
            elif live and ours.get("ANTHROPIC_BASE_URL") not in (None, live.base_url):
                out.append(Check(name, FAIL, f"{path} points at {ours['ANTHROPIC_BASE_URL']}, but the gateway runs "
                                 f"at {live.base_url}", f"`freeclaude ide install {target}` again"))
            else:
                out.append(Check(name, OK, f"{path}: {len(present)} of freeclaude's value(s) in place"))
    return out
