"""The usage ledger: one SQLite row per upstream attempt, written as each one finishes.

stdlib sqlite3 in WAL mode, schema versioned with PRAGMA user_version and numbered migrations.
"""

import dataclasses
import operator
import sqlite3
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from freeclaude.errors import FreeclaudeError
from freeclaude.service.files import private_file, tighten

MIGRATIONS = [
    # 1: attempts
    """
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        session TEXT NOT NULL,
        request_id TEXT NOT NULL,
        profile TEXT NOT NULL,
        tier TEXT NOT NULL,
        requested_model TEXT NOT NULL,
        provider TEXT NOT NULL,
        upstream_model TEXT NOT NULL,
        stream INTEGER NOT NULL,
        position INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        usage_estimated INTEGER NOT NULL DEFAULT 0,
        latency_ms REAL,
        ttft_ms REAL,
        outcome TEXT NOT NULL,
        status INTEGER,
        error TEXT,
        cost_usd REAL NOT NULL DEFAULT 0,
        list_price_usd REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX attempts_ts ON attempts (ts);
    CREATE INDEX attempts_session ON attempts (session);
    """,
    # 2: Claude Code's own session id (one gateway serves many sessions in `start` mode), and
    # the web searches the gateway ran for an attempt
    """
    ALTER TABLE attempts ADD COLUMN client_session TEXT;
    ALTER TABLE attempts ADD COLUMN web_searches INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX attempts_client_session ON attempts (client_session);
    """,
]


@dataclasses.dataclass
class Row:
    """One attempt at one model, as the ledger keeps it (gateway/attempt.py fills it in)."""

    session: str
    request_id: str
    profile: str
    tier: str
    requested_model: str
    provider: str
    upstream_model: str
    stream: bool
    position: int  # in the tier's chain: >0 means a fallback model answered
    attempt: int  # 0 for the first try of this request
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    usage_estimated: bool = False
    latency_ms: float | None = None
    ttft_ms: float | None = None
    outcome: str = "ok"  # or an Anthropic error type, or client_closed
    status: int | None = 200
    error: str | None = None
    cost_usd: float = 0.0
    list_price_usd: float = 0.0
    client_session: str | None = None  # Claude Code's session id, where its request names one
    web_searches: int = 0
    ts: float = dataclasses.field(default_factory=time.time)


_FIELDS = [f.name for f in dataclasses.fields(Row)]
_INSERT = f"INSERT INTO attempts ({', '.join(_FIELDS)}) VALUES ({', '.join('?' * len(_FIELDS))})"
_FIELDS_OF = operator.attrgetter(*_FIELDS)  # not dataclasses.astuple: it deep-copies every field (README: Figures)
# What one row can fail on by itself (its values); anything else (a locked or full disk) fails them all.
_ROW_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.ProgrammingError, ValueError, OverflowError)


def _values(row: Row) -> tuple:
    return tuple(_text(v) if type(v) is str and not v.isascii() else v for v in _FIELDS_OF(row))


def _text(s: str) -> str:
    """Text from a client as SQLite can hold it: UTF-8 cannot hold a lone surrogate (JSON's
    "\\ud800", or a raw byte of a header, which aiohttp decodes to one): it is kept escaped."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "backslashreplace").decode("utf-8")

_TOTALS = """
    count(DISTINCT request_id) AS requests,
    count(*) AS attempts,
    sum(outcome != 'ok') AS errors,
    count(DISTINCT CASE WHEN outcome = 'ok' AND position > 0 THEN request_id END) AS fallbacks,
    sum(usage_estimated) AS estimated,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    round(sum(cost_usd), 6) AS cost_usd,
    round(sum(list_price_usd), 6) AS list_price_usd,
    sum(web_searches) AS web_searches
