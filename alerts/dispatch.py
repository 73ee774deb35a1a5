"""From a decided step to pages on their way: step identity, channels, silences, words, ack links.

Every page is a step with its own identity (alert, rise, kind, level, person): a step already in
the log is never paged again after a restart, and each rise is a new step, so "never page twice"
never becomes "never page again". Each channel's delivery is its own row.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from alerts.ack import make_token
from alerts.log import Alert, AlertLog, EventRow
from alerts.messages import PageContext, PageWriter
from alerts.notifiers.page import Page
from alerts.pager import DEADLINE_GRACE_S, MAX_BACKOFF_S, PageJob, Pager
from alerts.roster import Roster
from alerts.signin import make_signin, signin_url
from alerts.silences import Silences
from alerts.snapshot import Snapshot
from warroom.config.channels import shown
from warroom.config.models import WarroomConfig
from warroom.values import Level

log = logging.getLogger("warroom.alerts")

# Steps that ask the person paged to decide: they carry an ack link and start the ack clock.
DECIDING = ("opened", "raised", "escalated", "lowered", "repeat")
# Steps that only inform (the level moved to someone else, someone took it): not for forwarding.
TELLING = ("handed_over", "stood_down", "taken")
# A page a new leader sends again because the old one's delivery was never confirmed: it may be a duplicate.
RESENT = {"zh-CN": "（故障切换后重发）", "en": " (resent after failover)"}


@dataclass(frozen=True)
class Target:
    """One channel a step's page goes to, and what it is to the person paged."""

    url: str
    personal: bool = True
    """One of the person's own channels (not a forward, not a level's shared urgent channel)."""
    urgent: bool = False
    """Rung for urgency: gets the short page a phone call can say."""


@dataclass
class _OnItsWay:
    """The page that will start an alert's time to acknowledge, while it travels."""

    step: str
    urls: set[str] = field(default_factory=set)
    since: float = field(default_factory=time.monotonic)


