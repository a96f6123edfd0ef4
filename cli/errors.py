"""The one error type a user sees: caught at the top of the CLI and printed as one line."""


class FreeclaudeError(Exception):
    """Something the user can fix; the message says what and how."""
