"""Rich tables for the exit summary, stats and profile tests."""

from rich import box
from rich.console import Console
from rich.table import Table

from freeclaude.pricing import usd
from freeclaude.profiles import TIERS


def _n(value: int) -> str:
    return f"{value:,}"


def usage_table(rows: dict[str, dict], title: str, key_header: str, total: dict | None = None) -> Table:
    """Per key: requests, tokens, cost, list price, saved, requests a fallback model answered, errors."""

    def cells(name: str, r: dict) -> list[str]:
        return [name, _n(r["requests"]), _n(r["input_tokens"]), _n(r["output_tokens"]), usd(r["cost_usd"]),
                usd(r["list_price_usd"]), usd(max(r["list_price_usd"] - r["cost_usd"], 0.0)),
                _n(r["fallbacks"]), _n(r["errors"])]

    order = [t for t in (*TIERS, "default") if t in rows] + sorted(k for k in rows if k not in (*TIERS, "default"))
    body = [cells(str(name), rows[name]) for name in order]
    if total is not None and len(rows) > 1:
        body.append(cells("total", total))
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0))
    headers = (key_header, "requests", "input", "output", "cost", "list\nprice", "saved", "fall-\nbacks", "errors")
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


def print_summary(console: Console, totals: dict, profile: str, why: str = "") -> None:
    """The bill at the end of `run`: per tier, on stderr. `why`: what picked the profile."""
    which = f"profile {profile}" + (f" ({why})" if why else "")
    if not totals["by_tier"]:
        console.print(f"[dim]freeclaude: no model requests this session ({which}).[/dim]", highlight=False)
        return
    console.print(usage_table(totals["by_tier"], f"freeclaude: this session on {which}", "tier", totals["total"]))
    _estimated_note(console, totals)


def print_stats(console: Console, totals: dict, heading: str) -> None:
    console.print(f"[bold]{heading}[/bold]")
    console.print(usage_table(totals["by_tier"], "by tier", "tier", totals["total"]))
    console.print(usage_table(totals["by_model"], "by model", "model"))
    console.print(usage_table(totals["by_day"], "by day", "day"))
    console.print(usage_table(totals["by_profile"], "by profile", "profile"))
    _estimated_note(console, totals)
