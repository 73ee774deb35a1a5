"""Read routes of the night's record (config, campaign, alerts, decisions, run sheet, timeline, replay frame).

They take a NightSource, so the live daemon and `warroom replay` serve them alike; the SQL lives in
warroom.record, not here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse

from warroom.api.app import MAX_WINDOW
from warroom.api.params import ApiError, parse_moment
from warroom.api.read_model import RECORD_HORIZON, BoardReader
from warroom.record import alerts as record_alerts
from warroom.record import decisions, summary, timeline
from warroom.record import runsheet as sheet
from warroom.record.campaign import CampaignRecord
from warroom.record.source import NightSource
from warroom.store.queries import sample_bounds


def config_json(source: NightSource) -> dict[str, Any]:
    """Metric metadata, people and level owners: what the board needs to label itself (no channels, no secrets)."""
    cfg = source.cfg
    return {
        "campaign": {"name": cfg.campaign.name, "timezone": cfg.campaign.timezone, "locale": cfg.campaign.locale},
        "people": {r: {"name": p.name, "phone": p.phone} for r, p in cfg.people.items()},
        "levels": {lv: getattr(cfg.levels, lv).owner for lv in ("yellow", "orange", "red")},
        "metrics": {m: {"title": s.title, "unit": s.unit, "direction": s.direction, "yellow": s.yellow,
                        "orange": s.orange, "red": s.red, "decimals": s.decimals, "description": s.description,
                        "runbook": s.runbook, "group": s.group, "escalate": s.escalate}
                    for m, s in cfg.metrics.items()},
        "walls": {w: {"title": s.title or w, "metrics": s.metrics, "health": s.health}
                  for w, s in cfg.walls.items()},
    }


def alerts_json(source: NightSource, since: datetime, start: datetime, end: datetime, state: str,
                at: datetime | None) -> list[dict[str, Any]]:
    """Alerts in a window with their trails, or (with `at`) as they stood at that moment."""
    cur = source.log.store.reader()
    roster = getattr(source, "roster", None)  # live only: who holds each role now
    if at is None:
        rows = source.log.alerts_between(start, end, state)
        now = source.clock()
        return [record_alerts.alert_json(source.cfg, a, ev, source.silences.covers(a.metric, now), roster, now)
                for a, ev in rows]
    alerts = record_alerts.alerts_at(cur, at, since, "all" if state in ("all", "resolved") else "active")
    if state in ("open", "acked", "resolved"):
        alerts = [a for a in alerts if a.state == state]
    trails = record_alerts.trails(cur, [a.id for a in alerts], since, at)
    return [record_alerts.alert_json(source.cfg, a, trails.get(a.id), source.silences.covers(a.metric, at))
            for a in alerts]


def attach_record(app: FastAPI, source: NightSource, reader: BoardReader, campaign: CampaignRecord | None) -> None:
    """Add the read routes of the record to the app (live or archive)."""
    cfg = source.cfg
    zone = cfg.campaign.timezone

    def since_for(moment: datetime) -> datetime:
        return reader.since if reader.since is not None and reader.since <= moment else moment - RECORD_HORIZON

    def window(from_: str, to: str) -> tuple[datetime, datetime]:
        now = source.clock()
        start, end = parse_moment(from_, "from", zone, now), parse_moment(to, "to", zone, now)
        if end <= start:
            raise ApiError(422, f"to ({end.isoformat()}) must be after from ({start.isoformat()})", "to")
        if end - start > MAX_WINDOW:
            raise ApiError(422, f"window of {end - start} is longer than the {MAX_WINDOW.days}-day limit", "from")
        return start, end

    def moment(at: str | None) -> datetime:
        return parse_moment(at, "at", zone, source.clock()) if at else source.clock()

    @app.get("/api/v1/config")
    def config() -> dict[str, Any]:
        """Metric metadata, people and level owners: what the board needs to label itself."""
        return config_json(source)

    @app.get("/api/v1/campaign")
    def campaign_info() -> dict[str, Any]:
        """The campaign of this record: identity, window, first start, first and last sample."""
        first, last = sample_bounds(reader.store.reader())
        iso = (lambda t: t.isoformat() if t else None)  # noqa: E731
        return {"id": campaign.id if campaign else None, "name": reader.window.name,
                "start": iso(reader.window.start), "end": iso(reader.window.end),
                "first_start": iso(campaign.anchor if campaign else reader.since), "timezone": zone,
                "locale": cfg.campaign.locale, "first_sample": iso(first), "last_sample": iso(last),
                "now": source.clock().isoformat(), "live": reader.latest is not None}

    @app.get("/api/v1/alerts")
    def alerts(state: Literal["active", "open", "acked", "resolved", "all"] = "all",
               from_: str = Query("-24h", alias="from"), to: str = "now",
               at: str | None = Query(None, description="the alerts as they stood at this moment")) -> dict[str, Any]:
        """Alerts in a window (open ones always) with their event trails; with `at`, as they were then."""
        start, end = window(from_, to)
        when = moment(at) if at else None
        return {"alerts": alerts_json(source, since_for(when or start), start, end, state, when)}

    @app.get("/api/v1/annotations")
    def annotations(from_: str = Query("-24h", alias="from"), to: str = "now") -> dict[str, Any]:
        """The decision log in a window."""
        start, end = window(from_, to)
        return {"annotations": decisions.between(source.log.store.reader(), start, end)}

    @app.get("/api/v1/silences")
    def silences(active: bool = True) -> dict[str, Any]:
        """Silences in force (or all with active=false)."""
        items = source.silences.active(source.clock()) if active else source.silences.items
        return {"silences": [s.as_dict() for s in items]}

    @app.get("/api/v1/runsheet")
    def runsheet(at: str | None = None) -> dict[str, Any]:
        """The run sheet with countdowns and who marked each step done (at a past moment with `at`)."""
        when = moment(at)
        anchor = campaign.anchor if campaign else (reader.since or when)
        roster = getattr(source, "roster", None)
        # Live, shift changes of the next hour stand beside the steps: "02:00 李娜 takes over from 张伟".
        return {"steps": sheet.run_sheet(source.log.store.reader(), cfg, anchor, when),
                "handovers": roster.handovers(when) if roster is not None and at is None else []}

    @app.get("/api/v1/timeline")
    def get_timeline(from_: str = Query("-2h", alias="from"), to: str = "now",
                     levels: bool = Query(True, description="list level transitions as events too (else bands only)"),
                     ) -> JSONResponse:
        """Level transitions, alert events and decisions in time order, and each metric's level bands."""
        start, end = window(from_, to)
        cur = reader.store.reader()
        return JSONResponse({"from": start.isoformat(), "to": end.isoformat(),
                             "events": timeline.events(cur, cfg, start, end, levels),
                             "bands": timeline.bands(cur, cfg, start, end, since_for(start))})

    @app.get("/api/v1/outcome")
    def get_outcome(from_: str = Query("-24h", alias="from"), to: str = "now") -> dict[str, Any]:
        """The KPI against its target (met, when crossed) and each metric's worst value in a window."""
        start, end = window(from_, to)
        return summary.outcome(reader.store.reader(), cfg, start, end)

    @app.get("/api/v1/collectors")
    def collectors(from_: str = Query("-24h", alias="from"), to: str = "now") -> dict[str, Any]:
        """Collector health over a window: polls, failures, longest gap, commonest reasons."""
        start, end = window(from_, to)
        return {"collectors": summary.collector_health(reader.store.reader(), start, end)}

    @app.get("/api/v1/frame")
    def frame(at: str = Query(..., description="the replayed moment")) -> JSONResponse:
        """One replay frame in one call: the board, the active alerts and the run sheet as they were at `at`."""
        when = moment(at)
        since = since_for(when)
        anchor = campaign.anchor if campaign else since
        body = {"at": when.isoformat(), "board": reader.board(source.clock(), when),
                "alerts": alerts_json(source, since, when - timedelta(days=1), when, "active", when),
                "runsheet": sheet.run_sheet(reader.store.reader(), cfg, anchor, when)}
        return JSONResponse(body)
