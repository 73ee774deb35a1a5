"""The shared alert log of a warroom cluster: the leader's record rows in PostgreSQL, mirrored by every node.

The alert state a new leader needs (alerts and their trail with every `notify` row and its outcome,
silences, stand-ins, decisions, and who is signed in on the board) is written through `Store.record`, as
on one node.
With HA on, the leader's rows of those tables are also shipped, in order, to one PostgreSQL table;
every other node copies them into its own DuckDB file. So each node's file holds the whole night and
replays it, and a node taking the lease first catches up, then starts exactly as a restarted daemon
does: open alerts and pending deliveries come from its own (now complete) file.

- Shipping never stands in front of a page: rows wait in memory on their own thread, and while
  PostgreSQL is unreachable they are held and written in order when it returns (as the disk backlog).
- Each write is fenced by the lease: the batch goes in only while this node still holds the epoch it
  led under (a share lock on the lease row, so a takeover waits for the write in flight, never
  interleaves with it). A stale leader's late rows are refused and it steps down at once.
- Followers learn of new rows by LISTEN/NOTIFY and poll as a fallback.
"""

from __future__ import annotations

import json
import logging
import math
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg

from warroom.store.backlog import RecordRow
from warroom.store.database import Store

log = logging.getLogger("warroom.ha")

SHARED = ("alerts", "alert_events", "silences", "duty", "annotations", "sign_ins")
CHANNEL = "warroom_log"
POLL_S = 0.5
RETRY_S = 0.5
MIRROR_BATCH = 5_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS warroom_log (
    cluster TEXT NOT NULL, seq BIGSERIAL, epoch BIGINT NOT NULL, node TEXT NOT NULL,
    tbl TEXT NOT NULL, cols TEXT, vals TEXT NOT NULL, written_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (cluster, seq));
"""
_LOCAL = "CREATE TABLE IF NOT EXISTS ha_mirror (cluster VARCHAR NOT NULL, seq BIGINT NOT NULL, ts TIMESTAMP NOT NULL)"
_FENCE = "SELECT epoch FROM warroom_lease WHERE cluster = %s AND holder = %s FOR SHARE"
_INSERT = "INSERT INTO warroom_log (cluster, epoch, node, tbl, cols, vals) VALUES (%s, %s, %s, %s, %s, %s)"
_SINCE = """SELECT seq, node, tbl, cols, vals FROM warroom_log WHERE cluster = %s AND seq > %s
            ORDER BY seq LIMIT %s"""


class Fenced(Exception):
    """The lease moved on: this node's rows are refused (it no longer leads)."""


def encode(values: tuple[Any, ...]) -> str:
    """A record row as JSON text: times and non-finite floats tagged, so they come back as they were."""
    def one(v: Any) -> Any:
        if isinstance(v, datetime):
            return {"$ts": v.isoformat()}
        if isinstance(v, float) and not math.isfinite(v):
            return {"$f": repr(v)}
        return v
    return json.dumps([one(v) for v in values], ensure_ascii=False)


def decode(text: str) -> tuple[Any, ...]:
    """Inverse of `encode`."""
    def one(v: Any) -> Any:
        if isinstance(v, dict) and "$ts" in v:
            return datetime.fromisoformat(v["$ts"])
        if isinstance(v, dict) and "$f" in v:
            return float(v["$f"])
        return v
    return tuple(one(v) for v in json.loads(text))


