"""`freeclaude ide install|uninstall claude|vscode|jetbrains`."""

import os
import shlex
import shutil
import subprocess
import sys

from freeclaude.claude import lean
from freeclaude.errors import FreeclaudeError
from freeclaude.ide import clients
from freeclaude.render import err
from freeclaude.service import background

PLUGIN_SETTING = "Settings -> Tools -> Claude Code [Beta] -> General -> Claude command"


def install(target: str) -> None:
    if target == "jetbrains":
        for line in jetbrains_lines():
            err.print(line, highlight=False, soft_wrap=True)
        return
    state, variables, level = background.running_env()
    if target == "claude":
        files = [clients.claude_settings()]
    else:
        files = clients.vscode_settings()
        if not files:
            raise FreeclaudeError(f"no VS Code, Cursor or VSCodium user settings were found under "
                                  f"{clients.vscode_config_root()}: start the editor once, then run this again")
    for line in clients.install(target, files, variables, lean.denied(level) if target == "claude" else ()):
        err.print(line, highlight=False, soft_wrap=True)
    if lean.reach(level, target):
        err.print(lean.reach(level, target), highlight=False, soft_wrap=True)
    who = ("every Claude Code started from now on (terminal, IDE extensions, background sessions)" if target == "claude"
           else "the Claude Code extension, once the editor window is reloaded,")
    err.print(f"{who} uses the gateway at {state.base_url}; `freeclaude ide uninstall {target}` takes it out",
              highlight=False, soft_wrap=True)
    if os.environ.get("ANTHROPIC_API_KEY"):
        err.print("note: ANTHROPIC_API_KEY is set here, and a Claude Code started from this shell sends it besides "
                  "the gateway's token (and asks which to use): `unset ANTHROPIC_API_KEY` to stop that",
                  highlight=False, soft_wrap=True)


def uninstall(target: str) -> None:
    if target == "jetbrains":
        err.print(f"freeclaude wrote nothing for JetBrains; if you set {PLUGIN_SETTING} to freeclaude, "
                  "set it back to `claude` (or empty)", highlight=False, soft_wrap=True)
        return
    for line in clients.uninstall(target):
        err.print(line, highlight=False, soft_wrap=True)


def jetbrains_lines(platform: str = sys.platform) -> list[str]:
    """The plugin runs its "Claude command" in the IDE's terminal. Where it keeps that setting is
    not documented, so nothing is written: the user is told what to paste, and where."""
    exe = shutil.which("freeclaude") or "freeclaude"
    quoted = subprocess.list2cmdline([exe]) if platform == "win32" else shlex.quote(exe)
    lines = ["The JetBrains plugin runs its \"Claude command\" in the IDE's terminal. freeclaude does not write "
             "that setting (its file format is not documented); either:"]
    if clients.records("claude"):
        lines.append("  - nothing: `freeclaude ide install claude` is in place, so the `claude` it runs already "
                     "uses the background gateway; or")
    else:
        lines.append("  - run `freeclaude ide install claude`: the `claude` it runs then uses the background gateway; or")
    lines.append(f"  - set {PLUGIN_SETTING} to:  {quoted} run --")
    lines.append("    (each session then runs on its own gateway, with its bill when it ends)")
    return lines
