"""The console entry point. `--version` and `statusline` are answered before the CLI (Typer,
Click) is loaded: the first is what a new user types first, the second is run by Claude Code
on every change of its screen and has a few tens of milliseconds to answer."""

import sys

from freeclaude import __version__


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        print(__version__)
        return
    if sys.argv[1:] == ["statusline"]:
        from freeclaude.claude import statusline

        statusline.main()
        return
    from freeclaude.app import app

    app(prog_name="freeclaude")
