"""The command line: parse, call, render. No protocol logic here."""

import asyncio
import json
import logging
import os
import re
import sys
import time
from datetime import datetime
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from freeclaude import __version__, discover, home, launcher, probe, profiles, report
from freeclaude.errors import FreeclaudeError
from freeclaude.ledger import Ledger
from freeclaude.profiles import TIERS, Store
from freeclaude.providers import KINDS
from freeclaude.server import Config, Server

err = Console(stderr=True)
out = Console()


class _Group(TyperGroup):
    """The one place a FreeclaudeError becomes a one-line message and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FreeclaudeError as e:
            err.print(f"[red]freeclaude:[/red] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  help="Run Claude Code on free, cheap and local models.")
profile_app = typer.Typer(no_args_is_help=True, help="Manage provider profiles.")
app.add_typer(profile_app, name="profile")

ProfileOpt = Annotated[Optional[str], typer.Option("--profile", help="Profile to use (default: the default profile).")]


def main() -> None:
    app(prog_name="freeclaude")


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit()


# ---------------------------------------------------------------- run / serve


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "allow_interspersed_args": False})
def run(
    ctx: typer.Context,
    profile: ProfileOpt = None,
    port: Annotated[int, typer.Option(help="Port for the gateway (default: any free one).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No summary at exit.")] = False,
) -> None:
    """Run Claude Code through freeclaude. Arguments after the options (or after --) go to claude."""
    store = Store()
    chosen = store.resolve(profile) if profile or store.default() else discover.first_run(store, err)
    code, server = asyncio.run(_run(chosen, ctx.args, port))
    if not quiet:
        with Ledger(home.ledger_path()) as ledger:
            report.print_summary(err, ledger.totals(session=server.config.session), chosen.name)
    raise typer.Exit(code)


async def _run(chosen, args, port):
    handler = launcher.log_to_file(home.log_path())
    try:
        return await launcher.run(chosen, args, port=port)
    finally:
        handler.close()


@app.command()
def serve(
    profile: ProfileOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (default: any free one).")] = 0,
    token: Annotated[Optional[str], typer.Option(help="Token clients must send (default: a new random one).")] = None,
) -> None:
    """Run the gateway alone, for IDE extensions and other Anthropic clients."""
    chosen = Store().resolve(profile)
    config = Config(profile=chosen, host=host, port=port, ledger_path=home.ledger_path())
    if token:
        config.token = token
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    _serve(Server(config))


def _serve(server: Server) -> None:
    def ready(base_url: str) -> None:
        out.print(f"ANTHROPIC_BASE_URL={base_url}", highlight=False)
        out.print(f"ANTHROPIC_AUTH_TOKEN={server.config.token}", highlight=False)
        err.print(f"[dim]profile {server.profile.name}; Ctrl-C stops[/dim]")

    try:
        asyncio.run(server.serve(ready))
    except KeyboardInterrupt:
        pass  # Ctrl-C is how serve is meant to end


# ---------------------------------------------------------------- profile


@profile_app.command("add")
def profile_add(
    name: str,
    template: Annotated[Optional[str], typer.Option(help="Start from a built-in template (see `profile templates`).")] = None,
    kind: Annotated[Optional[str], typer.Option(help=f"Upstream API: {' or '.join(KINDS)}.")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="Upstream base URL.")] = None,
    api_key_env: Annotated[Optional[str], typer.Option("--api-key-env", help="Environment variable holding the key.")] = None,
    opus: Annotated[Optional[list[str]], typer.Option(help="Model for opus; repeat for a fallback chain.")] = None,
    sonnet: Annotated[Optional[list[str]], typer.Option(help="Model for sonnet; repeat for a fallback chain.")] = None,
    haiku: Annotated[Optional[list[str]], typer.Option(help="Model for haiku; repeat for a fallback chain.")] = None,
    default: Annotated[bool, typer.Option("--default", help="Make it the default profile.")] = False,
) -> None:
    """Add a profile (or replace one of the same name)."""
    if kind and kind not in KINDS:
        raise FreeclaudeError(f"--kind must be one of {', '.join(KINDS)}")
    store = Store()
    tiers = {t: chain for t, chain in (("opus", opus), ("sonnet", sonnet), ("haiku", haiku)) if chain}
    data = profiles.build(
        template_data=profiles.template(template) if template else None,
        name=name, kind=kind, base_url=base_url, api_key_env=api_key_env, tiers=tiers,
    )
    saved = store.save(name, data)
    if default:
        store.set_default(name)
    err.print(f"saved profile [bold]{name}[/bold] to {store.path(name)}", highlight=False)
    missing = [v for v in saved.key_vars() if not os.environ.get(v)]
    if missing:
        err.print(f"before using it: export {missing[0]}=<your key>", highlight=False)


@profile_app.command("list")
def profile_list() -> None:
    """List profiles; * marks the default."""
    store = Store()
    names = store.names()
    if not names:
        err.print("no profiles yet: `freeclaude profile templates` shows where to start")
        return
    default = store.default()
    table = Table(header_style="bold")
    for header in ("", "profile", *TIERS):
        table.add_column(header)
    for name in names:
        try:
            p = store.load(name)
            cells = [", ".join(f"{m.provider}:{m.name}" for m in p.chain(t)) for t in TIERS]
        except FreeclaudeError as e:
            cells = [f"[red]{e}[/red]", "", ""]
        table.add_row("*" if name == default else "", name, *cells)
    out.print(table)


@profile_app.command("show")
def profile_show(name: str) -> None:
    """Show a profile's file and whether its keys are set."""
    store = Store()
    p = store.load(name)
    err.print(f"[dim]{store.path(name)}[/dim]", highlight=False)
    out.print(store.path(name).read_text(encoding="utf-8"), highlight=False, markup=False)
    for var in p.key_vars():
        state = "set" if os.environ.get(var) else "NOT SET"
        err.print(f"${var}: {state}", highlight=False)


