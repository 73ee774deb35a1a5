"""Alerts in the API's form, now or as they stood at a past moment (replayed from their event trails).

Every transition of an alert is an `alert_events` row written before its page went out, so the
state of an alert at T (level, owner, acknowledged by whom, escalated to whom, resolved) is the fold
of its events up to T; the `alerts` table only holds the latest state.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import duckdb

from alerts.log import _COLUMNS, Alert
from alerts.roster import Roster
from warroom.config.models import WarroomConfig
from warroom.store.schema import from_db_ts, to_db_ts
from warroom.values import Level

EVENT_FIELDS = ("ts", "event", "level", "role", "person", "channel", "ok", "detail")


def alert_json(cfg: WarroomConfig, alert: Alert, events: list[dict] | None, silenced: bool,
               roster: Roster | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The API form of an alert: its current level and who decides at it now; the peak and who was paged after.

    Live, `roster` names whoever holds each role now (a stand-in); an archive names people as configured.
    """
    spec = cfg.metrics.get(alert.metric)

    def person(role: str | None) -> dict[str, str] | None:
        held = roster.holder(role, now) if roster is not None and role and now is not None else None
        if held is not None:
            return {"role": held.role, "name": held.name, "phone": held.phone}
        p = cfg.people.get(role or "")
        return {"role": role, "name": p.name, "phone": p.phone} if p and role else None

    def iso(ts: datetime | None) -> str | None:
        return ts.isoformat() if ts else None

    deciding = alert.state != "resolved" and not alert.recovering and alert.level != Level.GREEN
    decider = person(alert.owner_role) if deciding else None
    return {"id": alert.id, "metric": alert.metric, "title": spec.title if spec else alert.metric,
            "kind": alert.kind, "level": alert.level.word, "peak_level": alert.peak_level.word, "state": alert.state,
            "recovering": alert.recovering, "opened_at": iso(alert.opened_at), "level_since": iso(alert.level_since),
            "updated_at": iso(alert.updated_at), "resolved_at": iso(alert.resolved_at),
            "green_since": iso(alert.green_since), "decider": decider, "owner": decider,
            "paged": [person(r) for r in alert.paged_roles if person(r)],
            "acked_by": alert.acked_by, "acked_by_person": person(alert.acked_by), "acked_at": iso(alert.acked_at),
            "acked_level": alert.acked_level.word if alert.acked_level is not None else None,
            "escalated_to": person(alert.escalated_to), "escalated_at": iso(alert.escalated_at),
            "nobody_left": alert.exhausted, "delivery_failed": alert.delivery_failed,
            "silenced": silenced, "value": alert.value,
            "threshold": alert.threshold, "events": events if events is not None else []}


def _apply(alert: Alert, ts: datetime, event: str, level: str | None, role: str | None) -> Alert:
    """One event folded into the alert's state: the engine's transitions (alerts/engine.py), read back."""
    lv = Level.from_word(level) if level in ("green", "yellow", "orange", "red") else None
    if event == "raised" and lv is not None:
        return replace(alert, level=lv, peak_level=max(alert.peak_level, lv), owner_role=role or alert.owner_role,
                       state="open", acked_by=None, acked_at=None, acked_level=None, escalated_to=None,
                       escalated_at=None, exhausted=False, green_since=None, level_since=ts, updated_at=ts,
                       rise=alert.rise + 1)
    if event == "lowered" and lv is not None:
        if lv == Level.GREEN:
            return replace(alert, level=Level.GREEN, green_since=ts, updated_at=ts)
        fresh = {"escalated_to": None, "escalated_at": None, "exhausted": False} if alert.state == "open" else {}
        return replace(alert, level=lv, owner_role=role or alert.owner_role, level_since=ts, updated_at=ts, **fresh)
    if event == "acked":
        return replace(alert, state="acked", acked_by=role, acked_at=ts, acked_level=alert.level, updated_at=ts)
    if event == "escalated":
        return replace(alert, escalated_to=role, escalated_at=ts, updated_at=ts)
    if event == "escalation_exhausted":
        return replace(alert, escalated_at=ts, exhausted=True, updated_at=ts)
    if event in ("undelivered", "delivery_failed"):
        return replace(alert, delivery_failed=True)
    if event == "arrived":  # the page to the person now acting arrived: their time to acknowledge starts
        return replace(alert, ack_clock_at=ts)
    if event == "notify" and role and role not in alert.paged_roles:
        return replace(alert, paged_roles=[*alert.paged_roles, role], last_page_at=ts)
    if event == "resolved":
        return replace(alert, state="resolved", resolved_at=ts, level=Level.GREEN, green_since=alert.green_since or ts,
                       updated_at=ts)
    return alert


def alerts_at(cur: duckdb.DuckDBPyConnection, at: datetime, since: datetime, state: str = "active") -> list[Alert]:
    """Alerts as they stood at `at` (opened in [since, at]); `active` keeps the unresolved ones."""
    rows = cur.execute(
        f"""SELECT {_COLUMNS} FROM alerts WHERE opened_at >= ? AND opened_at <= ?""",
        [to_db_ts(since), to_db_ts(at)]).fetchall()
    finals = {r[0]: Alert.from_row(r) for r in rows}
    if not finals:
        return []
    events = cur.execute(
        """SELECT alert_id, ts, event, level, role FROM alert_events
           WHERE ts >= ? AND ts <= ? AND alert_id IN (SELECT unnest(?)) ORDER BY ts, rowid""",
        [to_db_ts(since), to_db_ts(at), list(finals)]).fetchall()
    states: dict[int, Alert] = {}
    for alert_id, ts, event, level, role in events:
        moment = from_db_ts(ts)
        if event == "opened":
            final = finals[alert_id]
            lv = Level.from_word(level) if level else final.level
            states[alert_id] = Alert(alert_id, final.metric, final.kind, moment, lv, lv, owner_role=role,
                                     updated_at=moment, level_since=moment, threshold=final.threshold, rise=1)
        elif alert_id in states:
            states[alert_id] = _apply(states[alert_id], moment, event, level, role)
    out = [a for a in states.values() if state == "all" or a.state != "resolved"]
    return sorted(out, key=lambda a: a.opened_at, reverse=True)


def trails(cur: duckdb.DuckDBPyConnection, ids: list[int], since: datetime, at: datetime) -> dict[int, list[dict]]:
    """Each alert's events in [since, at], oldest first, in the API's form."""
    if not ids:
        return {}
    rows = cur.execute(
        """SELECT alert_id, ts, event, level, role, person, channel, ok, detail FROM alert_events
           WHERE ts >= ? AND ts <= ? AND alert_id IN (SELECT unnest(?)) ORDER BY ts, rowid""",
        [to_db_ts(since), to_db_ts(at), ids]).fetchall()
    out: dict[int, list[dict]] = {i: [] for i in ids}
    for r in rows:
        out[r[0]].append(dict(zip(EVENT_FIELDS, (from_db_ts(r[1]).isoformat(), *r[2:]), strict=True)))
    return out
