"""freeclaude: run Claude Code on models other than Anthropic's."""

__version__ = "0.1.0"
