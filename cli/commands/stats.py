"""`freeclaude stats`: usage history from the ledger."""

import json
import re
import time
from datetime import datetime

from freeclaude.errors import FreeclaudeError
from freeclaude.render import err, out
from freeclaude.service import home
from freeclaude.usage import report
from freeclaude.usage.ledger import Ledger

_SINCE = re.compile(r"(\d+)([mhdw])\Z")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value: str) -> float:
    match = _SINCE.match(value.strip())
    if match:
        return time.time() - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise FreeclaudeError(f"--since {value!r}: use a span like 30m, 12h, 7d, 2w, or a date like 2026-11-01") from None


def main(since: str | None, profile: str | None, as_json: bool) -> None:
    start = parse_since(since) if since else None
    path = home.ledger_path()
    totals = None
    if path.exists():
        with Ledger(path) as ledger:
            totals = ledger.totals(since=start, profile=profile)
    if as_json:
        empty: dict[str, object] = {"by_tier": {}, "by_model": {}, "by_day": {}, "by_profile": {}, "by_session": {}, "total": {},
                 "errors": []}
        out.print_json(json.dumps({"since": since, "profile": profile, **(totals or empty)}))
        return
    if not totals or not totals["total"]["attempts"]:
        scope = f" for profile {profile}" if profile else ""
        err.print(f"no usage recorded yet{scope}{' in that span' if since else ''}: "
                  "`freeclaude run` starts Claude Code through freeclaude")
        return
    heading = "usage" + (f" since {since}" if since else "") + (f", profile {profile}" if profile else "")
    report.print_stats(out, totals, heading)
