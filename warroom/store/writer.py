"""The writer thread: everything polled in one tick is committed in one transaction, in time order."""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from warroom.store.database import Store
from warroom.store.queries import Point
from warroom.values import PollResult, RunRecord, Sample

log = logging.getLogger("warroom.writer")

# If the disk is full or the file locked, hold at most this many samples for retry; beyond it
# the oldest go first and the loss is logged and counted, so memory cannot grow without bound.
MAX_PENDING = 2_000_000


class LatestValues:
    """The newest committed value of every metric and the last run of every collector, in memory.

    Written by the writer thread after each commit, read by API threads; the live board never
    touches the database for these.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, Point] = {}
        self.runs: dict[str, RunRecord] = {}

    def update(self, values: dict[str, Point], runs: list[RunRecord]) -> None:
        """Merge a committed batch (values newer than what is held win)."""
        with self._lock:
            for metric, point in values.items():
                held = self.values.get(metric)
                if held is None or point[0] >= held[0]:
                    self.values[metric] = point
            for run in runs:
                self.runs[run.collector] = run

    def snapshot(self) -> tuple[dict[str, Point], dict[str, RunRecord]]:
        """Copies safe to read without the lock."""
        with self._lock:
            return dict(self.values), dict(self.runs)


class Writer:
    """Drains the queue every `tick` seconds and appends the batch; failures keep the batch for retry."""

    def __init__(self, store: Store, latest: LatestValues, tick: float = 0.25,
                 after_commit: Callable[[list[Sample], list[RunRecord]], None] | None = None,
                 rollup_lag: float = 120.0):
        self.store = store
        self.latest = latest
        self.tick = tick
        self.after_commit = after_commit
        # Minutes are folded into samples_1m only this long after they end, so a slow probe's
        # late sample (stamped when its poll began) still lands in raw data before the fold.
        self.rollup_lag = timedelta(seconds=rollup_lag)
        self.newest: datetime | None = None
        self.queue: queue.Queue[PollResult] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pending_samples: list[Sample] = []
        self.pending_runs: list[RunRecord] = []
        self.commits = 0
        self.committed_samples = 0
        self.dropped_samples = 0
        self.last_error: str | None = None
        self.last_commit_s: float | None = None
        store.health.holds("samples", lambda: len(self.pending_samples))

    def put(self, result: PollResult) -> None:
        """Called from poll threads; never blocks."""
        self.queue.put(result)

    def start(self) -> None:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._loop, name="writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Flush what is queued and stop."""
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        self.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            self.flush()

    def flush(self) -> None:
        """Commit everything queued so far as one batch."""
        while True:
            try:
                result = self.queue.get_nowait()
            except queue.Empty:
                break
            # NaN says "no traffic" to the engine; it is not a value, so it is not stored.
            self.pending_samples.extend(s for s in result.samples if not math.isnan(s.value))
            if result.run is not None:
                self.pending_runs.append(result.run)
        if not self.pending_samples and not self.pending_runs:
            return
        samples, runs = self.pending_samples, self.pending_runs
        t0 = time.perf_counter()
        try:
            self.store.append(samples, runs)
        except Exception as err:  # noqa: BLE001 - held and retried; the record's health says so, once
            self.last_error = f"{type(err).__name__}: {err}"
            log.debug("commit of %d samples failed, will retry: %s", len(samples), self.last_error)
            self.store.health.failed("samples", err)
            if len(samples) > MAX_PENDING:
                drop = len(samples) - MAX_PENDING
                self.dropped_samples += drop
                log.error("dropping the %d oldest uncommitted samples", drop)
                self.pending_samples = sorted(samples, key=lambda s: s.ts)[drop:]
            return
        self.last_commit_s = time.perf_counter() - t0
        if self.last_error is not None:
            self.store.health.wrote("samples", len(samples))
        self.last_error = None
        self.commits += 1
        self.committed_samples += len(samples)
        self.pending_samples, self.pending_runs = [], []
        newest: dict[str, Point] = {}
        for s in samples:
            held = newest.get(s.metric)
            if held is None or s.ts >= held[0]:
                newest[s.metric] = (s.ts, s.value)
        self.latest.update(newest, runs)
        if self.after_commit:
            self.after_commit(samples, runs)
        if newest:
            self.newest = max([p[0] for p in newest.values()] + ([self.newest] if self.newest else []))
            self._roll_up()

    def _roll_up(self) -> None:
        rolled = self.store.rolled_until()
        due = self.newest - self.rollup_lag
        if rolled is not None and due - rolled < timedelta(minutes=1):
            return
        try:
            self.store.roll_up(due)
        except Exception as err:  # the rollup only speeds up long charts; raw samples are safe
            log.error("minute rollup failed: %s", err)
