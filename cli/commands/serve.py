"""`freeclaude serve`: the gateway alone, in the foreground, for IDE extensions and other clients.
With --background (what `freeclaude start` runs, detached) it uses the background gateway's
token and records itself for `status`, `stop` and `env` instead of printing."""

import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

from freeclaude import eventloop, home, project
from freeclaude.config import Config
from freeclaude.profiles import Store

log = logging.getLogger("freeclaude")


def main(profile: str | None, host: str, port: int, token: str | None, background: bool = False) -> None:
    from freeclaude.render import err, out
    from freeclaude.server import Server

    chosen, why = project.choose(Store(), profile, Path.cwd())
    if chosen is None:
        chosen = Store().resolve(None)  # says how to add a first profile
    config = Config(profile=chosen, host=host, port=port, ledger_path=home.ledger_path(), state_dir=home.sessions_dir())
    if background:
        from freeclaude import background as bg

        config.token = bg.token()
    elif token:
        config.token = token
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    server = Server(config)

    def ready(base_url: str) -> None:
        if background:
            bg.write_state(bg.State(pid=os.getpid(), base_url=base_url, profile=server.profile.name,
                                    started=time.time(), session=config.session))
            log.info("gateway listening on %s, profile %s, pid %d", base_url, server.profile.name, os.getpid())
            return
        out.print(f"ANTHROPIC_BASE_URL={base_url}", highlight=False)
        out.print(f"ANTHROPIC_AUTH_TOKEN={config.token}", highlight=False)
        err.print(f"[dim]profile {server.profile.name} ({why}); Ctrl-C stops[/dim]", highlight=False)

    async def until_stopped() -> None:
        # SIGTERM ends serve as Ctrl-C does (asyncio's Runner cancels the main task on SIGINT): the
        # task is cancelled from the loop, so the server closes and every ledger row is written.
        # A KeyboardInterrupt raised from the handler instead could land inside the loop's own
        # code and leave asyncio.run waiting for ever (seen: one `stop` in five hung).
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        signal.signal(signal.SIGTERM, lambda *_: loop.call_soon_threadsafe(task.cancel))
        await server.serve(ready)

    try:
        eventloop.run(until_stopped())
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass  # Ctrl-C or SIGTERM: how serve is meant to end
    finally:
        if background:
            bg.clear_state(os.getpid())
