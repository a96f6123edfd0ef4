"""`freeclaude profile ...`: add, list, show, remove, use, templates, test."""

import asyncio
import json
import os

from rich.table import Table

from freeclaude.errors import FreeclaudeError
from freeclaude.profiles import schema, store
from freeclaude.profiles.providers import KINDS
from freeclaude.profiles.schema import TIERS, ProfileError
from freeclaude.profiles.store import Store
from freeclaude.render import err, out


def add(name: str, template: str | None, kind: str | None, base_url: str | None, api_key_env: str | None,
        tiers: dict[str, list[str]], default: bool) -> None:
    if kind and kind not in KINDS:
        raise FreeclaudeError(f"--kind must be one of {', '.join(KINDS)}")
    profiles = Store()
    data = build(
        template_data=store.template(template) if template else None,
        name=name, kind=kind, base_url=base_url, api_key_env=api_key_env, tiers=tiers,
    )
    saved = profiles.save(name, data)
    if default:
        profiles.set_default(name)
    err.print(f"saved profile [bold]{name}[/bold] to {profiles.path(name)}", highlight=False)
    missing = [v for v in saved.key_vars() if not os.environ.get(v)]
    if missing:
        err.print(f"before using it: export {missing[0]}=<your key>", highlight=False)


def build(
    *,
    template_data: dict | None,
    name: str,
    kind: str | None,
    base_url: str | None,
    api_key_env: str | None,
    tiers: dict[str, list[str]],
) -> dict:
    """Profile data from a template and/or command-line settings (which win)."""
    if template_data is not None:
        data = dict(template_data)
        data["providers"] = {k: dict(v) for k, v in template_data["providers"].items()}
        first = next(iter(data["providers"]))
    else:
        if not base_url:
            raise ProfileError("a profile without --template needs --base-url (and --opus/--sonnet/--haiku models)")
        first = name
        data = {"providers": {first: {"kind": kind or "openai", "base_url": base_url}}, "tiers": {}}
    provider = data["providers"][first]
    if kind:
        provider["kind"] = kind
    if base_url:
        provider["base_url"] = base_url
    if api_key_env:
        provider["api_key_env"] = api_key_env
    if tiers:
        data["tiers"] = dict(data.get("tiers") or {})
        for tier, chain in tiers.items():
            data["tiers"][tier] = [m if m.partition(":")[0] in data["providers"] else f"{first}:{m}" for m in chain]
    return data


def list_() -> None:
    profiles = Store()
    names = profiles.names()
    if not names:
        err.print("no profiles yet: `freeclaude profile templates` shows where to start")
        return
    default = profiles.default()
    table = Table(header_style="bold")
    for header in ("", "profile", *TIERS):
        table.add_column(header)
    for name in names:
        try:
            p = profiles.load(name)
            cells = [", ".join(f"{m.ref}" for m in p.chain(t)) for t in TIERS]
        except FreeclaudeError as e:
            cells = [f"[red]{e}[/red]"] + [""] * (len(TIERS) - 1)
        table.add_row("*" if name == default else "", name, *cells)
    out.print(table)


def show(name: str) -> None:
    profiles = Store()
    p = profiles.load(name)
    err.print(f"[dim]{profiles.path(name)}[/dim]", highlight=False)
    out.print(profiles.path(name).read_text(encoding="utf-8"), highlight=False, markup=False)
    for var in p.key_vars():
        state = "set" if os.environ.get(var) else "NOT SET"
        err.print(f"${var}: {state}", highlight=False)
    origin = "" if "lean" in p.data else " (not set: the default)"
    err.print(f"lean: {p.lean}{origin}; `freeclaude run --lean off|core|minimal` changes it for one run", highlight=False)
    from freeclaude.usage.report import search_note

    note = search_note(p)
    if note:
        err.print(note, highlight=False, markup=False)


def remove(name: str) -> None:
    Store().remove(name)
    err.print(f"removed profile {name}", highlight=False)


def use(name: str) -> None:
    Store().set_default(name)
    err.print(f"default profile: {name}", highlight=False)


def templates() -> None:
    table = Table(header_style="bold")
    for header in ("template", "key variable", "description"):
        table.add_column(header)
    for name, data in store.templates().items():
        p = schema.parse(data, name, f"template {name}")
        table.add_row(name, ", ".join(p.key_vars()) or "(none: local)", p.description)
    out.print(table)


def test(name: str, as_json: bool, as_markdown: bool, rounds: int) -> None:
    from freeclaude.diagnose import probe

    if as_json and as_markdown:
        raise FreeclaudeError("--json or --markdown: one of them")
    results = asyncio.run(probe.run(Store().load(name), err, rounds=rounds))
    if as_json:
        out.print_json(json.dumps(results))
    elif as_markdown:
        print(probe.markdown(results, f"profile {name}"))  # plain: rich would wrap and style it
    else:
        out.print(probe.table(results))
