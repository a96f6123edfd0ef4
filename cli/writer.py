"""The gateway's writer thread: ledger rows, log lines and the statusline's state are written
here, off the event loop, so a slow or locked disk never stalls a stream and the end of a stream
never waits for them.

Waking a thread is what costs here: a row handed over and written alone took 190 us of CPU on
this machine, 28 in a burst. So when rows come less than GATHER_S apart, the thread lets GATHER_S
pass before it takes everything queued, and writes the ledger rows of that batch in one
transaction (a commit alone 59 us a row, 9 in a batch of 30). A row that comes alone, as a
Claude Code turn's does, is written at once: the statusline Claude Code runs after the answer
already shows it. flush() and close() never wait."""

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable

from freeclaude.ledger import Attempt, Ledger
from freeclaude.sessions import Board

log = logging.getLogger("freeclaude")
_STOP = object()
GATHER_S = 0.05


class Writer:
    def __init__(self, ledger: Ledger | None, board: Board | None = None) -> None:
        self.ledger = ledger
        self.board = board  # the statusline's state, per Claude Code session
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._now = threading.Event()  # set: someone waits for the queue to be written
        # A daemon, so a gateway never closed cannot hold the interpreter open; what was handed
        # over is still written at exit (atexit runs before daemon threads stop).
        self._thread = threading.Thread(target=self._run, name="freeclaude-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)
        if board:
            self.submit(board.prune)

    def submit(self, job: Callable[[], Attempt | None]) -> None:
        """Runs `job()` on the writer thread; the ledger row it returns, if any, is written with
        the rest of its batch."""
        self._queue.put(job)

    def row(self, row: Attempt, notes: str, cooling: dict[str, float] | None) -> None:
        """A finished attempt: the statusline's state, the log line, the ledger row. `cooling`
        None: no model answered or failed, so the statusline has nothing new to show."""
        self.submit(lambda: self._row(row, notes, cooling))

    def hold(self, session: str | None, model: str, limit: str, seconds: float) -> None:
        """A request of that Claude Code session waits `seconds` for `model`'s `limit` budget."""
        if self.board and session:
            board = self.board
            self.submit(lambda: board.hold(session, model, limit, seconds))

    def _row(self, row: Attempt, notes: str, cooling: dict[str, float] | None) -> Attempt:
        if self.board and cooling is not None:  # first: it is what the user is looking at
            try:
                self.board.record(row, cooling)
            except Exception:
                log.exception("could not write the statusline's session state")
        log.info(
            "%s %s %s:%s #%d %s in=%d out=%d %.0fms%s%s", row.request_id, row.tier, row.provider, row.upstream_model,
            row.position, row.outcome, row.input_tokens, row.output_tokens, row.latency_ms,
            f" {row.error}" if row.error else "", f" ({notes})" if notes else "",
        )
        return row

    def flush(self) -> None:
        """Returns once everything submitted so far is written."""
        if self._thread.is_alive():
            done = threading.Event()
            self._queue.put(done)
            self._now.set()
            done.wait()

    def close(self) -> None:
        """Writes what is queued, then ends the thread."""
        atexit.unregister(self.close)
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._now.set()
            self._thread.join()

    def _run(self) -> None:
        stop, last = False, float("-inf")
        while not stop:
            batch = [self._queue.get()]
            if time.monotonic() - last < GATHER_S:  # a burst: what else comes is written with it
                self._now.wait(GATHER_S)
            self._now.clear()
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows, flushed = [], []
            for item in batch:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    flushed.append(item)
                else:
                    try:
                        row = item()
                    except Exception:  # one failed write must not take the others with it
                        log.exception("the writer thread could not write")
                        continue
                    if row is not None:
                        rows.append(row)
            if rows and self.ledger:
                try:
                    self.ledger.record(*rows)
                except Exception:  # a locked or full disk must not take the gateway down with it
                    log.exception("could not write the usage ledger")
            for event in flushed:
                event.set()
            last = time.monotonic()
