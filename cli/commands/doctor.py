"""`freeclaude doctor`: what is wrong and how to fix it; exit code 1 when anything fails."""

import dataclasses
import json

from freeclaude.diagnose import doctor
from freeclaude.render import out

_MARK = {doctor.OK: "[green]ok[/green]  ", doctor.WARN: "[yellow]warn[/yellow]", doctor.FAIL: "[red]FAIL[/red]"}


def main(as_json: bool) -> int:
    checks = doctor.run()
    failed = any(c.status == doctor.FAIL for c in checks)
    if as_json:
        out.print_json(json.dumps({"ok": not failed, "checks": [dataclasses.asdict(c) for c in checks]}))
    else:
        for c in checks:
            out.print(f"{_MARK[c.status]} {c.name}: {c.detail}", highlight=False, soft_wrap=True)
            if c.fix and c.status != doctor.OK:
                out.print(f"      fix: {c.fix}", highlight=False, soft_wrap=True)
    return 1 if failed else 0
