"""The writer thread: everything handed over is written, in order, a batch a transaction."""

import subprocess
import sys
import threading
import time

from freeclaude.gateway.writer import Writer
from freeclaude.usage.ledger import Ledger
from tests.usage.test_stats import attempt


class CountingLedger(Ledger):
    """The real ledger, counting its transactions."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.batches: list[int] = []

    def record(self, *rows) -> None:
        self.batches.append(len(rows))
        super().record(*rows)


def request_ids(path) -> list[str]:
    with Ledger(path) as ledger:
        return [r[0] for r in ledger.db.execute("SELECT request_id FROM attempts ORDER BY id")]


def test_rows_that_queue_up_go_in_one_transaction(tmp_path):
    ledger = CountingLedger(tmp_path / "usage.db")
    writer = Writer(ledger)
    held, release = threading.Event(), threading.Event()
    writer.submit(lambda: (held.set(), release.wait(5), None)[-1])  # keeps the thread busy
    assert held.wait(5)
    for i in range(30):
        writer.submit(lambda i=i: attempt(request_id=f"r{i}"))
    release.set()
    writer.flush()
    assert ledger.batches == [30]
    writer.close()
    assert request_ids(tmp_path / "usage.db") == [f"r{i}" for i in range(30)]


def test_a_row_that_comes_alone_is_written_at_once(tmp_path):
    """As a Claude Code turn's: the statusline Claude Code runs right after the answer shows it."""
    writer = Writer(Ledger(tmp_path / "usage.db"))
    writer.submit(lambda: attempt(request_id="alone"))
    deadline = time.monotonic() + 5
    while request_ids(tmp_path / "usage.db") != ["alone"]:
        assert time.monotonic() < deadline, "the row waited for a burst"
        time.sleep(0.01)
    writer.close()


def test_a_failing_job_or_ledger_loses_only_itself(tmp_path, caplog):
    ledger = Ledger(tmp_path / "usage.db")
    writer = Writer(ledger)
    writer.submit(lambda: 1 / 0)
    writer.submit(lambda: attempt(request_id="kept"))
    writer.flush()
    writer.submit(lambda: attempt(request_id="r1", session=None))  # NOT NULL: the transaction fails
    writer.flush()
    writer.submit(lambda: attempt(request_id="after"))
    writer.close()
    assert request_ids(tmp_path / "usage.db") == ["kept", "after"]
    assert "could not write" in caplog.text and "could not write the usage ledger" in caplog.text


def test_a_row_that_cannot_be_written_costs_no_other_row_of_its_batch(tmp_path, caplog):
    ledger = CountingLedger(tmp_path / "usage.db")
    writer = Writer(ledger)
    held, release = threading.Event(), threading.Event()
    writer.submit(lambda: (held.set(), release.wait(5), None)[-1])  # the 30 rows queue up behind it
    assert held.wait(5)
    for i in range(30):
        writer.submit(lambda i=i: attempt(request_id=f"r{i}", input_tokens=2**70 if i == 7 else 1))
    release.set()
    writer.close()
    assert ledger.batches[0] == 30  # tried together first
    assert request_ids(tmp_path / "usage.db") == [f"r{i}" for i in range(30) if i != 7]
    assert "1 row(s) could not be written (r7)" in caplog.text


def test_flush_after_close_returns(tmp_path):
    writer = Writer(None)
    writer.close()
    writer.flush()


def test_what_was_handed_over_is_written_when_the_interpreter_exits(tmp_path):
    """A gateway that is never closed (its process just ends) still writes its rows."""
    script = (
        "import time\n"
        "from pathlib import Path\n"
        "from freeclaude.usage.ledger import Ledger, Row\n"
        "from freeclaude.gateway.writer import Writer\n"
        "row = Row(session='s', request_id='late', profile='p', tier='opus', requested_model='m',\n"
        "              provider='p', upstream_model='m', stream=True, position=0, attempt=0)\n"
        f"writer = Writer(Ledger(Path({str(tmp_path / 'usage.db')!r})))\n"
        "writer.submit(lambda: (time.sleep(0.3), row)[-1])\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert request_ids(tmp_path / "usage.db") == ["late"]
