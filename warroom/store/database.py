"""The DuckDB file: one writer connection, batched appends, readers per thread (schema in warroom.store.schema).

DuckDB allows one read-write process, so only the daemon opens the live file; the board reads
through the API.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from warroom.store.backlog import Backlog, RecordHealth, RecordRow, write_rows
from warroom.store.dbfile import CONNECT_CONFIG, DamagedDatabase, DatabaseBusy, check_file, check_wal
from warroom.store.migrate import MigrationError, upgrade
from warroom.store.schema import SANE_FROM, SANE_TO, first_row, from_db_ts, to_db_ts
from warroom.values import RunRecord, Sample

if TYPE_CHECKING:
    import pyarrow as pa


@functools.cache
def _sample_schema() -> pa.Schema:
    # pyarrow (with numpy) is a tenth of a second to import: the daemon answers /health first and
    # loads it in its warm-up thread (warroom.daemon.warm_up), before the first batch needs it.
    import pyarrow as pa

    return pa.schema([("ts", pa.timestamp("us")), ("metric", pa.string()), ("value", pa.float64())])


def _epoch_us(ts: datetime) -> int:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp() * 1_000_000)


def _timestamps(values: Iterable[datetime]) -> pa.Array:
    import pyarrow as pa

    """Aware datetimes as an Arrow timestamp[us] column of naive UTC."""
    return pa.array([_epoch_us(t) for t in values], pa.int64()).cast(pa.timestamp("us"))


def _filesystem(path: Path) -> str:
    """The mount point holding `path`, for 'free space on …' (the folder itself when unknown)."""
    folder = path.resolve().parent
    for candidate in (folder, *folder.parents):
        if candidate.is_mount():
            return str(candidate)
    return str(folder)


class StoreError(Exception):
    """The database file cannot be opened or written; the message names the file."""


class DamagedStore(StoreError):
    """The file is damaged or not a DuckDB database; nothing was written to it."""


class Store:
    """Owns the DuckDB connection; `append` is called only by the writer thread."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise StoreError(f"{self.path}: no such database file")
        try:
            check_file(self.path)
        except DamagedDatabase as err:
            raise DamagedStore(str(err)) from None
        except DatabaseBusy as err:
            raise StoreError(str(err)) from None
        self.wal = check_wal(self.path)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only, config=CONNECT_CONFIG)
        except duckdb.Error as err:
            raise StoreError(f"{self.path}: cannot open ({err})") from None
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()
        self._rolled_until: datetime | None = None
        self.health = RecordHealth(str(self.path), _filesystem(self.path))
        self.backlog: Backlog | None = None
        # High availability: the leader's rows of the shared tables also go to PostgreSQL (warroom.daemon.shared_log).
        self.tap: Callable[[list[RecordRow]], None] | None = None
        if not read_only:
            self._create_schema()
            self.backlog = Backlog(self.reader, self.health)

    def _create_schema(self) -> None:
        try:
            upgrade(self.con)
        except MigrationError as err:
            self.con.close()
            raise StoreError(f"{self.path}: {err}") from None

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread; DuckDB connections must not be shared across threads."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self.con.cursor()
            self._local.cursor = cur
            with self._lock:
                self._cursors.append(cur)
        return cur

    def append(self, samples: Sequence[Sample], runs: Iterable[RunRecord] = ()) -> None:
        """One commit: samples in time order through Arrow (never executemany), then run rows."""
        import pyarrow as pa

        runs = list(runs)
        tables = []
        if samples:
            ordered = sorted(samples, key=lambda s: s.ts)
            tables.append(("samples", pa.Table.from_arrays(
                [
                    _timestamps([s.ts for s in ordered]),
                    pa.array([s.metric for s in ordered], pa.string()),
                    pa.array([float(s.value) for s in ordered], pa.float64()),
                ],
                schema=_sample_schema(),
            )))
        if runs:
            tables.append(("collector_runs", pa.table({
                "ts": _timestamps([r.ts for r in runs]),
                "collector": pa.array([r.collector for r in runs], pa.string()),
                "ok": pa.array([r.ok for r in runs], pa.bool_()),
                "duration_s": pa.array([float(r.duration_s) for r in runs], pa.float64()),
                "samples": pa.array([r.samples for r in runs], pa.int32()),
                "error": pa.array([r.error for r in runs], pa.string()),
            })))
        if not tables:
            return
        cur = self.reader()
        # from_arrow().insert_into is the cheapest path measured (bench/store_bench.py); a lone
        # table needs no explicit transaction, two share one commit.
        if len(tables) == 1:
            cur.from_arrow(tables[0][1]).insert_into(tables[0][0])
            return
        cur.execute("BEGIN")
        try:
            for name, table in tables:
                cur.from_arrow(table).insert_into(name)
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise

    def rolled_until(self) -> datetime | None:
        """End of the last minute folded into samples_1m (aware UTC), or None; cached after the first read."""
        if self._rolled_until is None:
            row = first_row(self.reader().execute("SELECT max(minute) FROM samples_1m WHERE minute >= ? AND minute < ?",
                                                  [SANE_FROM, SANE_TO]))
            self._rolled_until = None if row[0] is None else from_db_ts(row[0]) + timedelta(minutes=1)
        return self._rolled_until

    def forget_rollup(self) -> None:
        """Re-read how far samples_1m goes on next use (after an import rebuilt some of it)."""
        self._rolled_until = None

    def roll_up(self, until: datetime) -> int:
        """Fold every whole minute before `until` not yet rolled into samples_1m; returns minutes added.

        Long charts read this table (two points a minute, min and max with their timestamps)
        instead of every raw sample, so a 24 h overview of 50 metrics stays cheap.
        """
        cur = self.reader()
        until = until.replace(second=0, microsecond=0)
        since = self.rolled_until()
        if since is None:
            first = first_row(cur.execute("SELECT min(ts) FROM samples WHERE ts >= ? AND ts < ?",
                                          [SANE_FROM, SANE_TO]))[0]
            if first is None:
                return 0
            since = from_db_ts(first).replace(second=0, microsecond=0)
        if until <= since:
            return 0
        cur.execute(
            """INSERT INTO samples_1m
               SELECT date_trunc('minute', ts) AS minute, metric, count(*)::INTEGER,
                      arg_min(ts, value), min(value), arg_max(ts, value), max(value)
               FROM samples WHERE ts >= ? AND ts < ? GROUP BY ALL ORDER BY minute""",
            [to_db_ts(since), to_db_ts(until)],
        )
        self._rolled_until = until
        return int((until - since).total_seconds() // 60)

    def append_arrow(self, table: pa.Table) -> None:
        """Bulk load an Arrow table of (ts, metric, value) already in time order (imports, benches)."""
        self.reader().from_arrow(table.select(["ts", "metric", "value"])).insert_into("samples")

    def record(self, table: str, values: Sequence[object], columns: str | None = None) -> None:
        """Append a row to a table of the night's record (alerts, silences: replace by id); never fails on a full disk.

        The row is written now while the disk takes writes; otherwise it waits in the backlog, in order,
        and `health` says since when the record is incomplete (warroom.store.backlog).
        """
        row = RecordRow(table, tuple(values), columns)
        if self.tap is not None:
            self.tap([row])
        if self.backlog is None:
            write_rows(self.reader(), [row])
        else:
            self.backlog.put(row)

    def record_all(self, table: str, rows: Sequence[Sequence[object]]) -> None:
        """Append several rows to a table of the record in one transaction (all or none); see `record`."""
        batch = [RecordRow(table, tuple(values)) for values in rows]
        if self.tap is not None:
            self.tap(batch)
        self.record_rows(batch)

    def record_rows(self, batch: Sequence[RecordRow]) -> None:
        """Rows of several tables in one transaction, never shown to `tap` (a mirror of another node's record)."""
        if self.backlog is None:
            write_rows(self.reader(), batch)
        else:
            self.backlog.put_all(batch)

    def execute(self, sql: str, params: Sequence[object] = ()) -> duckdb.DuckDBPyConnection:
        """Run one statement on the calling thread's cursor (alert log, annotations)."""
        return self.reader().execute(sql, list(params))

    def close(self) -> None:
        """Write what the backlog holds if the disk allows, checkpoint (so the next start replays no WAL), close."""
        if self.backlog is not None:
            self.backlog.close()
        with self._lock:
            for cur in self._cursors:
                try:
                    cur.close()
                except duckdb.Error:
                    pass
            self._cursors.clear()
        if not self.read_only:
            try:
                self.con.execute("CHECKPOINT")
            except duckdb.Error:
                pass
        self.con.close()
