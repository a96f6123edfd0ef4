"""`freeclaude serve`: the gateway alone, in the foreground, for IDE extensions and other clients.
With --background (what `freeclaude start` runs, detached) it records itself for `status`,
`stop` and `env` instead of printing."""

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from freeclaude.errors import FreeclaudeError
from freeclaude.gateway import eventloop
from freeclaude.gateway.config import GRACE_S, Config
from freeclaude.profiles import project
from freeclaude.profiles.store import Store
from freeclaude.service import home

log = logging.getLogger("freeclaude")
TOKEN_ENV = "FREECLAUDE_TOKEN"


def main(profile: str | None, host: str, port: int, token: str | None, background: bool = False,
         token_file: Path | None = None, grace: float = GRACE_S) -> None:
    from freeclaude.gateway.server import Server
    from freeclaude.render import err, out

    given = token_from(token, token_file, os.environ)
    chosen, why = project.choose(Store(), profile, Path.cwd())
    if chosen is None:
        chosen = Store().resolve(None)  # says how to add a first profile
    config = Config(profile=chosen, host=host, port=port, ledger_path=home.ledger_path(), state_dir=home.sessions_dir(),
                    grace=grace)
    if given:
        config.token = given
    elif background:
        from freeclaude.service import background as bg

        config.token = bg.token()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    server = Server(config)

    def ready(base_url: str) -> None:
        if background:
            from freeclaude.service import background as bg

            bg.write_state(bg.State(pid=os.getpid(), base_url=base_url, profile=server.profile.name,
                                    started=time.time(), session=config.session))
            log.info("gateway listening on %s, profile %s, pid %d", base_url, server.profile.name, os.getpid())
            return
        out.print(f"ANTHROPIC_BASE_URL={base_url}", highlight=False)
        out.print(f"ANTHROPIC_AUTH_TOKEN={config.token}", highlight=False)
        err.print(f"[dim]profile {server.profile.name} ({why}); Ctrl-C stops[/dim]", highlight=False)

    async def until_stopped() -> None:
        # SIGTERM and Ctrl-C stop the server gracefully (Server.stop: answers in flight get up to
        # the grace to finish, every row is written); a second one stops it at once. Both are
        # passed to the loop: a KeyboardInterrupt raised from a handler instead could land inside
        # the loop's own code and leave asyncio.run waiting for ever (seen: one `stop` in five hung).
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        told: list[int] = []

        def on_signal(sig: int, frame: FrameType | None) -> None:
            told.append(sig)
            loop.call_soon_threadsafe(server.stop_soon if len(told) == 1 or task is None else task.cancel)

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
        await server.serve(ready)

    try:
        eventloop.run(until_stopped())
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass  # a second Ctrl-C or SIGTERM: stopped at once
    finally:
        if background:
            from freeclaude.service import background as bg

            bg.clear_state(os.getpid())


def token_from(token: str | None, token_file: Path | None, env: Mapping[str, str]) -> str | None:
    """The token clients must send: --token (which `ps` shows to every user of the machine), else
    the file --token-file names, else $FREECLAUDE_TOKEN; None for a new random one."""
    if token:
        return token
    if token_file:
        try:
            value = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise FreeclaudeError(f"cannot read the token from {token_file}: {getattr(e, 'strerror', None) or e}") from None
        if not value:
            raise FreeclaudeError(f"{token_file} is empty: put the token in it")
        return value
    return env.get(TOKEN_ENV) or None
