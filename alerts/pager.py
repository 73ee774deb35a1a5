"""The notifier worker: delivers pages off the polling path, retries with backoff, logs every attempt."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from alerts.log import AlertLog
from alerts.notifiers import Page, deliver, shown
from warroom.samples import utc_now

log = logging.getLogger("warroom.pager")

MAX_BACKOFF_S = 30.0


@dataclass
class PageJob:
    """One page for one channel of one person, with its attempt count."""

    step: str
    role: str | None
    url: str
    page: Page
    attempt: int = 0


class Pager:
    """A few worker threads over one due-time queue; a slow channel never blocks another."""

    def __init__(self, alert_log: AlertLog, max_failures: int, backoff: float,
                 on_final_failure: Callable[[PageJob], None], mask: Callable[[str], str] = lambda s: s,
                 workers: int = 4, send: Callable[[str, Page], object] = deliver):
        self.log = alert_log
        self.max_failures = max_failures
        self.backoff = backoff
        self.on_final_failure = on_final_failure
        self.mask = mask
        self.send = send
        self._queue: list[tuple[float, int, PageJob]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._stop = False
        self._threads = [threading.Thread(target=self._work, name=f"pager-{i}", daemon=True) for i in range(workers)]
        self.sent = 0
        self.failed = 0

    def start(self) -> None:
        """Start the workers."""
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Stop after the jobs in flight; queued ones stay in the log as pending for the next start."""
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        for t in self._threads:
            t.join(5)

    def submit(self, job: PageJob, delay: float = 0.0) -> None:
        """Queue a job (the notify intent must already be in the log)."""
        with self._cv:
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), job))
            self._cv.notify()

    def queued(self) -> int:
        """Jobs waiting (including retries not yet due)."""
        with self._cv:
            return len(self._queue)

    def _next(self) -> PageJob | None:
        with self._cv:
            while not self._stop:
                if self._queue and self._queue[0][0] <= time.monotonic():
                    return heapq.heappop(self._queue)[2]
                wait = self._queue[0][0] - time.monotonic() if self._queue else None
                self._cv.wait(wait)
            return None

    def _work(self) -> None:
        while (job := self._next()) is not None:
            job.attempt += 1
            outcome = self.send(job.url, job.page)
            channel = shown(job.url)
            if outcome.ok:
                self.sent += 1
                self.log.event(utc_now(), job.page.alert_id, "delivered", level=job.page.level, role=job.role,
                               channel=channel, ok=True, detail=f"attempt {job.attempt}", step=job.step)
                continue
            error = self.mask(outcome.error or "failed")
            final = job.attempt >= self.max_failures
            self.log.event(utc_now(), job.page.alert_id, "undelivered" if final else "delivery_failed",
                           level=job.page.level, role=job.role, channel=channel, ok=False,
                           detail=f"attempt {job.attempt}: {error}", step=job.step)
            log.warning("page for alert %s to %s via %s failed (attempt %d): %s", job.page.alert_id, job.role,
                        channel, job.attempt, error)
            if final:
                self.failed += 1
                self.on_final_failure(job)
            else:
                self.submit(job, min(MAX_BACKOFF_S, self.backoff * 2 ** (job.attempt - 1)))
