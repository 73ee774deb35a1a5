"""Acknowledgements: who may take an open alert now, and taking it (by role, by a signed link).

A part of the alert engine (`AlertEngine` inherits it), kept apart because it is the one path every
acknowledgement takes: the board, a personal link, the API, a follower forwarding to the leader.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from alerts.ack import AckRejected, check_token
from alerts.escalation import may_acknowledge
from alerts.log import Alert

if TYPE_CHECKING:
    from alerts.log import AlertLog
    from alerts.messages import PageWriter
    from alerts.roster import Roster
    from alerts.snapshot import Snapshot
    from warroom.config.models import WarroomConfig

log = logging.getLogger("warroom.alerts")


class AlertError(Exception):
    """An action on an alert that cannot be done (unknown, resolved, not entitled); `status` is the HTTP code."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Acknowledging:
    """The engine's acknowledgement half; the attributes below are the engine's."""

    cfg: WarroomConfig
    clock: Callable[[], datetime]
    log: AlertLog
    roster: Roster
    snapshot: Snapshot
    open: dict[tuple[str, str], Alert]
    _lock: threading.RLock
    writer: PageWriter
    secret: str

    _name: Callable[[str | None], str | None]
    _page: Callable[..., None]

    def find(self, alert_id: int) -> Alert:
        """An open alert by id; AlertError 404/409 otherwise."""
        alert = next((a for a in self.open.values() if a.id == alert_id), None)
        if alert is None:
            raise AlertError(409 if self.log.exists(alert_id) else 404,
                             f"alert {alert_id} is not open (unknown or already resolved)")
        return alert

    def refusal(self, alert: Alert, role: str) -> str | None:
        """Why `role` may not acknowledge `alert` now (a stale link after a rise), or None."""
        if alert.kind == "no_data" or role in (alert.owner_role, alert.escalated_to):
            return None
        if alert.recovering or may_acknowledge(self.cfg, alert.metric, alert.level, role):
            return None
        return self.writer.not_yours(alert, role)

    def ack(self, alert_id: int, role: str, via: str, note: str | None = None, person: str | None = None) -> Alert:
        """Acknowledge at the current level: repeats and escalation stop until the level rises.

        `via` is where it came from (link | board | api), kept as the event's channel; `person` is who
        acknowledged when known (a signed-in person), else whoever holds the role now.
        """
        if role not in self.cfg.people:
            raise AlertError(422, f"by: role {role!r} is not in people")
        now = self.clock()
        with self._lock:
            alert = self.find(alert_id)
            why = self.refusal(alert, role)
            if why is not None:
                self.log.event(now, alert, "ack_refused", role=role, person=self._name(role), ok=False, detail=why)
                raise AlertError(409, why)
            if alert.state == "acked":
                if alert.acked_by == role:
                    return alert
                raise AlertError(409, self.writer.already(alert))
            alert.state, alert.acked_by, alert.acked_at, alert.updated_at = "acked", role, now, now
            alert.acked_level = alert.level
            self.log.save(alert)
            self.log.event(now, alert, "acked", role=role, person=person or self._name(role), channel=via,
                           detail=f"via {via}" + (f": {note}" if note else ""))
            log.info("alert #%s %s %s: acknowledged by %s via %s", alert.id, alert.metric, alert.level.word, role, via)
            self.snapshot.follow(alert.metric, now)
            for other in [*alert.paged_roles, alert.escalated_to]:
                if other and other != role:
                    self._page(alert, other, "taken", now)
            return alert

    def ack_with_token(self, alert_id: int, token: str) -> Alert:
        """Acknowledge with a personal link; a bad token is logged, changes nothing and raises AckRejected."""
        now = self.clock()
        try:
            if not self.secret:
                raise AckRejected("ack links are disabled (no ack secret configured)", "disabled")
            role = check_token(self.secret, alert_id, token, now.timestamp())
        except AckRejected as err:
            # not in the alert's trail: anyone can post forged links (warroom/api/gate.py counts them and logs
            # them at a bounded rate)
            log.debug("rejected ack for alert %s: %s", alert_id, err)
            raise
        return self.ack(alert_id, role, "link")

    def phone_of(self, role: str) -> str:
        """The phone of whoever holds `role` now (shift or stand-in)."""
        held = self.roster.holder(role, self.clock())
        return held.phone if held else ""
