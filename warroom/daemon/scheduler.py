"""Polls every collector on its own interval in a thread pool; a slow target delays nobody else.

Each collector has its own slot: it is never run twice at once (an 18 s page probe simply misses
the ticks it overlaps), and the pool has a worker per collector so no poll waits for a thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from collectors.base import CollectError, Collector
from warroom.values import PollResult, RunRecord, Sample, utc_now

log = logging.getLogger("warroom.scheduler")

TICK_LAG_METRIC = "warroom.tick_lag"


@dataclass
class _Slot:
    collector: Collector
    interval: float
    timeout: float
    next_due: float
    running_since: float | None = None
    hung_reported: bool = False
    skipped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Scheduler:
    """Runs `collect(now)` for each collector when due and hands every result to `deliver`."""

    def __init__(
        self,
        collectors: list[Collector],
        deliver: Callable[[PollResult], None],
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        lag_every: float = 1.0,
    ):
        self.deliver = deliver
        self.clock = clock
        self.monotonic = monotonic
        self.lag_every = lag_every
        start = monotonic()
        self.slots = [
            _Slot(c, c.settings.interval, c.settings.timeout, start) for c in collectors
        ]
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(collectors)), thread_name_prefix="poll")
        self._thread: threading.Thread | None = None
        self.max_lag = 0.0
        self.last_lag = 0.0

    def skipped(self) -> dict[str, int]:
        """Per collector, the ticks missed because its previous poll was still running (a slow target)."""
        return {slot.collector.name: slot.skipped for slot in self.slots}

    def start(self) -> None:
        """Start polling in a background thread."""
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, wait_s: float = 5.0) -> None:
        """Stop scheduling; wait briefly for running polls (a hung target is abandoned, not awaited)."""
        self._stop.set()
        if self._thread:
            self._thread.join(wait_s)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        lag_window_end = self.monotonic() + self.lag_every
        window_lag = 0.0
        while not self._stop.is_set():
            now_m = self.monotonic()
            for slot in self.slots:
                if now_m < slot.next_due:
                    continue
                lag = now_m - slot.next_due
                window_lag = max(window_lag, lag)
                self._dispatch(slot, now_m)
                # Stay on the original grid; after a long stall skip ahead instead of bursting.
                slot.next_due += slot.interval
                if slot.next_due <= now_m:
                    slot.next_due = now_m + slot.interval
            if now_m >= lag_window_end:
                self.last_lag = window_lag
                self.max_lag = max(self.max_lag, window_lag)
                self.deliver(PollResult([Sample(self.clock(), TICK_LAG_METRIC, window_lag)], None))
                window_lag = 0.0
                lag_window_end = now_m + self.lag_every
            next_due = min([s.next_due for s in self.slots] + [lag_window_end])
            self._stop.wait(max(0.0, min(next_due - self.monotonic(), 0.5)))

    def _dispatch(self, slot: _Slot, now_m: float) -> None:
        with slot.lock:
            if slot.running_since is not None:
                slot.skipped += 1
                running_for = now_m - slot.running_since
                if running_for > slot.timeout + slot.interval and not slot.hung_reported:
                    # The collector ignores its own timeout; say so once, so the tile's reason is known.
                    slot.hung_reported = True
                    self.deliver(PollResult([], RunRecord(
                        self.clock(), slot.collector.name, False, running_for, 0,
                        f"no answer after {running_for:.1f}s (timeout {slot.timeout:g}s); poll still running")))
                return
            slot.running_since = now_m
            slot.hung_reported = False
        self._pool.submit(self._poll, slot)

    def _poll(self, slot: _Slot) -> None:
        started = self.clock()
        t0 = self.monotonic()
        samples: list[Sample] = []
        error: str | None = None
        try:
            samples = list(slot.collector.collect(started))
        except CollectError as err:
            samples, error = list(err.samples), err.reason
        except Exception as err:  # a collector bug must not kill the poll thread or other collectors
            log.exception("collector %s crashed", slot.collector.name)
            error = f"{type(err).__name__}: {err}"
        duration = self.monotonic() - t0
        # Time is when it was known: an 18 s probe's value exists only when the probe ends, so the
        # sample, the run and the wall all carry that moment, and replay at T shows what the wall showed.
        known = self.clock()
        samples = [s if s.ts == known else Sample(known, s.metric, s.value) for s in samples]
        run = RunRecord(known, slot.collector.name, error is None, duration, len(samples), error)
        try:
            self.deliver(PollResult(samples, run))
        finally:
            with slot.lock:
                slot.running_since = None