@profile_app.command("remove")
def profile_remove(name: str) -> None:
    """Remove a profile."""
    Store().remove(name)
    err.print(f"removed profile {name}", highlight=False)


@profile_app.command("use")
def profile_use(name: str) -> None:
    """Make a profile the default."""
    Store().set_default(name)
    err.print(f"default profile: {name}", highlight=False)


@profile_app.command("templates")
def profile_templates() -> None:
    """List the built-in templates."""
    table = Table(header_style="bold")
    for header in ("template", "key variable", "description"):
        table.add_column(header)
    for name, data in profiles.templates().items():
        p = profiles.parse(data, name, f"template {name}")
        table.add_row(name, ", ".join(p.key_vars()) or "(none: local)", p.description)
    out.print(table)


@profile_app.command("test")
def profile_test(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    rounds: Annotated[int, typer.Option(min=1, help="Times each probe runs (more: steadier percentiles).")] = 2,
) -> None:
    """Probe each tier: plain answer, tool call, parallel calls, streaming; report accuracy and speed."""
    results = asyncio.run(probe.run(Store().load(name), err, rounds=rounds))
    if as_json:
        out.print_json(json.dumps(results))
    else:
        out.print(probe.table(results))


# ---------------------------------------------------------------- stats

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


@app.command()
def stats(
    since: Annotated[Optional[str], typer.Option(help="Only the last span (30m, 12h, 7d, 2w) or since a date.")] = None,
    profile: Annotated[Optional[str], typer.Option(help="Only this profile.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Usage history: tokens, cost and what Anthropic would have charged."""
    start = parse_since(since) if since else None
    path = home.ledger_path()
    totals = None
    if path.exists():
        with Ledger(path) as ledger:
            totals = ledger.totals(since=start, profile=profile)
    if as_json:
        empty = {"by_tier": {}, "by_model": {}, "by_day": {}, "by_profile": {}, "total": {}}
        out.print_json(json.dumps({"since": since, "profile": profile, **(totals or empty)}))
        return
    if not totals or not totals["total"]["attempts"]:
        scope = f" for profile {profile}" if profile else ""
        err.print(f"no usage recorded yet{scope}{' in that span' if since else ''}: "
                  "`freeclaude run` starts Claude Code through freeclaude")
        return
    heading = "usage" + (f" since {since}" if since else "") + (f", profile {profile}" if profile else "")
    report.print_stats(out, totals, heading)
