"""`freeclaude env`: export lines for the running background gateway, in sh, fish or PowerShell
syntax, for `eval "$(freeclaude env)"`, `freeclaude env | source` or
`freeclaude env --shell powershell | Invoke-Expression`."""

import os
import shlex
import sys
from collections.abc import Mapping

from freeclaude.claude import lean
from freeclaude.errors import FreeclaudeError
from freeclaude.service import background

# `run` takes these out of Claude Code's environment: an API key beside the token makes an
# interactive Claude Code ask which of the two to use; minimal mode is the gateway's lean level's,
# and one an earlier `env` set for another profile must go.
UNSET = ("ANTHROPIC_API_KEY", lean.SIMPLE)


def default_shell(env: Mapping[str, str], platform: str = sys.platform) -> str:
    if platform == "win32":
        return "powershell"
    return "fish" if os.path.basename(env.get("SHELL", "")) == "fish" else "sh"


def _fish_quote(value: str) -> str:
    """fish's single quotes: only backslash and the quote itself are special inside."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# shell -> (set a variable, remove one)
_SYNTAX = {
    "sh": (lambda k, v: f"export {k}={shlex.quote(v)}", lambda k: f"unset {k}"),
    "fish": (lambda k, v: f"set -gx {k} {_fish_quote(v)}", lambda k: f"set -e {k}"),
    "powershell": (lambda k, v: f"$env:{k} = '{v.replace(chr(39), chr(39) * 2)}'",
                   lambda k: f"Remove-Item Env:{k} -ErrorAction SilentlyContinue"),
}
SHELLS = tuple(_SYNTAX)


def lines(variables: Mapping[str, str], shell: str) -> list[str]:
    assign, remove = _SYNTAX[shell]
    return [assign(k, v) for k, v in variables.items()] + [remove(k) for k in UNSET if k not in variables]


def main(shell: str | None) -> None:
    shell = shell or default_shell(os.environ)
    if shell not in SHELLS:
        raise FreeclaudeError(f"--shell must be one of {', '.join(SHELLS)}")
    _, variables, level = background.running_env()
    print("\n".join(lines(variables, shell)))
    if lean.reach(level, "env"):
        from freeclaude.render import err

        err.print(f"freeclaude: {lean.reach(level, 'env')}", highlight=False, soft_wrap=True)
