"""The notifier worker: one lane per channel, pages grouped per person, every attempt logged.

Each channel URL has its own lane, and each send runs on its own short-lived thread with a hard
deadline: a provider that hangs holds only its own lane, never a pool another channel needs. The
sends never touch the database: one long-lived recorder thread writes every outcome (and starts the
ack clock), so a busy disk or a burst of outcomes never holds a lane.
A page that asks someone to decide (opened, risen, escalated to you, stand in, repeat) never waits
behind one that only tells (resolved, taken, handed over): it may start while a telling page is
still in flight, and telling pages waiting on the lane ride along in the same message.
The group window holds a page that asks only when a page that asked at the same or a higher level
left the lane within the window, so the first page asking a person to decide goes at once; the
pages held go out as one page, worst first, when the window ends.
A page is re-sent only when it is known not to have arrived: a request that got no answer in
time may have been read, and is logged as unconfirmed instead.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from alerts.log import AlertLog, EventRow
from alerts.notifiers import deliver
from alerts.notifiers.page import Delivery, Page
from warroom.config.channels import shown
from warroom.values import Level, utc_now

log = logging.getLogger("warroom.pager")

MAX_BACKOFF_S = 30.0
DEADLINE_GRACE_S = 2.0
"""Beyond the channel's own timeout before the lane stops waiting for a send and calls it unconfirmed."""
STOP_WAIT_S = 5.0
RECORD_BATCH = 256
"""Outcomes written in one transaction at most (a burst of hanging channels timing out together)."""
RECORD_WAIT_S = 30.0
"""How long a stop waits for the outcomes already known to be written; after it, none is written."""


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
    asking: bool = False
    """The page asks its reader to decide (it starts their time to acknowledge); else it only tells."""
    personal: bool = True
    """A channel of the person paged (chat or urgent), not a forward to Alertmanager or a team channel."""
    starts_clock: bool = False
    """Its arrival starts the time to acknowledge of the person now acting (the engine is told its fate)."""


@dataclass
class _Bundle:
    """What one send carries: one page, or several grouped into one, retried as a whole."""

    jobs: list[PageJob]
    due: float
    attempt: int = 0

    @property
    def asking(self) -> bool:
        """True when any page in it asks its reader to decide."""
        return any(job.asking for job in self.jobs)


def _level(jobs: list[PageJob]) -> int:
    return max((int(Level.from_word(job.page.level)) for job in jobs if job.asking), default=0)


@dataclass
class _Lane:
    """What waits for one channel, what is in flight on it, and when it last sent."""

    url: str
    channel: str
    waiting: list[PageJob] = field(default_factory=list)
    retries: list[_Bundle] = field(default_factory=list)
    asking_in_flight: bool = False
    telling_in_flight: bool = False
    last_sent: float | None = None
    last_asked: tuple[float, int] | None = None
    """When a page that asked last left this lane, and its level: what the group window counts from."""

    def idle(self) -> bool:
        return not (self.asking_in_flight or self.telling_in_flight)

    def ready(self, now: float, window: float) -> tuple[list[_Bundle], float | None]:
        """The bundles to start now, and when to look again (None: when a send ends or a page comes)."""
        starts: list[_Bundle] = []
        wake: float | None = None
        self.retries.sort(key=lambda b: b.due)
        for bundle in list(self.retries):
            if bundle.due > now:
                wake = bundle.due if wake is None else min(wake, bundle.due)
                continue
            if (not self.asking_in_flight) if bundle.asking else self.idle():
                self.retries.remove(bundle)
                self._started(bundle, now)
                starts.append(bundle)
        if not self.waiting:
            return starts, wake
        asking = [job for job in self.waiting if job.asking]
        if asking:
            if self.asking_in_flight:
                return starts, wake
            due = now
            if self.last_asked is not None and _level(asking) <= self.last_asked[1]:
                due = max(now, self.last_asked[0] + window)  # a second page asking the same: grouped
        else:
            if not self.idle():
                return starts, wake
            due = max(now, self.last_sent + window) if self.last_sent is not None else now
        if due > now:
            return starts, due if wake is None else min(wake, due)
        # pages resumed after a restart keep the attempts they already used
        bundle = _Bundle(self.waiting, now, attempt=max(job.attempt for job in self.waiting))
        self.waiting = []
        self._started(bundle, now)
        starts.append(bundle)
        return starts, wake

    def _started(self, bundle: _Bundle, now: float) -> None:
        self.last_sent = now
        if bundle.asking:
            self.asking_in_flight = True
            self.last_asked = (now, _level(bundle.jobs))
        else:
            self.telling_in_flight = True


