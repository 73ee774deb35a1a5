"""The notifier worker: one lane per channel, pages grouped per person, every attempt logged.

Each channel URL has its own lane (a thread and a queue), so a webhook that takes 20 s delays
only itself, never another person's page. A lane sends the first page at once; pages that come
within `group_window` of the last one wait for the window's end and go out as one page, worst
first, so a general manager gets one message at 23:31 instead of four in 32 seconds.
A page is re-sent only when it is known not to have arrived: a request that got no answer in
time may have been read, and is logged as unconfirmed instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from alerts.log import AlertLog
from alerts.notifiers import deliver
from alerts.notifiers.page import Delivery, Page
from warroom.config.channels import shown
from warroom.values import utc_now

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
    person: str | None = None
    """Who held the role when the page was decided: the record says who was paged, not only the role."""


@dataclass
class _Bundle:
    """What one send carries: one page, or several grouped into one, retried as a whole."""

    jobs: list[PageJob]
    due: float
    attempt: int = 0


class _Lane:
    """The queue and thread of one channel."""

    def __init__(self, pager: Pager, url: str):
        self.pager = pager
        self.url = url
        self.channel = shown(url)
        self.waiting: list[PageJob] = []
        self.retries: list[_Bundle] = []
        self.last_sent: float | None = None
        self.thread = threading.Thread(target=self._work, name=f"pager {self.channel}", daemon=True)

    def _next(self) -> _Bundle | None:
        """Block until a retry or the waiting pages are due; None when stopping."""
        cv, window = self.pager._cv, self.pager.group_window
        with cv:
            while not self.pager._stopping:
                now = time.monotonic()
                self.retries.sort(key=lambda b: b.due)
                if self.retries and self.retries[0].due <= now:
                    return self.retries.pop(0)
                due = None
                if self.waiting:
                    held = self.last_sent is not None and now - self.last_sent < window
                    due = self.last_sent + window if held else now
                    if due <= now:
                        jobs, self.waiting = self.waiting, []
                        # pages resumed after a restart keep the attempts they already used
                        return _Bundle(jobs, now, attempt=max(job.attempt for job in jobs))
                dues = [d for d in (due, self.retries[0].due if self.retries else None) if d is not None]
                cv.wait(min(dues) - now if dues else None)
            return None

    def _work(self) -> None:
        while (bundle := self._next()) is not None:
            self.pager._send(self, bundle)


class Pager:
    """Lanes per channel URL over one condition variable; `submit` never blocks the engine."""

    def __init__(self, alert_log: AlertLog, max_failures: int, backoff: float,
                 on_final_failure: Callable[[PageJob], None], mask: Callable[[str], str] = lambda s: s,
                 send: Callable[[str, Page], Delivery] = deliver, group_window: float = 0.0,
                 combine: Callable[[list[Page]], Page] | None = None, clock: Callable[[], datetime] = utc_now):
        self.log = alert_log
        self.max_failures = max_failures
        self.backoff = backoff
        self.on_final_failure = on_final_failure
        self.mask = mask
        self.send = send
        self.group_window = group_window
        self.combine = combine
        self.clock = clock  # the engine's: an outcome is stamped on the same line as the step it answers
        self._cv = threading.Condition()
        self._lanes: dict[str, _Lane] = {}
        self._started = False
        self._stopping = False
        self.sent = 0
        self.failed = 0

    def start(self) -> None:
        """Start the lanes (lanes made before start wait for it)."""
        with self._cv:
            self._started = True
            for lane in self._lanes.values():
                lane.thread.start()

    def stop(self) -> None:
        """Stop after the sends in flight; queued pages stay pending in the log for the next start."""
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
            lanes = list(self._lanes.values())
        for lane in lanes:
            if lane.thread.is_alive():
                lane.thread.join(5)

    def submit(self, job: PageJob) -> None:
        """Queue a page (its notify intent must already be in the log)."""
        with self._cv:
            lane = self._lanes.get(job.url)
            if lane is None:
                lane = self._lanes[job.url] = _Lane(self, job.url)
                if self._started and not self._stopping:
                    lane.thread.start()
            lane.waiting.append(job)
            self._cv.notify_all()

    def queued(self) -> int:
        """Pages waiting, retries included."""
        with self._cv:
            return sum(len(lane.waiting) + sum(len(b.jobs) for b in lane.retries) for lane in self._lanes.values())

    def _page_of(self, bundle: _Bundle) -> Page:
        pages = [job.page for job in bundle.jobs]
        if len(pages) == 1 or self.combine is None:
            return pages[0]
        return self.combine(pages)

    def _send(self, lane: _Lane, bundle: _Bundle) -> None:
        bundle.attempt += 1
        page = self._page_of(bundle)
        started = time.monotonic()
        try:
            outcome = self.send(lane.url, page)
        except Exception as err:  # noqa: BLE001 - a notifier bug must become a logged failed attempt
            outcome = Delivery(False, f"{type(err).__name__}: {err}")
        took = time.monotonic() - started
        with self._cv:
            lane.last_sent = time.monotonic()
        if outcome.ok:
            self.sent += 1
            self._record(bundle, lane, "delivered", True, f"attempt {bundle.attempt}, {took:.2f}s")
            return
        error = self.mask(outcome.error or "failed")
        if outcome.unconfirmed:
            # It may have arrived: sending it again is how a slow webhook got every page three times.
            self._record(bundle, lane, "unconfirmed", None, f"attempt {bundle.attempt}: {error}")
            return
        final = bundle.attempt >= self.max_failures
        self._record(bundle, lane, "undelivered" if final else "delivery_failed", False,
                     f"attempt {bundle.attempt}: {error}")
        if final:
            self.failed += 1
            for job in bundle.jobs:
                self.on_final_failure(job)
            return
        bundle.due = time.monotonic() + min(MAX_BACKOFF_S, self.backoff * 2 ** (bundle.attempt - 1))
        with self._cv:
            lane.retries.append(bundle)
            self._cv.notify_all()

    def _record(self, bundle: _Bundle, lane: _Lane, event: str, ok: bool | None, detail: str) -> None:
        """One outcome row per page step in the bundle, and one readable log line per send."""
        grouped = f" (one page for {len(bundle.jobs)} alerts)" if len(bundle.jobs) > 1 else ""
        for job in bundle.jobs:
            self.log.event(self.clock(), job.page.alert_id, event, level=job.page.level, role=job.role,
                           person=job.person, channel=lane.channel, ok=ok, detail=detail + grouped, step=job.step)
        alerts = ", ".join(f"#{job.page.alert_id} {job.page.kind} {job.page.level}" for job in bundle.jobs)
        roles = sorted({job.role or "-" for job in bundle.jobs})
        line = "page %s to %s via %s: %s%s (%s)"
        args = (alerts, "/".join(roles), lane.channel, event, grouped, detail)
        if ok:
            log.info(line, *args)
        else:
            log.warning(line, *args)
