"""The alert engine: levels per sample, one alert per episode, paging, escalation, acks, silences.

Runs inside the daemon so paging never depends on anyone having the board open. Fed by every
poll result (not a slower loop); a 250 ms timer drives ack timeouts, repeats, resolution,
staleness and no-data. Every transition is written to the alert log before its page is queued,
and every change of what the wall shows is recorded by the snapshot at the same moment.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections.abc import Callable
from datetime import datetime

from alerts.acknowledge import Acknowledging, AlertError
from alerts.acting import Acting, acting_on, acting_role, roster_holder
from alerts.dispatch import DECIDING, Dispatch
from alerts.escalation import next_in_chain
from alerts.levels import GREEN_STATE, LevelState, evaluate
from alerts.log import Alert, AlertLog
from alerts.messages import PageWriter
from alerts.notifiers import deliver
from alerts.notifiers.page import Delivery, Page
from alerts.pager import PageJob, Pager
from alerts.record_page import RecordAlarm
from alerts.roster import Roster
from alerts.silences import Silences
from alerts.snapshot import Snapshot
from alerts.takeover import load_open
from alerts.watch import Watch
from warroom.config.load import LoadedConfig
from warroom.store.database import Store
from warroom.values import Level, MetricView, PollResult, Sample, utc_now

__all__ = ["AlertEngine", "AlertError"]  # AlertError lives with the acknowledgements; callers know the engine

log = logging.getLogger("warroom.alerts")


class AlertEngine(Acknowledging):
    """State machine over all metrics; thread-safe (poll threads, timer, pager and API all call in)."""

    def __init__(self, loaded: LoadedConfig, store: Store, clock: Callable[[], datetime] = utc_now,
                 send: Callable[[str, Page], Delivery] | None = None, tick: float = 0.25):
        self.loaded = loaded
        self.cfg = loaded.config
        self.clock = clock
        self.tick_every = tick
        self.log = AlertLog(store)
        self.silences = Silences(store)
        self.roster = Roster(self.cfg, store)
        self.snapshot = Snapshot(self.cfg, store, self.roster)
        self.snapshot.acting = self._acting_role  # a tile names whoever must act on its alert now
        settings = self.cfg.alerts
        send = send or functools.partial(deliver, timeout=settings.delivery_timeout)

        def holder(role: str | None) -> tuple[str, str] | None:
            held = self.roster.holder(role, self.clock())
            return (held.name, held.phone) if held else None

        writer = PageWriter(self.cfg, holder)
        pager = Pager(self.log, settings.max_delivery_failures, settings.retry_backoff, self._delivery_gave_up,
                      loaded.mask, send=send, group_window=settings.group_window, combine=writer.combine,
                      timeout=settings.delivery_timeout, clock=clock, on_outcome=self._page_outcome)
        self.dispatch = Dispatch(self.cfg, self.log, self.silences, self.snapshot, writer, pager, clock, self.roster)
        # A record the disk stopped taking is paged once to the no-data owner; paging itself goes on from memory.
        self.record_alarm = RecordAlarm(self.dispatch, pager.submit, clock)
        store.health.configure(clock, self.cfg.campaign.timezone)
        store.health.listeners.append(self.record_alarm.changed)
        self.store = store
        self.watch = Watch(self.cfg, self.snapshot)
        self._hushed: set[int] = set()  # open alerts a silence kept from repeating or escalating
        self._lock = threading.RLock()
        self.states: dict[str, LevelState] = {}
        self.open: dict[tuple[str, str], Alert] = {}
        self.collector_errors: dict[str, str] = {}
        self.started_at: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # High availability: only the node holding the lease decides and pages (alerts/takeover.py).
        self.leading: Callable[[], bool] = lambda: True

    @property
    def pager(self) -> Pager:
        """The delivery lanes (for status and shutdown)."""
        return self.dispatch.pager

    @property
    def writer(self) -> PageWriter:
        """The words of pages and ack pages."""
        return self.dispatch.writer

    @property
    def secret(self) -> str:
        """The ack-link secret ('' when links are off)."""
        return self.dispatch.secret

    @property
    def campaign_end(self) -> datetime | None:
        """When the campaign ends (set by the daemon from the recorded window)."""
        return self.dispatch.campaign_end

    @campaign_end.setter
    def campaign_end(self, value: datetime | None) -> None:
        self.dispatch.campaign_end = self.watch.campaign_end = value

    # --- life cycle ---------------------------------------------------------------------------

    def start(self, last_values: dict[str, tuple[datetime, float]] | None = None) -> None:
        """Reload open alerts, seed the snapshot, resume undelivered pages, start the pager and timer."""
        now = self.started_at = self.clock()
        load_open(self)
        for metric in self.cfg.metrics:
            ts, value = (last_values or {}).get(metric, (None, None))
            level = self.states.get(metric, GREEN_STATE).level
            self.snapshot.seed(metric, value, ts, level, self.watch.is_stale(metric, ts, now), now)
        self.pager.start()
        if not self.store.health.complete:  # the disk was already full when the daemon opened the file
            self.record_alarm.changed(self.store.health)
        self.dispatch.resume(list(self.open.values()))
        if self.open:
            log.info("reloaded %d open alert(s) from the alert log", len(self.open))
        self._thread = threading.Thread(target=self._timer, name="escalation", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the timer and the pager (undelivered pages stay pending in the log)."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        if self.record_alarm.changed in self.store.health.listeners:
            self.store.health.listeners.remove(self.record_alarm.changed)
        self.pager.stop()

    def _timer(self) -> None:
        while not self._stop.wait(self.tick_every):
            try:
                self.tick(self.clock())
            except Exception:  # noqa: BLE001 - the timer must survive a bad moment
                log.exception("alert timer failed")

    # --- input --------------------------------------------------------------------------------

    def observe(self, result: PollResult) -> None:
        """Every poll result, pushed samples too: evaluate each sample at once."""
        if result.run is not None:
            if result.run.ok:
                self.collector_errors.pop(result.run.collector, None)
            else:
                self.collector_errors[result.run.collector] = result.run.error or "failed"
        for sample in result.samples:
            self.observe_sample(sample)

    def observe_sample(self, sample: Sample) -> None:
        """Evaluate one sample; open, raise, lower or start resolving its alert; update the snapshot."""
        spec = self.cfg.metrics.get(sample.metric)
        if spec is None:
            return
        metric = sample.metric
        with self._lock:
            now = self.clock()
            view = self.snapshot.get(metric)
            if view is not None and view.ts is not None and sample.ts < view.ts:
                return  # stored, but an older value never speaks for the present
            leading = self.leading()
            gap = self.open.get((metric, "no_data"))
            if gap is not None and leading:
                gap.value = None if math.isnan(sample.value) else sample.value  # its page says what came back
                self._resolve(gap, now, "data is back")
            quiet = math.isnan(sample.value)  # a ratio over no traffic: nothing is wrong, nothing to show
            value = None if quiet else sample.value
            alert = self.open.get((metric, "level"))
            if self._watch_ended(metric, now):
                self.snapshot.set(metric, now, value=value, ts=sample.ts, level=Level.GREEN, stale=False,
                                  note="watch_ended")
                return
            if spec.yellow is None and spec.orange is None and spec.red is None:
                self.snapshot.set(metric, now, value=value, ts=sample.ts, level=Level.GREEN, stale=False)
                return
            state = GREEN_STATE if quiet else evaluate(sample.value, spec.rule(), self.states.get(metric, GREEN_STATE),
                                                       sample.ts.timestamp())
            self.states[metric] = state
            if alert is not None and not quiet:
                alert.value = sample.value
            self.snapshot.set(metric, now, value=value, ts=sample.ts, level=state.level, stale=False,
                              note="no_traffic" if quiet else None, alert_id=alert.id if alert else None)
            if leading:  # a follower shows its own samples; the leader's alerts come from the shared log
                self._follow(metric, alert, state.level, now, value)

    def _follow(self, metric: str, alert: Alert | None, level: Level, now: datetime, value: float | None) -> None:
        """Move the metric's alert to `level`: every rise (out of recovery too) is a new step."""
        if level > Level.GREEN:
            if alert is None:
                self._open(metric, "level", level, now, value)
            elif level > alert.level:
                self._rise(alert, level, now)
            elif level < alert.level:
                self._fall(alert, level, now)
            self.snapshot.follow(metric, now)
        elif alert is not None and not alert.recovering:
            alert.green_since, alert.level, alert.updated_at = now, Level.GREEN, now
            self.log.save(alert)
            self.log.event(now, alert, "lowered", level=Level.GREEN, detail="back to normal; resolves when it stays")

    # --- transitions --------------------------------------------------------------------------

    def _threshold(self, metric: str, level: Level) -> float | None:
        spec = self.cfg.metrics.get(metric)
        return spec.rule().threshold(level) if spec else None

    def _open(self, metric: str, kind: str, level: Level, now: datetime, value: float | None,
              detail: str | None = None) -> Alert:
        owner = self.cfg.alerts.no_data_owner if kind == "no_data" else self.cfg.owner_role(metric, level)
        alert = Alert(self.log.new_id(), metric, kind, now, level, level, owner_role=owner, updated_at=now,
                      level_since=now, value=value, rise=1,
                      threshold=self._threshold(metric, level) if kind == "level" else None)
        self.open[(metric, kind)] = alert
        self.log.save(alert)
        self.log.event(now, alert, "opened", role=owner, person=self._name(owner), detail=detail)
        log.info("alert #%s %s opened at %s (%s): %s decides", alert.id, metric, level.word, kind, owner)
        self._page(alert, owner, "opened", now, why=detail)
        return alert

    def _rise(self, alert: Alert, level: Level, now: datetime) -> None:
        previous, from_level, escalated_to = alert.owner_role, alert.level, alert.escalated_to
        alert.rise += 1
        alert.level, alert.peak_level = level, max(alert.peak_level, level)
        alert.owner_role = self.cfg.owner_role(alert.metric, level)
        alert.threshold = self._threshold(alert.metric, level)
        # Each rise is its own decision: a standing ack, escalation or recovery no longer applies.
        alert.state, alert.acked_by, alert.acked_at, alert.acked_level = "open", None, None, None
        alert.escalated_to, alert.escalated_at, alert.exhausted, alert.green_since = None, None, False, None
        alert.level_since = alert.updated_at = now
        self.log.save(alert)
        self.log.event(now, alert, "raised", role=alert.owner_role, person=self._name(alert.owner_role),
                       detail=f"{from_level.word} → {level.word}; decider {previous} → {alert.owner_role}")
        log.info("alert #%s %s rose %s → %s: %s decides", alert.id, alert.metric, from_level.word, level.word,
                 alert.owner_role)
        self._page(alert, alert.owner_role, "raised", now)
        if from_level != Level.GREEN:
            # Whoever was asked before (the decider, whoever it was escalated to) hears who decides now.
            for role in dict.fromkeys([previous, escalated_to]):
                if role and role != alert.owner_role:
                    self._page(alert, role, "handed_over", now)

    def _fall(self, alert: Alert, level: Level, now: datetime) -> None:
        previous, from_level, escalated_to = alert.owner_role, alert.level, alert.escalated_to
        alert.level = level
        alert.owner_role = self.cfg.owner_role(alert.metric, level)
        alert.threshold = self._threshold(alert.metric, level)
        alert.level_since = alert.updated_at = now
        if alert.state == "open":
            # A new decider gets their own time to acknowledge, and the chain starts again from them.
            alert.escalated_to, alert.escalated_at, alert.exhausted = None, None, False
        self.log.save(alert)
        self.log.event(now, alert, "lowered", level=level, role=alert.owner_role,
                       detail=f"{from_level.word} → {level.word}; decider {previous} → {alert.owner_role}")
        log.info("alert #%s %s fell %s → %s: %s decides", alert.id, alert.metric, from_level.word, level.word,
                 alert.owner_role)
        if alert.owner_role != previous:
            if alert.state == "open":
                self._page(alert, alert.owner_role, "lowered", now)
            self._page(alert, previous, "stood_down", now)
        if alert.state == "open" and escalated_to and escalated_to not in (alert.owner_role, previous):
            self._page(alert, escalated_to, "stood_down", now)  # no longer asked: the chain starts again

    def _resolve(self, alert: Alert, now: datetime, detail: str) -> None:
        alert.state, alert.resolved_at, alert.updated_at = "resolved", now, now
        alert.level, alert.green_since = Level.GREEN, alert.green_since or now
        self.open.pop((alert.metric, alert.kind), None)
        self.log.save(alert)
        self.log.event(now, alert, "resolved", level=Level.GREEN, detail=detail)
        log.info("alert #%s %s resolved (peak %s): %s", alert.id, alert.metric, alert.peak_level.word, detail)
        for role in alert.paged_roles:
            self._page(alert, role, "resolved", now)

    def _escalate(self, alert: Alert, now: datetime, why: str, after: str | None) -> None:
        """Page the next role in the chain after `after`; say so when nobody is left."""
        level = self.dispatch.level_of(alert)
        target = next_in_chain(self.cfg, alert.metric, level, after)
        while target is not None and target in (alert.owner_role, alert.escalated_to):
            target = next_in_chain(self.cfg, alert.metric, level, target)
        alert.escalated_at = alert.updated_at = now
        if target is None:
            alert.exhausted = True
            self.log.save(alert)
            self.log.event(now, alert, "escalation_exhausted", detail=f"{why}; nobody above {after}")
            log.warning("alert #%s %s %s: %s and nobody is left to page", alert.id, alert.metric, alert.level.word, why)
            return
        alert.escalated_to = target
        self.log.save(alert)
        self.log.event(now, alert, "escalated", role=target, person=self._name(target), detail=why)
        log.warning("alert #%s %s %s escalated to %s: %s", alert.id, alert.metric, alert.level.word, target, why)
        self.snapshot.follow(alert.metric, now)
        self._page(alert, target, "escalated", now, why=why, previous=after)

    # --- paging -------------------------------------------------------------------------------

    def _name(self, role: str | None) -> str | None:
        return self.roster.name(role, self.clock()) if role else None

    def _page(self, alert: Alert, role: str | None, kind: str, now: datetime, why: str | None = None,
              previous: str | None = None, afresh: bool = False) -> None:
        if self.dispatch.page(alert, role, kind, now, why, previous, afresh) == "unreachable" and \
                alert.state == "open":
            self._escalate(alert, now, f"nobody reachable: {role} has no channel", after=role)

    def _page_outcome(self, job: PageJob, event: str, at: datetime) -> None:
        """A page's fate is known: the one that asked the person now acting starts their time to acknowledge."""
        with self._lock:
            alert = next((a for a in self.open.values() if a.id == job.page.alert_id), None)
            if alert is not None and self.dispatch.arrived(alert, job, event, at):
                self.log.save(alert)

    def _delivery_gave_up(self, job: PageJob) -> None:
        with self._lock:
            alert = next((a for a in self.open.values() if a.id == job.page.alert_id), None)
            if alert is None or alert.state != "open" or job.page.kind not in DECIDING or not job.personal:
                return
            alert.delivery_failed = True
            self.log.save(alert)
            if job.role not in (alert.owner_role, alert.escalated_to) or self.dispatch.still_going(alert, job) or \
                    self.log.delivered(job.step):
                return  # another channel reached (or may yet reach) the person, or the chain moved on
            self._escalate(alert, self.clock(), f"page to {job.role} failed {self.pager.max_failures} times",
                           after=job.role)

    # --- timer --------------------------------------------------------------------------------

    def tick(self, now: datetime) -> None:
        """Ack timeouts, repeats, resolution, staleness and no-data at `now`."""
        settings = self.cfg.alerts
        with self._lock:
            if not self.leading():
                self.watch.refresh(now)
                return
            for alert in list(self.open.values()):
                if alert.kind == "level" and alert.recovering:
                    if (now - alert.green_since).total_seconds() >= settings.resolve_after:
                        self._resolve(alert, now, f"green for {settings.resolve_after:g}s")
                    continue
                if alert.kind == "level" and self._watch_ended(alert.metric, now):
                    self._resolve(alert, now, "the campaign ended; this metric is watched only until then")
                    continue
                if alert.state != "open":
                    continue
                if self.silences.covers(alert.metric, now):
                    # The room chose not to be asked: nobody above is asked either, and nothing repeats.
                    self._hushed.add(alert.id)
                    continue
                if alert.id in self._hushed:
                    # The silence is over: its own decider is asked afresh, and their time to acknowledge restarts.
                    self._hushed.discard(alert.id)
                    self._page(alert, alert.escalated_to or alert.owner_role, "repeat", now, afresh=True)
                    continue
                if self.dispatch.on_its_way(alert):
                    continue  # the time to acknowledge starts when the page arrives
                timeout = self.cfg.levels.at(max(alert.level, Level.YELLOW)).ack_timeout
                clock_from = alert.ack_clock_at or alert.last_page_at or alert.level_since or alert.opened_at
                if not alert.exhausted and (now - clock_from).total_seconds() >= timeout:
                    self._escalate(alert, now, f"not acknowledged within {timeout:g}s",
                                   after=alert.escalated_to or alert.owner_role)
                elif settings.repeat_every and alert.last_page_at and \
                        (now - alert.last_page_at).total_seconds() >= settings.repeat_every:
                    self._page(alert, alert.owner_role, "repeat", now)
                    if alert.escalated_to:
                        self._page(alert, alert.escalated_to, "repeat", now)
            self.watch.refresh(now)
            self._check_no_data(now)

    def _watch_ended(self, metric: str, now: datetime) -> bool:
        return self.watch.ended(metric, now)

    def _check_no_data(self, now: datetime) -> None:
        skip = {metric for metric, kind in self.open if kind == "no_data"}
        for metric in self.watch.silent(now, self.started_at, skip):
            why = self.dispatch.no_data_reason(metric, now, self.started_at, self.collector_errors)
            self._open(metric, "no_data", Level.YELLOW, now, None, why)

    def _acting_role(self, metric: str, level: Level) -> str | None:
        alert = self.open.get((metric, "level"))
        return acting_role(alert) if alert is not None and alert.level == level else None

    def acting(self) -> dict[int, Acting]:
        """Who must act now on each open alert (alerts/acting.py): the one answer every surface reads."""
        now = self.clock()
        with self._lock:
            return acting_on(self.cfg, list(self.open.values()), roster_holder(self.roster, now), self.silences, now)

    def views(self) -> dict[str, MetricView]:
        """The one snapshot of every metric, for the wall, the API and /metrics."""
        return self.snapshot.read()

    def levels(self) -> dict[str, Level]:
        """The current level of every metric (after pending time and clear band)."""
        return {m: Level.from_word(v.level) for m, v in self.snapshot.read().items()}

    def status(self) -> dict[str, object]:
        """Levels per metric and open alerts, for /metrics and /health."""
        with self._lock:
            return {"levels": self.levels(),
                    "open": [(a.level.word, a.state, a.kind) for a in self.open.values()],
                    "pages_sent": self.pager.sent, "pages_failed": self.pager.failed,
                    "pages_queued": self.pager.queued()}