class SharedLog:
    """Ships the leader's rows (fenced by epoch) and mirrors the other nodes' rows into this node's file."""

    def __init__(self, dsn: str, cluster: str, node: str, store: Store, *, connect_timeout: float = 2.0,
                 on_fenced: Callable[[int], None] = lambda epoch: None,
                 on_mirrored: Callable[[list[RecordRow]], None] = lambda rows: None):
        self.dsn, self.cluster, self.node, self.store = dsn, cluster, node, store
        self.connect_timeout = connect_timeout
        self.on_fenced, self.on_mirrored = on_fenced, on_mirrored
        self.epoch: int | None = None
        self._held: deque[tuple[int, RecordRow]] = deque()
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ship_con: psycopg.Connection | None = None
        self._mirror_lock = threading.Lock()
        self.shipped = 0
        self._queued = 0
        """Rows ever queued to ship (`mark`); `shipped` counts those in PostgreSQL."""
        self.refused = 0
        self.mirrored = 0
        self.unreachable_since: float | None = None
        self.in_step_at = time.monotonic()
        """When this node last had the whole shared log (mirror caught up, nothing held unshipped)."""
        self.last_error: str | None = None
        store.execute(_LOCAL)
        row = store.execute("SELECT coalesce(max(seq), 0) FROM ha_mirror WHERE cluster = ?", [cluster]).fetchall()
        self.applied = int(row[0][0])

    def _connect(self) -> psycopg.Connection:
        con = psycopg.connect(self.dsn, autocommit=True, connect_timeout=max(1, int(self.connect_timeout)),
                              keepalives=1, keepalives_idle=2, keepalives_interval=1, keepalives_count=2,
                              application_name=f"warroom {self.cluster}/{self.node} log")
        con.execute(f"SET statement_timeout = {int(self.connect_timeout * 1000)}")
        con.execute(SCHEMA)
        return con

    # --- the leader's side -------------------------------------------------------------------------

    def lead(self, epoch: int) -> None:
        """From now on this node's rows of the shared tables are shipped under `epoch`."""
        with self._cv:
            self.epoch = epoch

    def follow(self) -> None:
        """Stop shipping: rows written from now on stay in this node's file only; those held are dropped."""
        with self._cv:
            self.epoch = None
            self._queued -= len(self._held)  # dropped, never to be shipped: nobody waits for them
            self._held.clear()
            self._cv.notify_all()

    def tap(self, rows: list[RecordRow]) -> None:
        """Store.tap: queue the leader's rows of the shared tables; never blocks, never touches the network."""
        epoch = self.epoch
        if epoch is None:
            return
        shared = [(epoch, r) for r in rows if r.table in SHARED]
        if shared:
            with self._cv:
                self._held.extend(shared)
                self._queued += len(shared)
                self._cv.notify_all()

    def lag(self) -> float:
        """Seconds this node's share of the log trails: 0 while in step (a poll period allowed)."""
        behind = time.monotonic() - self.in_step_at
        return 0.0 if behind <= 2 * POLL_S and not self.held() else round(behind, 1)

    def mark(self) -> int:
        """How many rows were queued so far: `wait_shipped(mark)` waits for every one of them."""
        with self._cv:
            return self._queued

    def wait_shipped(self, mark: int, timeout: float) -> bool:
        """Until the rows queued up to `mark` are in PostgreSQL; False when not within `timeout`, when this node
        stopped shipping (it no longer leads), or at once while PostgreSQL is unreachable (they are held)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self.shipped < mark:
                left = deadline - time.monotonic()
                if left <= 0 or self.epoch is None or self.unreachable_since is not None:
                    return False
                self._cv.wait(min(left, 0.1))
            return True

    def held(self) -> int:
        """Rows waiting to be shipped (PostgreSQL unreachable, or a burst in flight)."""
        with self._cv:
            return len(self._held)

    def _ship_loop(self) -> None:
        while not self._stop.is_set():
            with self._cv:
                while not self._held and not self._stop.is_set():
                    self._cv.wait(1.0)
                batch = list(self._held)[:MIRROR_BATCH]
            if not batch:
                continue
            try:
                self._ship(batch)
                with self._cv:
                    for _ in batch:
                        self._held.popleft()
                    self.shipped += len(batch)
                    self._cv.notify_all()
                self.unreachable_since, self.last_error = None, None
            except Fenced:
                epoch = batch[0][0]
                self.refused += len(batch)
                log.error("the shared alert log refused %d row(s) written under epoch %d: the lease moved on; "
                          "this node stops paging", len(batch), epoch)
                self.follow()
                self.on_fenced(epoch)
            except psycopg.Error as err:
                self._drop_ship()
                if self.unreachable_since is None:
                    self.unreachable_since = time.monotonic()
                    log.error("shared alert log unreachable (%s): %d row(s) held, written when it returns",
                              type(err).__name__, len(batch))
                self.last_error = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err) else ''}"
                self._stop.wait(RETRY_S)

    def _ship(self, batch: list[tuple[int, RecordRow]]) -> None:
        """One fenced transaction: every row of `batch` or none, and only under the epoch it was written in."""
        if self._ship_con is None or self._ship_con.closed:
            self._ship_con = self._connect()
        con = self._ship_con
        epoch = batch[0][0]
        rows = [(self.cluster, e, self.node, r.table, r.columns, encode(r.values)) for e, r in batch if e == epoch]
        with con.transaction():
            found = con.execute(_FENCE, (self.cluster, self.node)).fetchone()
            if found is None or int(found[0]) != epoch:
                raise Fenced()
            with con.cursor() as cur:
                cur.executemany(_INSERT, rows)
            con.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.cluster))
        if len(rows) < len(batch):
            raise Fenced()  # rows of an older epoch behind rows of this one: cannot happen, never ship them

    def _drop_ship(self) -> None:
        if self._ship_con is not None:
            try:
                self._ship_con.close()
            except psycopg.Error:
                pass
        self._ship_con = None

    # --- every node's side: the mirror ---------------------------------------------------------------

    def catch_up(self, con: psycopg.Connection | None = None) -> int:
        """Copy every row other nodes shipped since the last look into this node's file; how many."""
        own = con is None
        con = con or self._connect()
        total = 0
        try:
            with self._mirror_lock:
                while True:
                    rows = con.execute(_SINCE, (self.cluster, self.applied, MIRROR_BATCH)).fetchall()
                    if not rows:
                        self.in_step_at = time.monotonic()
                        return total
                    last = int(rows[-1][0])
                    theirs = [RecordRow(tbl, decode(vals), cols) for _, node, tbl, cols, vals in rows
                              if node != self.node]
                    # the rows and how far the mirror got, in one transaction: a restart neither skips nor repeats
                    self.store.record_rows([*theirs, RecordRow("ha_mirror", (self.cluster, last,
                                                                             datetime.now().replace(tzinfo=None)))])
                    self.applied = last
                    self.mirrored += len(theirs)
                    total += len(theirs)
                    if theirs:
                        self.on_mirrored(theirs)
        finally:
            if own:
                con.close()

    def _mirror_loop(self) -> None:
        con: psycopg.Connection | None = None
        while not self._stop.is_set():
            try:
                if con is None or con.closed:
                    con = self._connect()
                    con.execute(f"LISTEN {CHANNEL}")
                self.catch_up(con)
                # wait for a NOTIFY (or the poll period): a follower's wall follows within a moment
                select.select([con.pgconn.socket], [], [], POLL_S)
                for _ in con.notifies(timeout=0):
                    pass
            except psycopg.Error:
                if con is not None:
                    try:
                        con.close()
                    except psycopg.Error:
                        pass
                con = None
                self._stop.wait(RETRY_S)
            except Exception:  # noqa: BLE001 - the mirror must outlive a bad row
                log.exception("mirroring the shared alert log failed")
                self._stop.wait(RETRY_S)
        if con is not None:
            con.close()

    # --- life cycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Ship and mirror on threads of their own."""
        for name, target in (("ha-ship", self._ship_loop), ("ha-mirror", self._mirror_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, wait_s: float = 3.0) -> None:
        """Ship what is held if PostgreSQL takes it within `wait_s`, then stop."""
        deadline = time.monotonic() + wait_s
        while self.held() and self.epoch is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        for thread in self._threads:
            thread.join(wait_s)
        self._drop_ship()

    def status(self) -> dict[str, object]:
        """Rows shipped, held, refused and mirrored, for /api/v1/health."""
        return {"shipped": self.shipped, "held": self.held(), "refused": self.refused, "mirrored": self.mirrored,
                "applied_seq": self.applied, "error": self.last_error}
