"""`freeclaude run`: Claude Code through a fresh gateway, then the bill."""

import os
from collections.abc import Sequence
from pathlib import Path

from freeclaude.claude import facts, launcher, updates
from freeclaude.profiles import project
from freeclaude.profiles.store import Store
from freeclaude.service import home


def main(profile: str | None, port: int, quiet: bool, claude_args: Sequence[str], statusline: bool = True,
         lean: str | None = None) -> int:
    store = Store()
    chosen, why = project.choose(store, profile, Path.cwd())
    if chosen is None:
        from freeclaude.profiles import discover
        from freeclaude.render import err

        chosen, why = discover.first_run(store, err), "found on this machine"
    claude = facts.find_claude(os.environ)
    check = updates.VersionCheck(claude, home.data_dir())
    handler = launcher.log_to_file(home.server_log())
    try:
        code, session = launcher.run(chosen, claude_args, port=port, env=os.environ, statusline=statusline,
                                     claude=claude, lean_level=lean, version=check.version())
    finally:
        handler.close()
    if not quiet:
        from freeclaude.render import err
        from freeclaude.usage import report
        from freeclaude.usage.ledger import Ledger

        with Ledger(home.ledger_path()) as ledger:
            note = report.search_note(chosen)
            report.print_summary(err, ledger.totals(session=session), chosen.name, why, [note] if note else [])
        warning = check.warning()
        if warning:
            err.print(f"[yellow]freeclaude:[/yellow] {warning}", highlight=False, soft_wrap=True)
    return code
