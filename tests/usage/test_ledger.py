"""The ledger's own promises, below `freeclaude stats` (tests/usage/test_stats.py): what each sum
counts, filters that hold for every section, rows that cannot be written, text SQLite cannot hold."""

import re
import sqlite3
import time
from datetime import datetime

import pytest

from freeclaude.usage.ledger import Ledger, iso
from tests.usage.test_stats import attempt


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "usage.db") as ledger:
        yield ledger


def test_a_fallback_is_a_request_a_later_model_answered(ledger):
    ledger.record(
        attempt(request_id="r1", outcome="rate_limit_error", status=429),
        attempt(request_id="r1", position=1, attempt=1, outcome="overloaded_error", status=529),
        attempt(request_id="r1", position=2, attempt=2),  # answered by the third model
        attempt(request_id="r2", position=1, attempt=1, outcome="api_error", status=500),  # no model answered
        attempt(request_id="r3"),
        attempt(request_id="r4", position=-1, outcome="invalid_request_error", status=400),  # refused before any upstream
    )
    total = ledger.totals()["total"]
    assert (total["requests"], total["attempts"], total["errors"], total["fallbacks"]) == (4, 6, 4, 1)
    assert set(ledger.totals()["by_model"]) == {"or:m1", "refused by freeclaude"}


def test_the_commonest_errors_first_five_at_most(ledger):
    now = time.time()
    for i, (error, n) in enumerate([("e-rare", 1), ("e-common", 4), ("e-old-tie", 2), ("e-new-tie", 2),
                                    ("e-4", 3), ("e-5", 3), ("e-6", 3)]):
        ledger.record(*(attempt(request_id=f"{error}{k}", outcome="api_error", status=500, error=error, ts=now + i)
                        for k in range(n)))
    ledger.record(attempt(request_id="ok", error="not an error: its outcome is ok"),
                  attempt(request_id="bare", outcome="api_error", status=500))  # no text: nothing to show
    errors = ledger.totals()["errors"]
    assert errors == [{"error": "e-common", "count": 4}, {"error": "e-6", "count": 3}, {"error": "e-5", "count": 3},
                      {"error": "e-4", "count": 3}, {"error": "e-new-tie", "count": 2}]


def test_every_section_keeps_to_the_filters(ledger):
    now = time.time()
    ledger.record(
        attempt(request_id="in", session="g1", client_session="cc-a", outcome="api_error", error="boom", ts=now),
        attempt(request_id="other-gateway", session="g2", client_session="cc-b", outcome="api_error", error="far", ts=now),
        attempt(request_id="too-old", session="g1", client_session="cc-c", outcome="api_error", error="old", ts=now - 3600),
        attempt(request_id="other-profile", session="g1", profile="x", client_session="cc-d", ts=now),
    )
    t = ledger.totals(since=now - 60, profile="free", session="g1")
    assert t["total"]["requests"] == 1
    assert t["errors"] == [{"error": "boom", "count": 1}]
    assert list(t["by_session"]) == ["cc-a"]
    assert list(t["by_profile"]) == ["free"] and sum(r["requests"] for r in t["by_tier"].values()) == 1
    assert ledger.totals(session="nobody") == {
        "total": dict.fromkeys(t["total"], 0), "by_tier": {}, "by_model": {}, "by_day": {}, "by_profile": {},
        "errors": [], "by_session": {}}


def test_a_row_that_cannot_be_written_raises_and_leaves_nothing_behind(ledger):
    with pytest.raises(OverflowError):
        ledger.record(attempt(request_id="huge", input_tokens=2**70))
    with pytest.raises(ValueError, match=r"^2 row\(s\) could not be written \(b1, b3\)"):
        ledger.record(attempt(request_id="b0"), attempt(request_id="b1", output_tokens=2**64),
                      attempt(request_id="b2"), attempt(request_id="b3", cache_read_tokens=2**64))
    ids = [r[0] for r in ledger.db.execute("SELECT request_id FROM attempts ORDER BY id")]
    assert ids == ["b0", "b2"] and not ledger.db.in_transaction


def test_text_utf8_cannot_hold_is_kept_escaped_and_the_rest_as_it_came(tmp_path, ledger):
    ledger.record(attempt(upstream_model="modèle-日本", error="bad byte \udcff here", outcome="api_error"))
    ledger.close()
    db = sqlite3.connect(tmp_path / "usage.db")  # what another reader (stats, sqlite3) finds
    assert db.execute("SELECT upstream_model, error FROM attempts").fetchone() == ("modèle-日本", "bad byte \\udcff here")


def test_times_are_local_iso_to_the_second():
    ts = 1_700_000_000.75
    shown = iso(ts)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", shown)
    assert datetime.fromisoformat(shown).timestamp() == 1_700_000_000
