"""`freeclaude start`, `stop` and `status`: the gateway in the background."""

import json
import os
import time
from datetime import datetime
from typing import Any

from freeclaude.errors import FreeclaudeError
from freeclaude.gateway.config import BACKGROUND_PORT
from freeclaude.render import err, out
from freeclaude.service import background as bg
from freeclaude.service import home
from freeclaude.usage.ledger import Ledger, iso


def start(profile: str | None, port: int) -> None:
    found = bg.lookup()
    if s := found.live:
        where = f"at {s.base_url} (profile {s.profile}, pid {s.pid})"
        if (profile and profile != s.profile) or (port and port != s.port):
            raise FreeclaudeError(f"a gateway is already running {where}: `freeclaude stop` it first to start another")
        err.print(f"already running {where}", highlight=False, soft_wrap=True)
        return
    from freeclaude.gateway.config import Config
    from freeclaude.profiles.store import Store

    chosen = Store().resolve(profile)
    Config(profile=chosen).keys()  # a missing key is said here, not in a log file
    try:
        state, note = bg.start(chosen.name, port or BACKGROUND_PORT, os.environ)
    except bg.GatewayFailed as e:
        for line in e.log_lines:
            err.print(line, markup=False, highlight=False, soft_wrap=True)
        raise
    if note:
        err.print(note, highlight=False, soft_wrap=True)
    err.print(f"gateway running at {state.base_url} (profile {state.profile}, pid {state.pid}); "
              "point Claude Code at it with `eval \"$(freeclaude env)\"` or `freeclaude ide install claude`",
              highlight=False, soft_wrap=True)


def stop() -> None:
    _, said = bg.stop()
    err.print(said, highlight=False, soft_wrap=True)


def status(as_json: bool) -> None:
    info = _status()
    if as_json:
        out.print_json(json.dumps(info))
        return
    for held in info["foreign_listeners"]:
        err.print(f"[red]warning:[/red] {held['said']}; {bg.TAKEN_FIX}", highlight=False, soft_wrap=True)
    if not info["running"]:
        stale = " (a stale state file is left from one that did not stop cleanly)" if info["stale"] else ""
        err.print(f"no background gateway is running{stale}: `freeclaude start` starts one", highlight=False, soft_wrap=True)
        return
    from freeclaude.usage import report

    out.print(f"gateway running at {info['base_url']} (profile {info['profile']}, pid {info['pid']}), "
              f"up {_span(info['uptime_s'])}", highlight=False, soft_wrap=True)
    today = info["today"]
    if today and today["requests"]:
        out.print(f"today: {report.usage_line(today)}, {today['sessions']} Claude Code session(s)",
                  highlight=False, soft_wrap=True)
    else:
        out.print("today: no requests yet", highlight=False, soft_wrap=True)
    out.print(f"log: {info['log']}", highlight=False, soft_wrap=True)


def _status() -> dict[str, Any]:
    found = bg.lookup()
    state = found.live
    info: dict[str, Any] = {"running": found.running, "stale": found.stale,
            "base_url": state.base_url if state else None, "profile": state.profile if state else None,
            "pid": state.pid if state else None, "port": state.port if state else None,
            "started": iso(state.started) if state else None,
            "uptime_s": round(time.time() - state.started, 1) if state else None,
            "log": str(bg.log_file()), "today": None, "gateway": None,
            # listeners on the gateway's port (or the ports IDE settings name) that are not it
            "foreign_listeners": [{"port": port, "held_by": holder.who, "said": bg.taken(port, holder)}
                                  for port, holder in bg.foreign(found)]}
    if home.ledger_path().exists():
        midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        with Ledger(home.ledger_path()) as ledger:
            today = ledger.totals(since=midnight)
            info["today"] = {**today["total"], "sessions": len(today["by_session"])}
            if state:
                info["gateway"] = ledger.totals(session=state.session)["total"]  # since this gateway started
    return info


def _span(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
