"""The ledger and `freeclaude stats`: the same numbers as the exit summary, by tier, model, day, profile."""

import json
import sqlite3
import time

import pytest
from rich.console import Console
from typer.testing import CliRunner

from freeclaude.app import app
from freeclaude.usage import report
from freeclaude.usage.ledger import MIGRATIONS, Ledger, Row


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FREECLAUDE_HOME", str(tmp_path))
    return tmp_path


def attempt(**kw) -> Row:
    base = dict(session="s1", request_id="r1", profile="free", tier="opus", requested_model="claude-opus-5-5",
                provider="or", upstream_model="m1", stream=True, position=0, attempt=0,
                input_tokens=1000, output_tokens=100, cost_usd=0.0, list_price_usd=0.006)
    base.update(kw)
    return Row(**base)


def fill(path):
    with Ledger(path) as ledger:
        ledger.record(attempt(request_id="r1", outcome="rate_limit_error", status=429, input_tokens=0, output_tokens=0,
                              list_price_usd=0.0))
        ledger.record(attempt(request_id="r1", upstream_model="m2", position=1, attempt=1))
        ledger.record(attempt(request_id="r2", tier="haiku", input_tokens=50, output_tokens=5, list_price_usd=0.00001,
                              usage_estimated=True))
        ledger.record(attempt(request_id="r3", profile="other", session="s2", ts=time.time() - 10 * 86400))


def cli(*args):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.mark.parametrize("make, error", [
    (lambda path: path.write_bytes(b"not SQLite at all, just some text " * 100), "file is not a database"),
    (lambda path: path.mkdir(), "unable to open database file"),
])
def test_a_ledger_that_cannot_be_opened_is_one_line(home, make, error):
    make(home / "usage.db")
    r = cli("stats")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.output.startswith(f"freeclaude: {home / 'usage.db'}: {error} (if it is damaged, move it aside")


def test_empty_history_is_a_friendly_line(home):
    r = cli("stats")
    assert r.exit_code == 0 and "no usage recorded yet" in r.output
    r = cli("stats", "--json")
    assert json.loads(r.output)["by_tier"] == {}


def test_json_shape_and_filters(home):
    fill(home / "usage.db")
    data = json.loads(cli("stats", "--json").output)
    assert data["by_tier"]["opus"] == {
        "requests": 2, "attempts": 3, "errors": 1, "fallbacks": 1, "estimated": 0, "input_tokens": 2000,
        "output_tokens": 200, "cache_read_tokens": 0, "cost_usd": 0.0, "list_price_usd": 0.012, "web_searches": 0}
    assert data["by_tier"]["haiku"]["estimated"] == 1
    assert set(data["by_model"]) == {"or:m1", "or:m2"} and set(data["by_profile"]) == {"free", "other"}
    assert len(data["by_day"]) == 2
    recent = json.loads(cli("stats", "--json", "--since", "7d").output)
    assert recent["by_tier"]["opus"]["requests"] == 1 and "other" not in recent["by_profile"]
    only = json.loads(cli("stats", "--json", "--profile", "other").output)
    assert list(only["by_profile"]) == ["other"]


def test_tables_match_the_exit_summary(home):
    fill(home / "usage.db")
    out = cli("stats").output
    for heading in ("by tier", "by model", "by day", "by profile"):
        assert heading in out
    with Ledger(home / "usage.db") as ledger:
        session = ledger.totals(session="s1")
    console = Console(record=True, width=200)
    report.print_summary(console, session, "free")
    summary = console.export_text()
    assert "opus" in summary and "1,000" in summary and "haiku" in summary
    assert "1 attempt(s) got no usage from the upstream" in summary
    # the opus row of the summary is the opus row of stats for the same span
    opus_row = next(line for line in summary.splitlines() if line.strip("│ ").startswith("opus"))
    assert opus_row in cli("stats", "--profile", "free").output


