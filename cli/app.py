"""The command line: options and help only. Each command imports its module (freeclaude.commands)
when it runs, so that no command pays for another's imports (aiohttp, rich, sqlite)."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from freeclaude import __version__
from freeclaude.claude.lean import Level
from freeclaude.errors import FreeclaudeError
from freeclaude.gateway.config import BACKGROUND_PORT, GRACE_S


class _Group(TyperGroup):
    """The one place a FreeclaudeError becomes a one-line message and exit code 1; so does a file
    that could not be read or written where no command said it better (a full disk, a folder
    that is not the user's): its path and what the system said, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FreeclaudeError as e:
            _say(str(e))
        except OSError as e:
            if e.filename is None:  # not about a file: a bug, which a traceback should show
                raise
            _say(f"{e.filename}: {e.strerror or e}")
        raise typer.Exit(1) from None


def _say(message: str) -> None:
    from rich.markup import escape

    from freeclaude.render import err

    # escaped: a message may quote a TOML table name ("[search]"), which is no markup
    err.print(f"[red]freeclaude:[/red] {escape(message)}", highlight=False, soft_wrap=True)


# Completion (--install-completion, --show-completion) for bash, zsh, fish and PowerShell: it
# costs `run` nothing measurable, since Typer loads its completion code either way.
app = typer.Typer(cls=_Group, no_args_is_help=True, rich_markup_mode=None,
                  help="Run Claude Code on free, cheap and local models.")
profile_app = typer.Typer(no_args_is_help=True, help="Manage provider profiles.")
app.add_typer(profile_app, name="profile")
ide_app = typer.Typer(no_args_is_help=True, help="Point Claude Code, VS Code or JetBrains at the background gateway.")
app.add_typer(ide_app, name="ide")

ProfileOpt = Annotated[str | None, typer.Option("--profile", help="Profile to use (default: the default profile).")]


def _version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                          help="Print the version.")] = False,
) -> None:
    from freeclaude.service import home

    home.secure()


# ---------------------------------------------------------------- run / serve


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "allow_interspersed_args": False})
def run(
    ctx: typer.Context,
    profile: ProfileOpt = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port for the gateway (default: any free one).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No summary at exit.")] = False,
    no_statusline: Annotated[bool, typer.Option("--no-statusline",
                                                help="Leave Claude Code's status line alone.")] = False,
    lean: Annotated[Level | None, typer.Option(help="How much of Claude Code's own prompt reaches the model "
                                                      "(default: the profile's lean).")] = None,
) -> None:
    """Run Claude Code through freeclaude. Arguments after the options (or after --) go to claude."""
    from freeclaude.commands import run

    raise typer.Exit(run.main(profile, port, quiet, ctx.args, statusline=not no_statusline,
                              lean=lean.value if lean else None))


@app.command()
def serve(
    profile: ProfileOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (default: any free one).")] = 0,
    token: Annotated[str | None, typer.Option(
        help="Token clients must send (default: --token-file, else $FREECLAUDE_TOKEN, else a new random one). "
             "Other users of the machine see it in `ps`: prefer --token-file.")] = None,
    token_file: Annotated[Path | None, typer.Option(help="A file holding the token clients must send.")] = None,
    grace: Annotated[float, typer.Option(
        help="On SIGTERM or Ctrl-C, seconds answers in flight get to finish before they are ended.")] = GRACE_S,
    background: Annotated[bool, typer.Option("--background", hidden=True)] = False,  # what `start` runs
) -> None:
    """Run the gateway alone, for IDE extensions and other Anthropic clients."""
    from freeclaude.commands import serve

    serve.main(profile, host, port, token, background, token_file, grace)


# ---------------------------------------------------------------- the background gateway


class Shell(StrEnum):
    sh = "sh"
    fish = "fish"
    powershell = "powershell"


@app.command()
def start(
    profile: ProfileOpt = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help=f"Port (default: {BACKGROUND_PORT}, the same every time).")] = 0,
) -> None:
    """Start the gateway in the background: one per user, same port and token every time."""
    from freeclaude.commands import background

    background.start(profile, port)


@app.command()
def stop() -> None:
    """Stop the background gateway."""
    from freeclaude.commands import background

    background.stop()


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Whether the background gateway runs: where, profile, pid, uptime, today's usage."""
    from freeclaude.commands import background

    background.status(as_json)


