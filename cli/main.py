"""The console entry point. `--version` is answered before the CLI (Typer, Click) is loaded:
it is what a new user types first, and scripts call it often."""

import sys

from freeclaude import __version__


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        print(__version__)
        return
    from freeclaude.app import app

    app(prog_name="freeclaude")
