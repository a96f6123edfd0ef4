"""`freeclaude serve`: the gateway alone, in the foreground, for IDE extensions and other clients."""

import asyncio
import logging
import sys
from pathlib import Path

from freeclaude import home, project
from freeclaude.config import Config
from freeclaude.profiles import Store


def main(profile: str | None, host: str, port: int, token: str | None) -> None:
    from freeclaude.render import err, out
    from freeclaude.server import Server

    chosen, why = project.choose(Store(), profile, Path.cwd())
    if chosen is None:
        chosen = Store().resolve(None)  # says how to add a first profile
    config = Config(profile=chosen, host=host, port=port, ledger_path=home.ledger_path(), state_dir=home.sessions_dir())
    if token:
        config.token = token
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    server = Server(config)

    def ready(base_url: str) -> None:
        out.print(f"ANTHROPIC_BASE_URL={base_url}", highlight=False)
        out.print(f"ANTHROPIC_AUTH_TOKEN={config.token}", highlight=False)
        err.print(f"[dim]profile {server.profile.name} ({why}); Ctrl-C stops[/dim]", highlight=False)

    try:
        asyncio.run(server.serve(ready))
    except KeyboardInterrupt:
        pass  # Ctrl-C is how serve is meant to end
