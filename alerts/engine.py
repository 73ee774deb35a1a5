"""The alert engine: levels per sample, one alert per episode, paging, escalation, acks, silences.

Runs inside the daemon so paging never depends on anyone having the board open. Fed by every
poll result (not a slower loop); a 250 ms timer drives ack timeouts, repeats, resolution and
no-data. Every transition is written to the alert log before its page is queued.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime

from alerts.ack import AckRejected, check_token, make_token
from alerts.levels import GREEN_STATE, Level, LevelState, evaluate
from alerts.log import Alert, AlertLog
from alerts.messages import compose
from alerts.notifiers import Page, deliver, shown
from alerts.pager import PageJob, Pager
from alerts.silences import Silences
from warroom.config import LoadedConfig
from warroom.samples import Sample, utc_now
from warroom.scheduler import PollResult
from warroom.store import Store

log = logging.getLogger("warroom.alerts")


class AlertError(Exception):
    """An action on an alert that cannot be done (unknown, already resolved); `status` is the HTTP code."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class AlertEngine:
    """State machine over all metrics; thread-safe (poll threads, timer, pager and API all call in)."""

    def __init__(self, loaded: LoadedConfig, store: Store, clock: Callable[[], datetime] = utc_now,
                 send: Callable[[str, Page], object] = deliver, tick: float = 0.25):
        self.loaded = loaded
        self.cfg = loaded.config
        self.clock = clock
        self.tick_every = tick
        self.log = AlertLog(store)
        self.silences = Silences(store)
        self.pager = Pager(self.log, self.cfg.alerts.max_delivery_failures, self.cfg.alerts.retry_backoff,
                           self._delivery_gave_up, loaded.mask, send=send)
        self._lock = threading.RLock()
        self.states: dict[str, LevelState] = {}
        self.open: dict[tuple[str, str], Alert] = {}
        self.last_seen: dict[str, datetime] = {}
        self.collector_errors: dict[str, str] = {}
        self.started_at: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.secret = os.environ.get(self.cfg.alerts.ack_secret_env, "")
        server = self.cfg.server
        self.public_url = (self.cfg.alerts.public_url or f"http://{server.host}:{server.port}").rstrip("/")

    # --- life cycle ---------------------------------------------------------------------------

    def start(self, last_seen: dict[str, datetime] | None = None) -> None:
        """Reload open alerts and undelivered pages, then start the pager and the timer."""
        self.started_at = self.clock()
        self.last_seen.update(last_seen or {})
        for alert in self.log.open_alerts():
            self.open[(alert.metric, alert.kind)] = alert
            if alert.kind == "level":
                self.states[alert.metric] = LevelState(alert.level if not alert.green_since else Level.GREEN)
        self.pager.start()
        for notice in self.log.pending_notices():
            alert = next((a for a in self.open.values() if a.id == notice.alert_id), None)
            if alert is None:
                continue
            for url in self._channels(notice.role, "opened"):
                if shown(url) == notice.channel:
                    page = self._page_for(alert, notice.step.split(":")[1], notice.role)
                    self.pager.submit(PageJob(notice.step, notice.role, url, page))
        if self.open:
            log.info("reloaded %d open alert(s) from the alert log", len(self.open))
        self._thread = threading.Thread(target=self._timer, name="escalation", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the timer and the pager (undelivered pages stay pending in the log)."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)
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
        """Evaluate one sample; open, raise, lower or start resolving its alert."""
        spec = self.cfg.metrics.get(sample.metric)
        if spec is None:
            return
        with self._lock:
            seen = self.last_seen.get(sample.metric)
            if seen is None or sample.ts >= seen:
                self.last_seen[sample.metric] = sample.ts
            gap = self.open.get((sample.metric, "no_data"))
            if gap is not None:
                self._resolve(gap, sample.ts, "data is back")
            if spec.yellow is None and spec.orange is None and spec.red is None:
                return
            prev = self.states.get(sample.metric, GREEN_STATE)
            state = evaluate(sample.value, spec.rule(), prev, sample.ts.timestamp())
            self.states[sample.metric] = state
            alert = self.open.get((sample.metric, "level"))
            if alert is not None:
                alert.value = sample.value
            if state.level > Level.GREEN:
                if alert is None:
                    self._open(sample.metric, "level", state.level, sample.ts, sample.value)
                elif state.level > alert.level:
                    self._raise(alert, state.level, sample.ts)
                elif state.level < alert.level or alert.green_since is not None:
                    self._lower(alert, state.level, sample.ts)
            elif alert is not None and alert.green_since is None:
                self._lower(alert, Level.GREEN, sample.ts)

    # --- transitions --------------------------------------------------------------------------

    def _threshold(self, metric: str, level: Level) -> float | None:
        spec = self.cfg.metrics.get(metric)
        return spec.rule().threshold(level) if spec else None

    def _open(self, metric: str, kind: str, level: Level, now: datetime, value: float | None,
              detail: str | None = None) -> Alert:
        owner = self.cfg.alerts.no_data_owner if kind == "no_data" else self.cfg.owner_role(metric, level)
        alert = Alert(self.log.new_id(), metric, kind, now, level, level, owner_role=owner, updated_at=now,
                      level_since=now, value=value,
                      threshold=self._threshold(metric, level) if kind == "level" else None)
        self.open[(metric, kind)] = alert
        self.log.save(alert)
        self.log.event(now, alert, "opened", role=owner, detail=detail)
        self._page(alert, owner, "opened", now)
        return alert

    def _raise(self, alert: Alert, level: Level, now: datetime) -> None:
        previous_owner = alert.owner_role
        alert.level, alert.peak_level = level, max(alert.peak_level, level)
        alert.owner_role = self.cfg.owner_role(alert.metric, level)
        alert.threshold = self._threshold(alert.metric, level)
        alert.state, alert.acked_by, alert.acked_at = "open", None, None
        alert.escalated_to, alert.escalated_at, alert.green_since = None, None, None
        alert.level_since = alert.updated_at = now
        self.log.save(alert)
        self.log.event(now, alert, "raised", role=alert.owner_role, detail=f"re-routed from {previous_owner}")
        self._page(alert, alert.owner_role, "raised", now)
        if previous_owner and previous_owner != alert.owner_role:
            self._page(alert, previous_owner, "moved_up", now)

    def _lower(self, alert: Alert, level: Level, now: datetime) -> None:
        if level == Level.GREEN:
            alert.green_since = now
        else:
            alert.green_since = None
            alert.level = level
            alert.threshold = self._threshold(alert.metric, level)
        alert.updated_at = now
        self.log.save(alert)
        self.log.event(now, alert, "lowered", level=level)

    def _resolve(self, alert: Alert, now: datetime, detail: str) -> None:
        alert.state, alert.resolved_at, alert.updated_at = "resolved", now, now
        self.open.pop((alert.metric, alert.kind), None)
        self.log.save(alert)
        self.log.event(now, alert, "resolved", level=Level.GREEN, detail=detail)
        for role in alert.paged_roles:
            self._page(alert, role, "resolved", now)

    def _escalate(self, alert: Alert, now: datetime, why: str) -> None:
        target = self.cfg.levels.next_tier(alert.level)
        if target is None or target in (alert.owner_role, alert.escalated_to):
            self.log.event(now, alert, "escalation_exhausted", detail=f"{why}; nobody above {alert.owner_role}")
            alert.escalated_at = now  # do not retry every tick; repeats still go out
            self.log.save(alert)
            return
        alert.escalated_to, alert.escalated_at, alert.updated_at = target, now, now
        self.log.save(alert)
        self.log.event(now, alert, "escalated", role=target, detail=why)
        self._page(alert, target, "escalated", now)

    # --- paging -------------------------------------------------------------------------------

    def _channels(self, role: str | None, kind: str) -> list[str]:
        person = self.cfg.people.get(role or "")
        urls = list(person.channels) if person else []
        if kind != "moved_up":
            urls += [u for u in self.cfg.alerts.forward if u not in urls]
        return urls

    def ack_url(self, alert_id: int, role: str, now: datetime) -> str | None:
        """A personal ack link, or None when no ack secret is configured."""
        if not self.secret:
            return None
        expires = int(now.timestamp() + self.cfg.alerts.ack_valid_for)
        token = make_token(self.secret, alert_id, role, expires)
        return f"{self.public_url}/api/v1/alerts/{alert_id}/ack?token={token}"

    def _page_for(self, alert: Alert, kind: str, role: str | None) -> Page:
        now = self.clock()
        ack = self.ack_url(alert.id, role, now) if role else None
        title, body = compose(self.cfg, alert, kind, role, ack)
        labels = {"owner_role": alert.owner_role or "", "kind": alert.kind}
        return Page(alert.id, alert.metric, kind, alert.level.word, title, body, alert.opened_at,
                    alert.resolved_at if kind == "resolved" else None, labels, ack)

    def _page(self, alert: Alert, role: str | None, kind: str, now: datetime) -> None:
        if role is None:
            return
        suffix = f":{int(now.timestamp())}" if kind == "repeat" else ""
        step = f"{alert.id}:{kind}:{alert.level.word}:{role}{suffix}"
        if self.log.step_done(step):
            return  # decided before a restart: never page twice for the same step
        person = self.cfg.people.get(role)
        if kind != "resolved" and self.silences.covers(alert.metric, now):
            self.log.event(now, alert, "silenced", role=role, detail=self.silences.why(alert.metric, now), step=step)
            return
        urls = self._channels(role, kind)
        if role not in alert.paged_roles and kind != "resolved":
            alert.paged_roles.append(role)
        if kind not in ("resolved", "moved_up"):
            alert.last_page_at = now
        if not urls:
            alert.delivery_failed = True
            self.log.save(alert)
            self.log.event(now, alert, "undelivered", role=role, person=person.name if person else None, ok=False,
                           detail=f"no channel configured for role {role}", step=step)
            if kind in ("opened", "raised", "repeat") and alert.escalated_to is None:
                self._escalate(alert, now, f"nobody reachable: {role} has no channel")
            return
        self.log.save(alert)
        page = self._page_for(alert, kind, role)
        for url in urls:
            self.log.event(now, alert, "notify", role=role, person=person.name if person else None,
                           channel=shown(url), detail=kind, step=step)
        for url in urls:
            self.pager.submit(PageJob(step, role, url, page))

    def _delivery_gave_up(self, job: PageJob) -> None:
        with self._lock:
            alert = next((a for a in self.open.values() if a.id == job.page.alert_id), None)
            if alert is None:
                return
            alert.delivery_failed = True
            self.log.save(alert)
            if job.page.kind in ("opened", "raised", "repeat") and alert.escalated_to is None and alert.state == "open":
                self._escalate(alert, self.clock(), f"page to {job.role} failed {self.pager.max_failures} times")

    # --- timer --------------------------------------------------------------------------------

    def tick(self, now: datetime) -> None:
        """Ack timeouts, repeats, resolution and no-data at `now`."""
        settings = self.cfg.alerts
        with self._lock:
            for alert in list(self.open.values()):
                if alert.kind == "level" and alert.green_since is not None:
                    if (now - alert.green_since).total_seconds() >= settings.resolve_after:
                        self._resolve(alert, now, f"green for {settings.resolve_after:g}s")
                    continue
                if alert.state != "open":
                    continue
                timeout = self.cfg.levels.at(alert.level).ack_timeout
                if alert.escalated_at is None and (now - alert.level_since).total_seconds() >= timeout:
                    self._escalate(alert, now, f"not acknowledged within {timeout:g}s")
                elif settings.repeat_every and alert.last_page_at and \
                        (now - alert.last_page_at).total_seconds() >= settings.repeat_every:
                    self._page(alert, alert.owner_role, "repeat", now)
                    if alert.escalated_to:
                        self._page(alert, alert.escalated_to, "repeat", now)
            self._check_no_data(now)

    def _check_no_data(self, now: datetime) -> None:
        since_start = self.started_at or now
        feeders = self.cfg.feeders()
        for metric, spec in self.cfg.metrics.items():
            if (metric, "no_data") in self.open:
                continue
            if spec.pushed and spec.stale_after is None:
                continue  # a system that pushes only on change is not silent when it says nothing
            seen = self.last_seen.get(metric)
            age = (now - (seen if seen and seen > since_start else since_start)).total_seconds()
            if age > self.cfg.stale_after(metric):
                feeder = feeders.get(metric)
                error = self.collector_errors.get(feeder.name) if feeder else None
                detail = f"no sample for {age:.0f}s" + (f"; collector {feeder.name}: {error}" if error else "")
                self._open(metric, "no_data", Level.YELLOW, now, None, detail)

    # --- actions ------------------------------------------------------------------------------

    def find(self, alert_id: int) -> Alert:
        """An open alert by id; AlertError 404/409 otherwise."""
        alert = next((a for a in self.open.values() if a.id == alert_id), None)
        if alert is None:
            raise AlertError(409 if self.log.exists(alert_id) else 404,
                             f"alert {alert_id} is not open (unknown or already resolved)")
        return alert

    def ack(self, alert_id: int, role: str, via: str, note: str | None = None) -> Alert:
        """Acknowledge: stops repeats and escalation until the level rises."""
        if role not in self.cfg.people:
            raise AlertError(422, f"by: role {role!r} is not in people")
        now = self.clock()
        with self._lock:
            alert = self.find(alert_id)
            if alert.state == "acked":
                return alert
            alert.state, alert.acked_by, alert.acked_at, alert.updated_at = "acked", role, now, now
            self.log.save(alert)
            self.log.event(now, alert, "acked", role=role, person=self.cfg.people[role].name,
                           detail=f"via {via}" + (f": {note}" if note else ""))
            return alert

    def ack_with_token(self, alert_id: int, token: str) -> Alert:
        """Acknowledge with a personal link; a bad token is logged, changes nothing and raises AckRejected."""
        now = self.clock()
        try:
            if not self.secret:
                raise AckRejected("ack links are disabled (no ack secret configured)")
            role = check_token(self.secret, alert_id, token, now.timestamp())
        except AckRejected as err:
            # not in the alert's trail: anyone can post forged links (warroom/guard.py counts them)
            log.warning("rejected ack for alert %s: %s", alert_id, err)
            raise
        return self.ack(alert_id, role, "link")

    def levels(self) -> dict[str, Level]:
        """The current level of every evaluated metric (after pending time and clear band)."""
        with self._lock:
            return {m: s.level for m, s in self.states.items()}

    def status(self) -> dict[str, object]:
        """Levels per metric and open alerts, for /metrics and /health."""
        with self._lock:
            return {"levels": self.levels(),
                    "open": [(a.level.word, a.state, a.kind) for a in self.open.values()],
                    "pages_sent": self.pager.sent, "pages_failed": self.pager.failed,
                    "pages_queued": self.pager.queued()}