class Pager:
    """Lanes per channel URL under one scheduler thread; every send on its own thread; `submit` never blocks."""

    def __init__(self, alert_log: AlertLog, max_failures: int, backoff: float,
                 on_final_failure: Callable[[PageJob], None], mask: Callable[[str], str] = lambda s: s,
                 send: Callable[[str, Page], Delivery] = deliver, group_window: float = 0.0,
                 combine: Callable[[list[Page]], Page] | None = None, timeout: float = 15.0,
                 clock: Callable[[], datetime] = utc_now,
                 on_outcome: Callable[[PageJob, str, datetime], None] | None = None):
        self.log = alert_log
        self.max_failures = max_failures
        self.backoff = backoff
        self.on_final_failure = on_final_failure
        self.on_outcome = on_outcome
        self.mask = mask
        self.send = send
        self.group_window = group_window
        self.combine = combine
        self.clock = clock  # the engine's: an outcome is stamped on the same line as the step it answers
        self.deadline = timeout + DEADLINE_GRACE_S
        self._cv = threading.Condition()
        self._lanes: dict[str, _Lane] = {}
        self._carriers: set[threading.Thread] = set()
        self._thread: threading.Thread | None = None
        self._recorder: threading.Thread | None = None
        self._outcomes: queue.SimpleQueue[tuple[_Lane, _Bundle, int, Delivery, float, bool, datetime] | None] = \
            queue.SimpleQueue()
        self._unrecorded = 0
        self._writing = threading.Lock()
        self._closed = False
        self._stopping = False
        self.sent = 0
        self.failed = 0
        self.unconfirmed = 0
        self.abandoned = 0
        """Sends the lane stopped waiting for at the deadline (their thread may still be running)."""
        self.may_send: Callable[[], bool] = lambda: True
        """High availability: false for a moment while a thawed leader has not yet looked at its lease."""
        self.holding = False
        """High availability: this node lost the lease; nothing more is sent (the new leader resumes the rest)."""

    def start(self) -> None:
        """Start the scheduler (pages submitted before start wait for it)."""
        with self._cv:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._schedule, name="pager", daemon=True)
                self._recorder = threading.Thread(target=self._records, name="pager records", daemon=True)
                self._thread.start()
                self._recorder.start()

    def stop(self) -> None:
        """Stop after the sends in flight (waiting at most a few seconds); queued pages stay pending in the log."""
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
            carriers = list(self._carriers)
        if self._thread is not None:
            self._thread.join(STOP_WAIT_S)
        until = time.monotonic() + STOP_WAIT_S
        for carrier in carriers:
            carrier.join(max(0.0, until - time.monotonic()))
        self._outcomes.put(None)  # the outcomes known by now are written; a send still hanging stays pending
        if self._recorder is not None:
            self._recorder.join(RECORD_WAIT_S)
        with self._writing:  # whatever is left is not written: the caller may close the store after this
            self._closed = True

    def hold(self) -> int:
        """Stop sending at once and drop what waits (its rows stay pending for whoever leads); how many dropped."""
        with self._cv:
            self.holding = True
            dropped = sum(len(lane.waiting) + sum(len(b.jobs) for b in lane.retries) for lane in self._lanes.values())
            for lane in self._lanes.values():
                lane.waiting, lane.retries = [], []
            return dropped

    def release(self) -> None:
        """Send again (this node leads)."""
        with self._cv:
            self.holding = False
            self._cv.notify_all()

    def submit(self, job: PageJob) -> None:
        """Queue a page (its notify intent must already be in the log); refused while holding."""
        with self._cv:
            if self.holding:
                return
            lane = self._lanes.get(job.url)
            if lane is None:
                lane = self._lanes[job.url] = _Lane(job.url, shown(job.url))
            lane.waiting.append(job)
            self._cv.notify_all()

    def queued(self) -> int:
        """Pages waiting, retries included."""
        with self._cv:
            return sum(len(lane.waiting) + sum(len(b.jobs) for b in lane.retries) for lane in self._lanes.values())

    def in_flight(self) -> int:
        """Sends under way on their own threads, and outcomes not yet recorded."""
        with self._cv:
            return len(self._carriers) + self._unrecorded

    # --- the scheduler ---------------------------------------------------------------------------

    def _schedule(self) -> None:
        with self._cv:
            while not self._stopping:
                now = time.monotonic()
                wake: float | None = None
                for lane in self._lanes.values():
                    starts, due = lane.ready(now, self.group_window)
                    for bundle in starts:
                        parked = self._launch(lane, bundle)
                        if parked is not None:  # it must wake for a page it put back, or it sleeps on it for good
                            due = parked if due is None else min(due, parked)
                    if due is not None:
                        wake = due if wake is None else min(wake, due)
                self._cv.wait(None if wake is None else max(0.0, wake - time.monotonic()))

    def _launch(self, lane: _Lane, bundle: _Bundle) -> float | None:
        """Start the bundle's send; when this node may not send yet, put it back and say when to look again."""
        if self.holding or not self.may_send():
            lane.asking_in_flight = lane.telling_in_flight = False
            if not self.holding:  # not sure yet it still leads: look again in a moment, keep the page
                bundle.due = time.monotonic() + 0.1
                lane.retries.append(bundle)
                return bundle.due
            return None  # no longer the leader: the new one sends it
        carrier = threading.Thread(target=self._carry, args=(lane, bundle), daemon=True,
                                   name=f"page {lane.channel}")
        self._carriers.add(carrier)
        carrier.start()
        return None

    # --- one send ---------------------------------------------------------------------------------

    def _page_of(self, bundle: _Bundle) -> Page:
        pages = [job.page for job in bundle.jobs]
        if len(pages) == 1 or self.combine is None:
            return pages[0]
        return self.combine(pages)

    def _try(self, url: str, page: Page) -> Delivery:
        """Send once and wait at most the deadline; a send still running then is unconfirmed, never waited for."""
        box: list[Delivery] = []

        def attempt() -> None:
            try:
                box.append(self.send(url, page))
            except Exception as err:  # noqa: BLE001 - a notifier bug must become a logged failed attempt
                box.append(Delivery(False, f"{type(err).__name__}: {err}"))

        worker = threading.Thread(target=attempt, daemon=True, name=f"send {shown(url)}")
        worker.start()
        worker.join(self.deadline)
        if box:
            return box[0]
        with self._cv:
            self.abandoned += 1
        return Delivery(False, f"no answer within {self.deadline:g}s; the lane stopped waiting", unconfirmed=True)

    def _carry(self, lane: _Lane, bundle: _Bundle) -> None:
        """One send of one bundle on this thread; the lane is free again the moment its fate is known."""
        if self.holding or not self.may_send():
            # frozen between the launch and the send (SIGSTOP, a paused VM) and thawed: not sure it still leads,
            # so nothing leaves; the page goes back as in _launch, its row pending for whoever leads
            with self._cv:
                if bundle.asking:
                    lane.asking_in_flight = False
                else:
                    lane.telling_in_flight = False
                if not self.holding:
                    bundle.due = time.monotonic() + 0.1
                    lane.retries.append(bundle)
                self._carriers.discard(threading.current_thread())
                self._cv.notify_all()
            return
        outcome, took, retry = Delivery(False, "not sent"), 0.0, False
        bundle.attempt += 1
        attempt = bundle.attempt  # a retry may start (and count on) before this outcome is written
        try:
            started = time.monotonic()
            outcome = self._try(lane.url, self._page_of(bundle))
            took = time.monotonic() - started
            retry = not outcome.ok and not outcome.unconfirmed and attempt < self.max_failures
        except Exception:  # noqa: BLE001 - a broken page must not leave the lane marked busy forever
            log.exception("page on %s: the send failed before it started", lane.channel)
        finally:
            ended = self.clock()  # when its fate became known: the arrival that starts an ack clock
            with self._cv:
                if bundle.asking:
                    lane.asking_in_flight = False
                else:
                    lane.telling_in_flight = False
                if retry:
                    bundle.due = time.monotonic() + min(MAX_BACKOFF_S, self.backoff * 2 ** (bundle.attempt - 1))
                    lane.retries.append(bundle)
                self._unrecorded += 1
                self._outcomes.put((lane, bundle, attempt, outcome, took, retry, ended))
                self._carriers.discard(threading.current_thread())
                self._cv.notify_all()

    # --- the record -------------------------------------------------------------------------------

    def _records(self) -> None:
        """Write outcomes in the order they came, a burst in one transaction, then tell the engine."""
        while True:
            batch = [self._outcomes.get()]
            while len(batch) < RECORD_BATCH and not self._outcomes.empty():
                batch.append(self._outcomes.get_nowait())
            items = [item for item in batch if item is not None]
            try:
                with self._writing:
                    if self._closed:
                        return  # stopped: these pages stay pending in the log, resumed at the next start
                    self._settle(items)
            except Exception:  # noqa: BLE001 - one bad record must not stop the ones after it
                log.exception("recording %d page outcome(s) failed", len(items))
            finally:
                with self._cv:
                    self._unrecorded -= len(items)
                    self._cv.notify_all()
            if len(items) < len(batch):
                return  # the stop's marker: everything before it is written

    def _settle(self, items: list[tuple[_Lane, _Bundle, int, Delivery, float, bool, datetime]]) -> None:
        """The rows of every outcome in one write; then the ack clocks, the next tiers and the log lines."""
        rows: list[EventRow] = []
        told: list[tuple[_Lane, _Bundle, str, bool | None, str, datetime]] = []
        for lane, bundle, number, outcome, took, retry, at in items:
            attempt = f"attempt {number}"
            if outcome.ok:
                self.sent += 1
                event, ok, detail = "delivered", True, f"{attempt}, {took:.2f}s"
            elif outcome.unconfirmed:
                # It may have arrived: sending it again is how a slow webhook got every page three times.
                self.unconfirmed += 1
                event, ok, detail = "unconfirmed", None, f"{attempt}: {self.mask(outcome.error or 'failed')}"
            else:
                event, ok = "delivery_failed" if retry else "undelivered", False
                detail = f"{attempt}: {self.mask(outcome.error or 'failed')}"
                self.failed += 0 if retry else 1
            if len(bundle.jobs) > 1:
                detail += f" (one page for {len(bundle.jobs)} alerts)"
            rows += [EventRow(at, job.page.alert_id, event, job.page.level, job.role, job.person, lane.channel,
                              job.step, ok, detail) for job in bundle.jobs]
            told.append((lane, bundle, event, ok, detail, at))
        self.log.events(rows)
        for lane, bundle, event, ok, detail, at in told:
            for job in bundle.jobs:
                if self.on_outcome is not None and job.starts_clock and event != "delivery_failed":
                    self.on_outcome(job, event, at)  # its fate is known: delivered, unconfirmed, or given up
                if event == "undelivered":
                    self.on_final_failure(job)
            alerts = ", ".join(f"#{job.page.alert_id} {job.page.kind} {job.page.level}" for job in bundle.jobs)
            roles = "/".join(sorted({job.role or "-" for job in bundle.jobs}))
            (log.info if ok else log.warning)("page %s to %s via %s: %s (%s)", alerts, roles, lane.channel, event,
                                               detail)