class Dispatch:
    """Turns (alert, person, kind) into logged intents and queued pages."""

    def __init__(self, cfg: WarroomConfig, alert_log: AlertLog, silences: Silences, snapshot: Snapshot,
                 writer: PageWriter, pager: Pager, clock: Callable[[], datetime], roster: Roster):
        self.cfg = cfg
        self.roster = roster
        self.log = alert_log
        self.silences = silences
        self.snapshot = snapshot
        self.writer = writer
        self.pager = pager
        self.clock = clock
        self.secret = os.environ.get(cfg.alerts.ack_secret_env, "")
        server = cfg.server
        self.public_url = (cfg.alerts.public_url or f"http://{server.host}:{server.port}").rstrip("/")
        self.board_url: str | None = cfg.alerts.board_url
        self.campaign_end: datetime | None = None
        self._on_its_way: dict[int, _OnItsWay] = {}
        settings = cfg.alerts
        # The longest a page can travel before its last attempt ends: past it, the ack clock runs anyway.
        tries = settings.max_delivery_failures
        self.longest_trip = tries * (settings.delivery_timeout + DEADLINE_GRACE_S) + settings.group_window + \
            sum(min(MAX_BACKOFF_S, settings.retry_backoff * 2 ** i) for i in range(tries - 1)) + 5.0

    def urgent_from(self, role: str) -> Level:
        """The lowest level whose pages ring `role`'s urgent channels: configured, else the lowest it decides at
        (a level's owner or a metric's override: the DBA who decides the pool at yellow is rung at yellow), else red."""
        person = self.cfg.people.get(role)
        if person is not None and person.urgent_from:
            return Level.from_word(person.urgent_from)
        owned = [lv for lv in (Level.YELLOW, Level.ORANGE, Level.RED)
                 if self.cfg.levels.owner_role(lv) == role or any(
                     self.cfg.owner_role(metric, lv) == role for metric in self.cfg.metrics)]
        return min(owned, default=Level.RED)

    def targets(self, role: str | None, kind: str, level: Level, now: datetime) -> list[Target]:
        """Where a step's page goes: the holder's channels, their urgent ones and the level's when it asks
        at an urgent level (every repeat included), and forwarding for every step that is not only telling."""
        holder = self.roster.holder(role, now)
        out = [Target(u) for u in (holder.channels if holder else ())]
        if kind in DECIDING and level != Level.GREEN:
            if holder is not None and role and level >= self.urgent_from(role):
                out += [Target(u, urgent=True) for u in holder.urgent]
            for lv in (Level.YELLOW, Level.ORANGE, Level.RED):
                if lv <= level:
                    out += [Target(u, personal=False, urgent=True) for u in self.cfg.levels.at(lv).urgent]
        if kind not in TELLING:
            out += [Target(u, personal=False) for u in self.cfg.alerts.forward]
        seen: set[str] = set()
        return [t for t in out if not (t.url in seen or seen.add(t.url))]

    def channels(self, role: str | None, kind: str, now: datetime) -> list[str]:
        """The URLs a step's page goes to (see `targets`; a page that asks nothing rings no urgent channel)."""
        return [t.url for t in self.targets(role, kind, Level.YELLOW, now)]

    # --- the ack clock ------------------------------------------------------------------------

    def on_its_way(self, alert: Alert) -> bool:
        """True while the page that starts the alert's time to acknowledge has not arrived (nor failed for good)."""
        trip = self._on_its_way.get(alert.id)
        if trip is None or alert.ack_clock_at is not None:
            return False
        return time.monotonic() - trip.since < self.longest_trip

    def arrived(self, alert: Alert, job: PageJob, event: str, now: datetime) -> bool:
        """Start the alert's ack clock when the page asking the person now acting arrived, went unconfirmed,
        or failed for good on every channel it took; True when the clock started (the alert needs saving)."""
        trip = self._on_its_way.get(alert.id)
        if trip is None or trip.step != job.step or job.url not in trip.urls:
            return False
        trip.urls.discard(job.url)
        if event == "undelivered" and trip.urls:
            return False  # another of their channels may still reach them
        del self._on_its_way[alert.id]
        alert.ack_clock_at = now
        how = {"delivered": "delivered", "unconfirmed": "sent, no answer", "undelivered": "not delivered"}[event]
        self.log.event(now, alert, "arrived", role=job.role, person=job.person, channel=shown(job.url),
                       detail=f"page {how}: the time to acknowledge starts", step=job.step)
        return True

    def forget_trips(self) -> None:
        """Pages this node had on their way are another's now (it took over, or handed over)."""
        self._on_its_way.clear()

    def still_going(self, alert: Alert, job: PageJob) -> bool:
        """True while another of the person's channels is still carrying the page of `job`'s step."""
        trip = self._on_its_way.get(alert.id)
        return trip is not None and trip.step == job.step and bool(trip.urls)

    def _await(self, alert: Alert, step: str, targets: list[Target]) -> set[str]:
        """The ack clock waits for this step's page on the person's own channels (any, when they have none)."""
        own = {t.url for t in targets if t.personal} or {t.url for t in targets}
        alert.ack_clock_at = None
        self._on_its_way[alert.id] = _OnItsWay(step, set(own))
        return own

    def ack_url(self, alert_id: int, role: str, now: datetime) -> str | None:
        """A personal ack link, or None when no ack secret is configured."""
        if not self.secret:
            return None
        expires = int(now.timestamp() + self.cfg.alerts.ack_valid_for)
        token = make_token(self.secret, alert_id, role, expires)
        return f"{self.public_url}/api/v1/alerts/{alert_id}/ack?token={token}"

    def board_link(self, role: str | None, now: datetime) -> str | None:
        """The board's address for the person paged, signing them in (their own link), or None without board_url.

        Signed for the person holding the role now, so a stand-in's link signs in the stand-in, never
        whoever holds the role later; without an ack secret it is the plain address.
        """
        if not self.board_url:
            return None
        if not self.secret or not role:
            return self.board_url.replace("{role}", role or "")
        holder = self.roster.holder(role, now)
        expires = int(now.timestamp() + self.cfg.alerts.ack_valid_for)
        token = make_signin(self.secret, role, holder.name if holder else role, expires)
        return signin_url(self.board_url, role, token)

    def no_data_reason(self, metric: str, now: datetime, started_at: datetime | None,
                       errors: dict[str, str]) -> str:
        """How long a metric has been silent and what its collector last said."""
        view = self.snapshot.get(metric)
        seen = view.ts if view and view.ts else None
        since = max(seen, started_at or now) if seen else (started_at or now)
        feeder = self.cfg.feeders().get(metric)
        error = errors.get(feeder.name) if feeder else None
        return f"no sample for {(now - since).total_seconds():.0f}s" + \
            (f"; collector {feeder.name}: {error}" if error else "")

    def compose(self, alert: Alert, kind: str, role: str | None, now: datetime, why: str | None = None,
                previous: str | None = None, urgent: bool = False) -> Page:
        """The page for one step, with the value's age and trend, the KPI and countdown (short when urgent)."""
        view = self.snapshot.get(alert.metric)
        kpi = self.cfg.campaign.kpi
        kpi_view = self.snapshot.get(kpi.metric) if kpi else None
        board = self.board_link(role, now)
        ctx = PageContext(now, view.ts if view else None, self.snapshot.value_before(alert.metric, now),
                          kpi_view.value if kpi_view else None, self.campaign_end, board,
                          self.ack_url(alert.id, role, now) if role and kind in DECIDING else None, why, previous)
        page = self.writer.compose(alert, kind, role, ctx)
        return self.writer.urgent(page, alert, kind, ctx) if urgent else page

    def page(self, alert: Alert, role: str | None, kind: str, now: datetime, why: str | None = None,
             previous: str | None = None, afresh: bool = False) -> str:
        """Log the step and queue its pages; 'paged', 'done' (already), 'silenced', 'none' or 'unreachable'.

        `afresh`: a repeat that asks again from the start (a silence ended), so its arrival restarts the ack clock.
        """
        if role is None:
            return "none"
        suffix = f":{now.timestamp():.3f}" if kind in ("repeat", "taken") else ""
        step = f"{alert.id}:{alert.rise}:{kind}:{alert.level.word}:{role}{suffix}"
        if self.log.step_done(step):
            return "done"  # decided before a restart: never page twice for the same step
        holder = self.roster.holder(role, now)
        person = holder.name if holder else None
        if kind in DECIDING and self.silences.covers(alert.metric, now):
            self.log.event(now, alert, "silenced", role=role, detail=self.silences.why(alert.metric, now), step=step)
            return "silenced"
        if kind == "resolved":
            self._on_its_way.pop(alert.id, None)
        targets = self.targets(role, kind, self.level_of(alert), now)
        asking = kind in DECIDING
        if asking:
            if role not in alert.paged_roles:
                alert.paged_roles.append(role)
            alert.last_page_at = now
        if not targets:
            alert.delivery_failed = True
            self.log.save(alert)
            self.log.event(now, alert, "undelivered", role=role, person=person, ok=False,
                           detail=f"no channel configured for role {role}", step=step)
            return "unreachable" if asking and kind != "repeat" else "none"
        clocked = self._await(alert, step, targets) if asking and (kind != "repeat" or afresh) else set()
        self.log.save(alert)
        page = self.compose(alert, kind, role, now, why, previous)
        urgent = self.compose(alert, kind, role, now, why, previous, urgent=True) if any(
            t.urgent for t in targets) else page
        # one row per channel, all written before any is queued: a restart resumes exactly these
        self.log.events([EventRow(now, alert.id, "notify", alert.level.word, role, person, shown(t.url), step,
                                  detail=kind) for t in targets])
        log.info("alert #%s %s %s: %s → %s (%s; %s)", alert.id, alert.metric, alert.level.word, kind, role, person,
                 ", ".join(shown(t.url) + (" (urgent)" if t.urgent else "") for t in targets))
        for t in targets:
            self.pager.submit(PageJob(step, role, t.url, urgent if t.urgent else page, person=person,
                                      asking=asking, personal=t.personal, starts_clock=t.url in clocked))
        return "paged"

    def resume(self, open_alerts: list[Alert] | None = None, resent: str | None = None) -> int:
        """Re-queue exactly the deliveries decided before a stop and not confirmed since; how many.

        A page that was to start an open alert's ack clock starts it again when it arrives. After a
        failover (`resent` says from whom) each is marked on the page and in the trail: the old leader
        may have sent it already, and a duplicate is counted, never hidden.
        """
        now = self.clock()
        count = 0
        waiting = {a.id: a for a in open_alerts or [] if a.ack_clock_at is None}
        for notice in self.log.pending_notices():
            alert = self.log.load(notice.alert_id)
            if alert is None:
                continue
            targets = self.targets(notice.role, notice.kind, self.level_of(alert), now)
            target = next((t for t in targets if shown(t.url) == notice.channel), None)
            if target is None:
                continue  # the channel left the config; its row stays pending for the record
            asking = notice.kind in DECIDING
            page = self.compose(alert, notice.kind, notice.role, now, urgent=target.urgent)
            live = waiting.get(alert.id)
            clocked = target.personal or not any(t.personal for t in targets)
            if live is not None and asking and notice.kind != "repeat" and clocked and \
                    notice.role == (live.escalated_to or live.owner_role):
                trip = self._on_its_way.setdefault(alert.id, _OnItsWay(notice.step))
                clocked = trip.step == notice.step
                if clocked:
                    trip.urls.add(target.url)
            else:
                clocked = False
            count += 1
            if resent is not None:
                page = replace(page, title=page.title + RESENT.get(page.locale, RESENT["en"]))
                self.log.event(now, alert, "resent", role=notice.role, channel=notice.channel, step=notice.step,
                               detail=f"resent after failover ({resent}): its delivery was not confirmed")
            self.pager.submit(PageJob(notice.step, notice.role, target.url, page, attempt=notice.failed_attempts,
                                      person=self.roster.name(notice.role, now), asking=asking,
                                      personal=target.personal, starts_clock=clocked))
        return count

    def level_of(self, alert: Alert) -> Level:
        """The level an escalation climbs from (a recovering alert keeps yellow's chain)."""
        return alert.level if alert.level != Level.GREEN else Level.YELLOW
