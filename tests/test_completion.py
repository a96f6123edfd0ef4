"""Shell completion (Typer's --install-completion / --show-completion) for bash, zsh, fish and
PowerShell, exercised by a real bash running the script freeclaude prints."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent  # the freeclaude console script lives beside this Python
# Typer's own switch: the options take the shell as a value instead of detecting it
NAMED = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def script(shell: str) -> str:
    done = subprocess.run(["freeclaude", "--show-completion", shell], env=NAMED, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o default -F _freeclaude_completion freeclaude"),
                                           ("zsh", "#compdef freeclaude"), ("fish", "complete --command freeclaude"),
                                           ("powershell", "Register-ArgumentCompleter")])
def test_each_shell_gets_its_script(shell, marker):
    text = script(shell)
    assert marker in text and "_FREECLAUDE_COMPLETE" in text and f"complete_{shell}" in text


@pytest.mark.parametrize("words, expected", [
    ("freeclaude st", ["start", "stats", "status", "statusline", "stop"]),
    ("freeclaude ide install ", ["claude", "jetbrains", "vscode"]),
    ("freeclaude env --shell ", ["fish", "powershell", "sh"]),
    ("freeclaude profile ", ["add", "list", "remove", "show", "templates", "test", "use"]),
])
def test_bash_completes_commands_and_choices(words, expected):
    # bash hands a completion function the command's name: the script runs that with the words
    program = (f"source /dev/stdin <<'EOF'\n{script('bash')}\nEOF\n"
               f"COMP_WORDS=({words}); COMP_CWORD={len(words.split()) - (0 if words.endswith(' ') else 1)}\n"
               "_freeclaude_completion freeclaude; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    done = subprocess.run(["bash", "-c", program], env=NAMED, capture_output=True, text=True)
    assert sorted(done.stdout.split()) == expected, done.stderr
