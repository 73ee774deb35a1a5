"""From a decided step to pages on their way: step identity, channels, silences, words, ack links.

Every page is a step with its own identity (alert, rise, kind, level, person): a step already in
the log is never paged again after a restart, and each rise is a new step, so "never page twice"
never becomes "never page again". Each channel's delivery is its own row.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime

from alerts.ack import make_token
from alerts.log import Alert, AlertLog
from alerts.messages import PageContext, PageWriter
from alerts.notifiers.page import Page
from alerts.pager import PageJob, Pager
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

    def channels(self, role: str | None, kind: str, now: datetime) -> list[str]:
        """The channels of whoever holds the role now, plus forwarding for every step that is not only telling."""
        holder = self.roster.holder(role, now)
        urls = list(holder.channels) if holder else []
        if kind not in TELLING:
            urls += [u for u in self.cfg.alerts.forward if u not in urls]
        return urls

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
                previous: str | None = None) -> Page:
        """The page for one step, with the value's age and trend, the KPI and countdown."""
        view = self.snapshot.get(alert.metric)
        kpi = self.cfg.campaign.kpi
        kpi_view = self.snapshot.get(kpi.metric) if kpi else None
        board = self.board_link(role, now)
        ctx = PageContext(now, view.ts if view else None, self.snapshot.value_before(alert.metric, now),
                          kpi_view.value if kpi_view else None, self.campaign_end, board,
                          self.ack_url(alert.id, role, now) if role and kind in DECIDING else None, why, previous)
        return self.writer.compose(alert, kind, role, ctx)

    def page(self, alert: Alert, role: str | None, kind: str, now: datetime, why: str | None = None,
             previous: str | None = None) -> str:
        """Log the step and queue its pages; 'paged', 'done' (already), 'silenced', 'none' or 'unreachable'."""
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
        urls = self.channels(role, kind, now)
        if kind in DECIDING:
            if role not in alert.paged_roles:
                alert.paged_roles.append(role)
            alert.last_page_at = now
            if kind != "repeat":
                alert.ack_clock_at = now  # the time to acknowledge starts when the page goes out
        if not urls:
            alert.delivery_failed = True
            self.log.save(alert)
            self.log.event(now, alert, "undelivered", role=role, person=person, ok=False,
                           detail=f"no channel configured for role {role}", step=step)
            return "unreachable" if kind in DECIDING and kind != "repeat" else "none"
        self.log.save(alert)
        page = self.compose(alert, kind, role, now, why, previous)
        for url in urls:
            self.log.event(now, alert, "notify", role=role, person=person,
                           channel=shown(url), detail=kind, step=step)
        log.info("alert #%s %s %s: %s → %s (%s; %s)", alert.id, alert.metric, alert.level.word, kind, role, person,
                 ", ".join(shown(u) for u in urls))
        for url in urls:
            self.pager.submit(PageJob(step, role, url, page, person=person))
        return "paged"

    def resume(self) -> None:
        """Re-queue exactly the deliveries decided before a stop and not confirmed since."""
        for notice in self.log.pending_notices():
            alert = self.log.load(notice.alert_id)
            if alert is None:
                continue
            url = next((u for u in self.channels(notice.role, notice.kind, self.clock())
                        if shown(u) == notice.channel), None)
            if url is None:
                continue  # the channel left the config; its row stays pending for the record
            page = self.compose(alert, notice.kind, notice.role, self.clock())
            self.pager.submit(PageJob(notice.step, notice.role, url, page, attempt=notice.failed_attempts,
                                      person=self.roster.name(notice.role, self.clock())))

    def level_of(self, alert: Alert) -> Level:
        """The level an escalation climbs from (a recovering alert keeps yellow's chain)."""
        return alert.level if alert.level != Level.GREEN else Level.YELLOW