@app.command()
def env(
    shell: Annotated[Shell | None, typer.Option(
        help="Syntax (default: powershell on Windows, fish under fish, else sh).")] = None,
) -> None:
    """Export lines for the background gateway: eval "$(freeclaude env)"."""
    from freeclaude.commands import env

    env.main(shell.value if shell else None)


# ---------------------------------------------------------------- IDEs


class Target(StrEnum):
    claude = "claude"
    vscode = "vscode"
    jetbrains = "jetbrains"


TargetArg = Annotated[Target, typer.Argument(help="claude (~/.claude/settings.json: every Claude Code), "
                                                  "vscode (VS Code, Cursor, VSCodium) or jetbrains.")]


@ide_app.command("install")
def ide_install(target: TargetArg) -> None:
    """Put the background gateway's variables where that client reads them."""
    from freeclaude.commands import ide

    ide.install(target.value)


@ide_app.command("uninstall")
def ide_uninstall(target: TargetArg) -> None:
    """Take out what `ide install` put in, leaving the file as it was."""
    from freeclaude.commands import ide

    ide.uninstall(target.value)


@app.command()
def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """What is wrong and how to fix it: Claude Code, the profile and its keys, each tier, the gateway, IDEs."""
    from freeclaude.commands import doctor

    raise typer.Exit(doctor.main(as_json))


@app.command()
def statusline() -> None:
    """Claude Code's statusLine command: reads its session JSON on stdin, prints one line."""
    from freeclaude.claude import statusline

    statusline.main()


# ---------------------------------------------------------------- profile


@profile_app.command("add")
def profile_add(
    name: str,
    template: Annotated[str | None, typer.Option(help="Start from a built-in template (see `profile templates`).")] = None,
    kind: Annotated[str | None, typer.Option(help="Upstream API: openai or anthropic.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Upstream base URL.")] = None,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="Environment variable holding the key.")] = None,
    opus: Annotated[list[str] | None, typer.Option(help="Model for opus; repeat for a fallback chain.")] = None,
    sonnet: Annotated[list[str] | None, typer.Option(help="Model for sonnet; repeat for a fallback chain.")] = None,
    haiku: Annotated[list[str] | None, typer.Option(help="Model for haiku; repeat for a fallback chain.")] = None,
    fable: Annotated[list[str] | None, typer.Option(
        help="Model for fable (default: the opus chain); repeat for a fallback chain.")] = None,
    default: Annotated[bool, typer.Option("--default", help="Make it the default profile.")] = False,
) -> None:
    """Add a profile (or replace one of the same name)."""
    from freeclaude.commands import profile

    tiers = {t: chain for t, chain in (("opus", opus), ("sonnet", sonnet), ("haiku", haiku), ("fable", fable)) if chain}
    profile.add(name, template, kind, base_url, api_key_env, tiers, default)


@profile_app.command("list")
def profile_list() -> None:
    """List profiles; * marks the default."""
    from freeclaude.commands import profile

    profile.list_()


@profile_app.command("show")
def profile_show(name: str) -> None:
    """Show a profile's file and whether its keys are set."""
    from freeclaude.commands import profile

    profile.show(name)


@profile_app.command("remove")
def profile_remove(name: str) -> None:
    """Remove a profile."""
    from freeclaude.commands import profile

    profile.remove(name)


@profile_app.command("use")
def profile_use(name: str) -> None:
    """Make a profile the default."""
    from freeclaude.commands import profile

    profile.use(name)


@profile_app.command("templates")
def profile_templates() -> None:
    """List the built-in templates."""
    from freeclaude.commands import profile

    profile.templates()


@profile_app.command("test")
def profile_test(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    as_markdown: Annotated[bool, typer.Option("--markdown", help="Print a shareable compatibility row per model.")] = False,
    rounds: Annotated[int, typer.Option(min=1, help="Times each probe runs (more: steadier percentiles).")] = 2,
) -> None:
    """Probe each tier: plain answer, tool call, parallel calls, streaming; report accuracy and speed."""
    from freeclaude.commands import profile

    profile.test(name, as_json, as_markdown, rounds)


# ---------------------------------------------------------------- stats


@app.command()
def stats(
    since: Annotated[str | None, typer.Option(help="Only the last span (30m, 12h, 7d, 2w) or since a date.")] = None,
    profile: Annotated[str | None, typer.Option(help="Only this profile.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Usage history: tokens, cost and what Anthropic would have charged."""
    from freeclaude.commands import stats

    stats.main(since, profile, as_json)
