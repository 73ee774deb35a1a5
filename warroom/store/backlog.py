"""What the disk would not take yet: the night's record rows held in order, and whether the record is complete.

A full disk once silenced a red breach: the alert log's write failed inside the engine, no alert
opened and nobody was paged. Now the record never stands in front of a page. A row is written at
once while the disk takes writes (so a restart still finds every step before its page went out);
the first write the database refuses starts the backlog: that row and every later one wait here,
in order, and a flusher writes them, oldest first, as soon as the disk takes them again. A failed
batch is rolled back whole, so nothing is written twice. `RecordHealth` says since when the record
is incomplete (the samples writer reports to it too) for the log, `/api/v1/health`, the wall and
the one page to whoever answers for missing data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from warroom.values import utc_now

log = logging.getLogger("warroom.record")

# Tables whose rows are a state replaced by id (the latest wins); the others are appended.
REPLACED_BY_ID = ("alerts", "silences")
BATCH_ROWS = 5_000  # one transaction per batch when the backlog drains; order is kept across batches
MULTI_ROWS = 200  # rows in one INSERT statement
RETRY_FIRST_S, RETRY_MAX_S = 0.5, 5.0
REMIND_EVERY_S = 60.0
# The database refusing a write for lack of room, not because the row is wrong.
_DISK = (duckdb.OperationalError, duckdb.FatalException, duckdb.InternalException, OSError)
_FULL_WORDS = ("no space left", "disk quota", "disk full", "errno 28")


@dataclass(frozen=True)
class RecordRow:
    """One row for one table of the record; `columns` when the table's column order differs from the row's."""

    table: str
    values: tuple[Any, ...]
    columns: str | None = None


def write_rows(cur: duckdb.DuckDBPyConnection, rows: Sequence[RecordRow]) -> None:
    """Write `rows` in order in one transaction; on any error nothing of them is written."""
    single = len(rows) == 1 and rows[0].table not in REPLACED_BY_ID
    if not single:
        cur.execute("BEGIN")
    try:
        i = 0
        while i < len(rows):
            row = rows[i]
            if row.table in REPLACED_BY_ID:
                cur.execute(f"DELETE FROM {row.table} WHERE id = ?", [row.values[0]])
            # appended rows of one table in a run go in one statement: 33 notify rows of a step in ~6 ms, not ~21
            run = [row]
            while row.table not in REPLACED_BY_ID and i + len(run) < len(rows) and len(run) < MULTI_ROWS:
                following = rows[i + len(run)]
                if (following.table, following.columns, len(following.values)) != \
                        (row.table, row.columns, len(row.values)):
                    break
                run.append(following)
            names = f" ({row.columns})" if row.columns else ""
            one = f"({', '.join('?' * len(row.values))})"
            cur.execute(f"INSERT INTO {row.table}{names} VALUES {', '.join([one] * len(run))}",
                        [v for r in run for v in r.values])
            i += len(run)
        if not single:
            cur.execute("COMMIT")
    except Exception:
        if not single:
            try:
                cur.execute("ROLLBACK")
            except duckdb.Error:
                pass  # the transaction is gone with the failed commit
        raise


def is_disk_trouble(err: BaseException) -> bool:
    """True when the database could not write for lack of room or a failing disk (hold the rows and retry)."""
    return isinstance(err, _DISK)


def _words(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:300]


class RecordHealth:
    """Since when the record is incomplete, why, and how much is held; listeners hear each start and end."""

    def __init__(self, path: str, mount: str, clock: Callable[[], datetime] = utc_now, zone: str = "UTC"):
        self.path, self.mount = path, mount
        self.where = f"{path} on {mount}"
        self.clock = clock
        self.zone = zone
        self._lock = threading.Lock()
        self._failing: dict[str, str] = {}
        self._held: dict[str, Callable[[], int]] = {}
        self.since: datetime | None = None
        self.error: str | None = None
        self.episodes = 0
        self.written_late = 0
        self.refused = 0
        self._reminded = 0.0
        self.listeners: list[Callable[[RecordHealth], None]] = []

    def configure(self, clock: Callable[[], datetime], zone: str) -> None:
        """The daemon's one clock and the campaign's timezone (for 'since …' in words)."""
        self.clock, self.zone = clock, zone

    def holds(self, source: str, count: Callable[[], int]) -> None:
        """Register how many items `source` holds in memory (rows, samples)."""
        self._held[source] = count

    def held(self) -> dict[str, int]:
        """Items held in memory per source, waiting for the disk."""
        return {source: count() for source, count in self._held.items()}

    @property
    def complete(self) -> bool:
        """True when nothing is failing."""
        return self.since is None

    @property
    def disk_full(self) -> bool:
        """The failing write said the disk (or quota) is full."""
        return self.error is not None and any(w in self.error.lower() for w in _FULL_WORDS)

    def headline(self) -> str | None:
        """`DISK FULL: record incomplete since 23:31:05` (None while complete)."""
        if self.since is None:
            return None
        local = self.since.astimezone(ZoneInfo(self.zone))
        cause = "DISK FULL" if self.disk_full else "RECORD NOT WRITTEN"
        return f"{cause}: record incomplete since {local.strftime('%H:%M:%S')} ({local.isoformat()})"

    def failed(self, source: str, err: BaseException) -> None:
        """`source` could not write; the first failure starts an incomplete period (logged, listeners told)."""
        now = self.clock()
        with self._lock:
            started = self.since is None
            self._failing[source] = _words(err)
            if started:
                self.since, self.error, self._reminded = now, _words(err), time.monotonic()
                self.episodes += 1
            remind = not started and time.monotonic() - self._reminded >= REMIND_EVERY_S
            if remind:
                self._reminded = time.monotonic()
        if started:
            log.error("%s — %s: %s. Alerts are still decided and paged from memory; what could not be written is "
                      "held in order and written when the disk takes it again (held: %s)", self.headline(),
                      self.where, self.error, self._held_words())
            self._tell()
        elif remind:
            log.error("%s — still held: %s (%s)", self.headline(), self._held_words(), self._failing[source])

    def wrote(self, source: str, late: int = 0) -> None:
        """`source` wrote again (`late` items that had been held); the last one ends the incomplete period."""
        with self._lock:
            self.written_late += late
            if self._failing.pop(source, None) is None or self._failing or self.since is None:
                return
            since, self.since, self.error = self.since, None, None
        took = (self.clock() - since).total_seconds()
        log.warning("record complete again after %.0f s of %s: %d held item(s) written late, in order, none lost",
                    took, self.where, self.written_late)
        self._tell()

    def refused_row(self, row: RecordRow, err: BaseException) -> None:
        """A row the database refuses for itself (a bug, not the disk): dropped, said once per row, counted."""
        with self._lock:
            self.refused += 1
        log.error("record row for %s refused by the database and dropped: %s", row.table, _words(err))

    def _held_words(self) -> str:
        return ", ".join(f"{n} {source}" for source, n in self.held().items()) or "nothing yet"

    def _tell(self) -> None:
        for listener in list(self.listeners):
            try:
                listener(self)
            except Exception:  # noqa: BLE001 - telling someone must never stop the record
                log.exception("record health listener failed")

    def as_dict(self) -> dict[str, Any]:
        """For /api/v1/health and the wall."""
        with self._lock:
            failing = dict(self._failing)
        return {"complete": self.since is None, "message": self.headline(), "disk_full": self.disk_full,
                "incomplete_since": self.since.isoformat() if self.since else None, "error": self.error,
                "failing": failing, "held": self.held(), "written_late": self.written_late,
                "refused_rows": self.refused, "episodes": self.episodes}


class Backlog:
    """Record rows in order: written through while the disk takes them, held and retried while it does not."""

    def __init__(self, cursor: Callable[[], duckdb.DuckDBPyConnection], health: RecordHealth):
        self.cursor = cursor
        """The calling thread's cursor on the file (warroom.store.database.Store.reader)."""
        self.health = health
        self._rows: deque[RecordRow] = deque()
        self._cv = threading.Condition(threading.RLock())
        self._thread: threading.Thread | None = None
        self._closing = False
        health.holds("rows", lambda: len(self._rows))

    def put(self, row: RecordRow) -> None:
        """Write `row` now, or hold it behind the rows already waiting; never raises for the disk."""
        self.put_all([row])

    def put_all(self, rows: Sequence[RecordRow]) -> None:
        """Write `rows` now in one transaction (all or none), or hold them in order; never raises for the disk."""
        with self._cv:
            if not self._rows:
                try:
                    write_rows(self.cursor(), rows)
                    return
                except Exception as err:  # noqa: BLE001 - sorted below: the disk, or a row itself
                    if not is_disk_trouble(err):
                        if len(rows) > 1:  # one bad row must not take the others with it
                            for row in rows:
                                self.put_all([row])
                        else:
                            self.health.refused_row(rows[0], err)
                        return
                    first = err
            else:
                first = None
            self._rows.extend(rows)
            self._start()
            self._cv.notify_all()
        if first is not None:
            self.health.failed("rows", first)

    def pending(self, table: str) -> list[tuple[Any, ...]]:
        """Values of the rows of `table` still waiting, oldest first (reads overlay them on the file)."""
        with self._cv:
            return [r.values for r in self._rows if r.table == table]

    def __len__(self) -> int:
        return len(self._rows)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._drain, name="record-backlog", daemon=True)
            self._thread.start()

    def _drain(self) -> None:
        wait = RETRY_FIRST_S
        while True:
            with self._cv:
                while not self._rows and not self._closing:
                    self._cv.wait()
                if not self._rows:
                    return
            if self.flush():
                wait = RETRY_FIRST_S
                continue
            with self._cv:
                if self._closing:
                    return
                self._cv.wait(wait)
            wait = min(RETRY_MAX_S, wait * 2)

    def flush(self) -> bool:
        """Write what is held, oldest first, in batches; True when nothing is left."""
        written = 0
        while True:
            with self._cv:
                batch = list(self._rows)[:BATCH_ROWS]
            if not batch:
                break
            try:
                write_rows(self.cursor(), batch)
            except Exception as err:  # noqa: BLE001
                if is_disk_trouble(err):
                    self.health.failed("rows", err)
                    return False
                self._drop_refused(batch)
                continue
            with self._cv:
                for _ in batch:
                    self._rows.popleft()
            written += len(batch)
        if written:
            log.info("record backlog: %d held row(s) written", written)
        self.health.wrote("rows", written)
        return True

    def _drop_refused(self, batch: list[RecordRow]) -> None:
        """A batch the database refused for a row's sake: write row by row, drop only the refused ones."""
        for row in batch:
            try:
                write_rows(self.cursor(), [row])
            except Exception as err:  # noqa: BLE001
                if is_disk_trouble(err):
                    return  # the disk after all: the rest stays held in order
                self.health.refused_row(row, err)
            with self._cv:
                self._rows.popleft()

    def close(self) -> int:
        """Stop the flusher after one last attempt; returns how many rows could still not be written."""
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(5)
        if self._rows:
            self.flush()
        left = len(self._rows)
        if left:
            log.error("DATA LOSS: %d record row(s) could not be written before the stop (%s): %s", left,
                      self.health.where, self.health.error)
        return left