def test_migrations_are_numbered_and_idempotent(tmp_path):
    path = tmp_path / "usage.db"
    Ledger(path).close()
    Ledger(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_ledger_from_the_first_schema_is_upgraded_keeping_its_rows(tmp_path):
    path = tmp_path / "usage.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    db.execute("INSERT INTO attempts (ts, session, request_id, profile, tier, requested_model, provider, "
               "upstream_model, stream, position, attempt, input_tokens, outcome) "
               "VALUES (1, 's', 'r', 'p', 'opus', 'm', 'x', 'y', 1, 0, 0, 42, 'ok')")
    db.close()
    with Ledger(path) as ledger:
        ledger.record(attempt(client_session="cc-1", web_searches=2))
        totals = ledger.totals()
    assert totals["total"]["input_tokens"] == 42 + 1000 and totals["total"]["web_searches"] == 2


def test_fable_is_priced_as_fable():
    from freeclaude.gateway.router import tier_of
    from freeclaude.usage.pricing import list_price
    assert tier_of("claude-fable-5-2") == "fable"
    assert list_price("fable", 1_000_000, 1_000_000) == pytest.approx(48.0)


def test_web_searches_and_image_descriptions_show_in_the_bill_and_stats(home):
    with Ledger(home / "usage.db") as ledger:
        ledger.record(attempt(request_id="r1", web_searches=2))
        ledger.record(attempt(request_id="r2", tier="vision", requested_model="vision", upstream_model="eyes",
                              input_tokens=900, output_tokens=12))
        ledger.record(attempt(request_id="r3", tier="haiku", input_tokens=5, output_tokens=1))
    with Ledger(home / "usage.db") as ledger:
        totals = ledger.totals(session="s1")
    console = Console(record=True, width=200)
    report.print_summary(console, totals, "free", notes=["web search: searxng at http://127.0.0.1:8888 [self-hosted]"])
    summary = console.export_text()
    assert "searches" in summary
    rows = {line.split()[0]: line.split() for line in summary.splitlines() if line.split()}
    assert rows["opus"][-1] == "2" and rows["vision"][1:4] == ["1", "900", "12"] and rows["total"][-1] == "2"
    assert "web search: searxng at http://127.0.0.1:8888 [self-hosted]" in summary
    stats = cli("stats").output
    assert "searches" in stats and "vision" in stats
    assert json.loads(cli("stats", "--json").output)["by_tier"]["opus"]["web_searches"] == 2


def test_no_searches_no_column(home):
    fill(home / "usage.db")
    assert "searches" not in cli("stats").output


def test_usage_by_claude_code_session(home):
    """One gateway, two Claude Code sessions and a client that names none: each session apart,
    in the order it began; the unnamed requests count in the totals only."""
    now = time.time()
    with Ledger(home / "usage.db") as ledger:
        ledger.record(attempt(request_id="a1", client_session="sess-late-0000", ts=now - 60, input_tokens=7))
        ledger.record(attempt(request_id="b1", client_session="sess-early-111", ts=now - 600, input_tokens=5))
        ledger.record(attempt(request_id="b2", client_session="sess-early-111", ts=now - 300, input_tokens=6,
                              outcome="api_error", status=500))
        ledger.record(attempt(request_id="c1", ts=now - 30, input_tokens=100))
    data = json.loads(cli("stats", "--json").output)
    sessions = data["by_session"]
    assert list(sessions) == ["sess-early-111", "sess-late-0000"]
    early = sessions["sess-early-111"]
    assert (early["requests"], early["input_tokens"], early["errors"]) == (2, 11, 1)
    assert early["first"] < early["last"] and early["first"].startswith(time.strftime("%Y-"))
    assert data["total"]["input_tokens"] == 118
    assert json.loads(cli("stats", "--json", "--since", "2m").output)["by_session"].keys() == {"sess-late-0000"}
    out = cli("stats").output
    assert "by Claude Code session" in out
    assert out.index("sess-ear") < out.index("sess-lat")


def test_only_the_latest_sessions_are_tabled(home):
    now = time.time()
    with Ledger(home / "usage.db") as ledger:
        for i in range(report.SESSIONS_SHOWN + 2):
            ledger.record(attempt(request_id=f"r{i}", client_session=f"s{i:02d}-session", ts=now - 1000 + i))
    out = cli("stats").output
    assert f"the last {report.SESSIONS_SHOWN} of {report.SESSIONS_SHOWN + 2}" in out
    assert "s00-sess" not in out and f"s{report.SESSIONS_SHOWN + 1:02d}-sess" in out
