"""`freeclaude run`: Claude Code through a fresh gateway, then the bill."""

import os
from collections.abc import Sequence

from freeclaude import home, launcher
from freeclaude.profiles import Store


def main(profile: str | None, port: int, quiet: bool, claude_args: Sequence[str]) -> int:
    store = Store()
    if profile or store.default():
        chosen = store.resolve(profile)
    else:
        from freeclaude import discover
        from freeclaude.render import err

        chosen = discover.first_run(store, err)
    handler = launcher.log_to_file(home.log_path())
    try:
        code, session = launcher.run(chosen, claude_args, port=port, env=os.environ)
    finally:
        handler.close()
    if not quiet:
        from freeclaude import report
        from freeclaude.ledger import Ledger
        from freeclaude.render import err

        with Ledger(home.ledger_path()) as ledger:
            note = report.search_note(chosen)
            report.print_summary(err, ledger.totals(session=session), chosen.name, [note] if note else [])
    return code
