"""The two consoles every command prints to: results on stdout, everything else on stderr."""

from rich.console import Console

err = Console(stderr=True)
out = Console()
