"""`freeclaude serve`: the gateway alone, in the foreground, for IDE extensions and other clients."""

import asyncio
import logging
import sys

from freeclaude import home
from freeclaude.config import Config
from freeclaude.profiles import Store


def main(profile: str | None, host: str, port: int, token: str | None) -> None:
    from freeclaude.render import err, out
    from freeclaude.server import Server

    config = Config(profile=Store().resolve(profile), host=host, port=port, ledger_path=home.ledger_path())
    if token:
        config.token = token
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    server = Server(config)

    def ready(base_url: str) -> None:
        out.print(f"ANTHROPIC_BASE_URL={base_url}", highlight=False)
        out.print(f"ANTHROPIC_AUTH_TOKEN={config.token}", highlight=False)
        err.print(f"[dim]profile {server.profile.name}; Ctrl-C stops[/dim]")

    try:
        asyncio.run(server.serve(ready))
    except KeyboardInterrupt:
        pass  # Ctrl-C is how serve is meant to end
