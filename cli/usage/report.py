"""Rich tables for the exit summary, stats and profile tests."""

from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from freeclaude.profiles.schema import TIERS, Profile
from freeclaude.usage.pricing import usd

SESSIONS_SHOWN = 10


def _n(value: int) -> str:
    return f"{value:,}"


def usage_table(rows: dict[str, dict], title: str, key_header: str, total: dict | None = None) -> Table:
    """Per key: requests, tokens, cost, list price, saved, requests a fallback model answered, errors,
    and the web searches the gateway ran, when there were any."""
    searched = any(r.get("web_searches") for r in rows.values())

    def cells(name: str, r: dict) -> list[str]:
        return [name, _n(r["requests"]), _n(r["input_tokens"]), _n(r["output_tokens"]), usd(r["cost_usd"]),
                usd(r["list_price_usd"]), usd(max(r["list_price_usd"] - r["cost_usd"], 0.0)),
                _n(r["fallbacks"]), _n(r["errors"])] + ([_n(r.get("web_searches") or 0)] if searched else [])

    order = [t for t in (*TIERS, "default") if t in rows] + sorted(k for k in rows if k not in (*TIERS, "default"))
    body = [cells(str(name), rows[name]) for name in order]
    if total is not None and len(rows) > 1:
        body.append(cells("total", total))
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0))
    headers = (key_header, "requests", "input", "output", "cost", "list\nprice", "saved", "fall-\nbacks", "errors",
               *(("web\nsearches",) if searched else ()))
    for i, header in enumerate(headers):
        # numbers are never cut short: on a narrow terminal the headers wrap instead
        table.add_column(header, justify="left" if i == 0 else "right", min_width=max(len(r[i]) for r in body))
    for i, r in enumerate(body):
        table.add_row(*r, style="bold" if total is not None and i == len(body) - 1 and len(rows) > 1 else None)
    return table


def _estimated_note(console: Console, totals: dict) -> None:
    n = totals["total"]["estimated"]
    if n:
        console.print(f"[dim]{n} attempt(s) got no usage from the upstream: their tokens are estimated.[/dim]")


def _errors_note(console: Console, totals: dict) -> None:
    """What went wrong, most often first: Claude Code shows only its own rendering of it."""
    for e in totals.get("errors", ())[:3]:
        console.print(f"{e['count']}× {e['error']}", style="dim", highlight=False, markup=False, soft_wrap=True)


def search_note(profile: Profile) -> str | None:
    """What runs Claude Code's web searches, when the gateway is the one to run them (None when
    every model's upstream runs them itself)."""
    if all(m.quirks.server_web_search for m in profile.models()):
        return None
    if profile.search is None:
        return (f"web search: none set up in profile {profile.name}, so WebSearch answers that it is "
                "unavailable (a [search] table sets up SearXNG, Brave or Tavily)")
    return f"web search: {profile.search.kind} at {profile.search.url}"


def print_summary(console: Console, totals: dict, profile: str, why: str = "", notes: Sequence[str] = ()) -> None:
    """The bill at the end of `run`: per tier (image descriptions under "vision"), on stderr, then
    the notes (what runs web searches). `why`: what picked the profile."""
    which = f"profile {profile}" + (f" ({why})" if why else "")
    if not totals["by_tier"]:
        console.print(f"[dim]freeclaude: no model requests this session ({escape(which)}).[/dim]", highlight=False)
    else:
        console.print(usage_table(totals["by_tier"], f"freeclaude: this session on {which}", "tier", totals["total"]))
        _estimated_note(console, totals)
        _errors_note(console, totals)
    for note in notes:
        console.print(f"[dim]{escape(note)}[/dim]", highlight=False)


def print_stats(console: Console, totals: dict, heading: str) -> None:
    console.print(f"[bold]{heading}[/bold]")
    console.print(usage_table(totals["by_tier"], "by tier", "tier", totals["total"]))
    console.print(usage_table(totals["by_model"], "by model", "model"))
    console.print(usage_table(totals["by_day"], "by day", "day"))
    console.print(usage_table(totals["by_profile"], "by profile", "profile"))
    sessions = totals.get("by_session") or {}
    if sessions:
        recent = list(sessions.items())[-SESSIONS_SHOWN:]
        # started first, then Claude Code's session id (its start, as `claude --resume` lists them)
        rows = {f"{r['first'][:16].replace('T', ' ')} {sid[:8]}": r for sid, r in recent}
        title = "by Claude Code session" + (f" (the last {SESSIONS_SHOWN} of {len(sessions)}; --json has all)"
                                            if len(sessions) > SESSIONS_SHOWN else "")
        console.print(usage_table(rows, title, "started, session"))
    _estimated_note(console, totals)
    _errors_note(console, totals)


def usage_line(total: dict) -> str:
    """One line for a total: requests, tokens, cost and the list price."""
    return (f"{_n(total['requests'])} requests, {_n(total['input_tokens'])} tokens in, {_n(total['output_tokens'])} out, "
            f"{usd(total['cost_usd'])} (Anthropic's list price: {usd(total['list_price_usd'])})")
