"""The gateway's writer thread: ledger rows, log lines and the statusline's state are written
here, off the event loop, so a slow or locked disk never stalls a stream.

An answer is recorded before it is acknowledged: the gateway hands its row over, then awaits
synced() before the answer's last byte goes out, so a row the client has the answer for is
committed (SQLite, WAL) even if the gateway is killed the next instant. The thread takes
everything queued at once and commits it in one transaction: rows that come while it is busy
with one batch go together in the next, and a row that comes alone is written at once (waking
the thread and a commit alone are what a row costs: README, Figures). flush() and close() never
wait."""

import asyncio
import atexit
import logging
import queue
import threading
from collections.abc import Callable

from freeclaude.claude.sessions import Board
from freeclaude.gateway.redact import Redactor
from freeclaude.usage.ledger import Ledger, Row

log = logging.getLogger("freeclaude")
_STOP = object()


class Writer:
    def __init__(self, ledger: Ledger | None, board: Board | None = None, redact: Redactor | None = None) -> None:
        self.ledger = ledger
        self.board = board  # the statusline's state, per Claude Code session
        self.redact = redact
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._handed = 0  # jobs submitted (by the event loop's thread)
        self._done = 0  # jobs written (by the writer thread)
        # A daemon, so a gateway never closed cannot hold the interpreter open; what was handed
        # over is still written at exit (atexit runs before daemon threads stop).
        self._thread = threading.Thread(target=self._run, name="freeclaude-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)
        if board:
            self.submit(board.prune)

    @property
    def handed(self) -> int:
        """Jobs submitted so far: a request that changed it has something to wait for."""
        return self._handed

    def submit(self, job: Callable[[], Row | None], committed: asyncio.Future | None = None) -> None:
        """Runs `job()` on the writer thread; the ledger row it returns, if any, is written with
        the rest of its batch, and then `committed` (a future of the running event loop) is done."""
        self._handed += 1
        self._queue.put((job, committed) if committed else job)

    def synced(self) -> asyncio.Future | None:
        """On the event loop: a future done once every job submitted so far is written (its
        rows committed), or None when they all are already."""
        if self._done == self._handed or not self._thread.is_alive():
            return None
        future = asyncio.get_running_loop().create_future()
        self._queue.put((None, future))
        return future

    def row(self, row: Row, notes: str, cooling: dict[str, float] | None) -> asyncio.Future:
        """A finished attempt: the statusline's state, the log line, the ledger row. `cooling`
        None: no model answered or failed, so the statusline has nothing new to show. On the
        event loop; the future is done once the row is committed (one hand-over for both: a
        wake-up of this thread is what costs)."""
        committed = asyncio.get_running_loop().create_future()
        if self._thread.is_alive():
            self.submit(lambda: self._row(row, notes, cooling), committed)
        else:
            committed.set_result(None)  # closed: nothing more is written
        return committed

    def hold(self, session: str | None, model: str, limit: str, seconds: float) -> None:
        """A request of that Claude Code session waits `seconds` for `model`'s `limit` budget."""
        if self.board and session:
            board = self.board
            self.submit(lambda: board.hold(session, model, limit, seconds))

    def _row(self, row: Row, notes: str, cooling: dict[str, float] | None) -> Row:
        if self.redact:
            self.redact.row(row)
            notes = self.redact.text(notes)
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
            done.wait()

    def close(self) -> None:
        """Writes what is queued, then ends the thread."""
        atexit.unregister(self.close)
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows: list[Row] = []
            flushed: list[threading.Event] = []
            waiting: dict[asyncio.AbstractEventLoop, list[asyncio.Future]] = {}
            jobs = 0
            for item in batch:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    flushed.append(item)
                else:
                    job = item
                    if isinstance(item, tuple):  # someone waits for it on an event loop
                        job, future = item
                        waiting.setdefault(future.get_loop(), []).append(future)
                    if job is None:
                        continue
                    jobs += 1
                    try:
                        row = job()
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
            self._done += jobs
            for event in flushed:
                event.set()
            for loop, futures in waiting.items():
                try:
                    loop.call_soon_threadsafe(_resolve, futures)
                except RuntimeError:
                    pass  # that loop is closed: nobody waits any more


def _resolve(futures: list[asyncio.Future]) -> None:
    for future in futures:
        if not future.done():  # its waiter may have been cancelled
            future.set_result(None)