"""
_GROUPS = {
    "by_tier": "tier",
    "by_model": "CASE WHEN position < 0 THEN 'refused by freeclaude' ELSE provider || ':' || upstream_model END",
    "by_day": "date(ts, 'unixepoch', 'localtime')",
    "by_profile": "profile",
}


class Ledger:
    def __init__(self, path: Path) -> None:
        # 0600 before SQLite opens it: SQLite gives the -wal and -shm it creates the database's
        # mode; those an older version left open to others are tightened too.
        private_file(path)
        for extra in ("-wal", "-shm"):
            tighten(path.with_name(path.name + extra))
        try:
            # The gateway writes from its writer thread (off the event loop); `stats` reads in another process.
            self.db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as e:  # not a database, a damaged one, one that cannot be opened
            raise FreeclaudeError(f"{path}: {e} (if it is damaged, move it aside: freeclaude starts a new one)") from None

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self.db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    def record(self, *rows: Row) -> None:
        """The rows in one transaction. A row that cannot be written costs only itself: the
        others are written one by one, and the error names the rows left out."""
        try:
            self._insert(rows)
        except _ROW_ERRORS as e:
            if len(rows) == 1:
                raise
            failed = []
            for row in rows:
                try:
                    self._insert((row,))
                except _ROW_ERRORS:
                    failed.append(row.request_id)
            if failed:
                raise ValueError(f"{len(failed)} row(s) could not be written ({', '.join(failed)}): {e}") from e

    def _insert(self, rows: Sequence[Row]) -> None:
        self.db.execute("BEGIN")
        try:
            self.db.executemany(_INSERT, map(_values, rows))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def totals(self, *, since: float | None = None, profile: str | None = None, session: str | None = None) -> dict:
        """Sums by tier, model, day, profile and Claude Code session, plus the overall total and the
        commonest errors."""
        clause, args = _where(since=since, profile=profile, session=session)
        out: dict = {}
        total = self.db.execute(f"SELECT {_TOTALS} FROM attempts {clause}", args).fetchone()
        out["total"] = _clean(dict(total))
        for name, expr in _GROUPS.items():
            rows = self.db.execute(
                f"SELECT {expr} AS k, {_TOTALS} FROM attempts {clause} GROUP BY k ORDER BY k", args
            ).fetchall()
            out[name] = {r["k"]: _clean({k: r[k] for k in r.keys() if k != "k"}) for r in rows}
        errors = self.db.execute(
            f"SELECT error, count(*) AS n FROM attempts {clause} {'AND' if clause else 'WHERE'} outcome != 'ok' "
            "AND error IS NOT NULL GROUP BY error ORDER BY n DESC, max(ts) DESC LIMIT 5", args).fetchall()
        out["errors"] = [{"error": r["error"], "count": r["n"]} for r in errors]
        # Claude Code's own sessions, in the order they began: what tells them apart when one
        # gateway serves them all. Requests that name none (other clients) count in the rest only.
        named = f"{clause} {'AND' if clause else 'WHERE'} client_session IS NOT NULL"
        rows = self.db.execute(
            f"SELECT client_session AS k, min(ts) AS first_ts, max(ts) AS last_ts, {_TOTALS} "
            f"FROM attempts {named} GROUP BY k ORDER BY first_ts", args).fetchall()
        out["by_session"] = {r["k"]: {"first": iso(r["first_ts"]), "last": iso(r["last_ts"]),
                                      **_clean({k: r[k] for k in r.keys() if k not in ("k", "first_ts", "last_ts")})}
                             for r in rows}
        return out

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _where(**filters: str | float | None) -> tuple[str, list[str | float]]:
    columns = {"since": "ts >=", "profile": "profile =", "session": "session ="}
    where: list[str] = []
    args: list[str | float] = []
    for name, value in filters.items():
        if value is not None:
            where.append(f"{columns[name]} ?")
            args.append(value)
    return ("WHERE " + " AND ".join(where)) if where else "", args


def iso(ts: float) -> str:
    """A time as local ISO 8601, to the second."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def _clean(row: dict) -> dict:
    return {k: (v or 0) for k, v in row.items()}
