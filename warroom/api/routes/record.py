"""Reads of the night's record (config, campaign, alerts, decisions, run sheet, timeline, replay frame).

They read the context's NightSource, so the live daemon and `warroom replay` serve them alike; the
SQL lives in warroom.record, not here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from alerts.acting import acting_now, roster_holder
from alerts.roster import Roster
from warroom.api.context import ApiContext, Context
from warroom.api.params import parse_moment, parse_window
from warroom.api.read_model import RECORD_HORIZON
from warroom.record import alerts as record_alerts
from warroom.record import decisions, summary, timeline
from warroom.record import runsheet as sheet
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
        "walls": {w: {"title": s.title or w, "metrics": s.metrics, "health": s.health, "actions": s.actions}
                  for w, s in cfg.walls.items()},
        "rights": cfg.rights.model_dump(),
    }


def alerts_json(source: NightSource, since: datetime, start: datetime, end: datetime, state: str,
                at: datetime | None) -> list[dict[str, Any]]:
    """Alerts in a window with their trails, or (with `at`) as they stood at that moment.

    Each names who must act on it now (`acting`, alerts/acting.py) and its place in the room's order
    (`acting.rank`, 1 = the banner's): live, the engine's own answer; at a past moment, the same rule
    over the alert folded from its trail.
    """
    cur = source.log.store.reader()
    roster = getattr(source, "roster", None)  # live only: who holds each role now
    if at is None:
        rows = source.log.alerts_between(start, end, state)
        now = source.clock()
        live = getattr(source, "acting", None)
        acting = live() if live is not None else {}
        return record_alerts.ranked(source.cfg, [(a, ev, source.silences.covers(a.metric, now), acting.get(a.id))
                                                 for a, ev in rows], roster, now)
    alerts = record_alerts.alerts_at(cur, at, since, "all" if state in ("all", "resolved") else "active")
    if state in ("open", "acked", "resolved"):
        alerts = [a for a in alerts if a.state == state]
    trails = record_alerts.trails(cur, [a.id for a in alerts], since, at)
    then = Roster(source.cfg, source.log.store, as_of=at)  # who held each role then: a stand-in, not the config
    held = roster_holder(then, at)
    rows_at = []
    for a in alerts:
        silenced = source.silences.covers(a.metric, at)
        rows_at.append((a, trails.get(a.id), silenced, acting_now(source.cfg, a, held, silenced)))
    return record_alerts.ranked(source.cfg, rows_at, then, at)


def _since_for(ctx: ApiContext, moment: datetime) -> datetime:
    since = ctx.reader.since
    return since if since is not None and since <= moment else moment - RECORD_HORIZON


def _window(ctx: ApiContext, from_: str, to: str) -> tuple[datetime, datetime]:
    return parse_window(from_, to, ctx.night.cfg.campaign.timezone, ctx.night.clock())


def _moment(ctx: ApiContext, at: str | None) -> datetime:
    now = ctx.night.clock()
    return parse_moment(at, "at", ctx.night.cfg.campaign.timezone, now) if at else now


router = APIRouter()


@router.get("/api/v1/config")
def config(ctx: Context) -> dict[str, Any]:
    """Metric metadata, people and level owners: what the board needs to label itself."""
    return config_json(ctx.night)


@router.get("/api/v1/campaign")
def campaign_info(ctx: Context) -> dict[str, Any]:
    """The campaign of this record: identity, window, first start, first and last sample."""
    reader, campaign, cfg = ctx.reader, ctx.campaign, ctx.night.cfg
    first, last = sample_bounds(reader.store.reader())
    iso = (lambda t: t.isoformat() if t else None)  # noqa: E731
    return {"id": campaign.id if campaign else None, "name": reader.window.name,
            "start": iso(reader.window.start), "end": iso(reader.window.end),
            "first_start": iso(campaign.anchor if campaign else reader.since), "timezone": cfg.campaign.timezone,
            "locale": cfg.campaign.locale, "first_sample": iso(first), "last_sample": iso(last),
            "now": ctx.night.clock().isoformat(), "live": reader.latest is not None}


@router.get("/api/v1/alerts")
def alerts(ctx: Context, state: Literal["active", "open", "acked", "resolved", "all"] = "all",
           from_: str = Query("-24h", alias="from"), to: str = "now",
           at: str | None = Query(None, description="the alerts as they stood at this moment")) -> dict[str, Any]:
    """Alerts in a window (open ones always) with their event trails; with `at`, as they were then.

    `now` is the daemon's clock (the demo night's in demo mode): ages are counted against it, never a client's.
    """
    start, end = _window(ctx, from_, to)
    when = _moment(ctx, at) if at else None
    return {"alerts": alerts_json(ctx.night, _since_for(ctx, when or start), start, end, state, when),
            "now": (when or ctx.night.clock()).isoformat()}


@router.get("/api/v1/annotations")
def annotations(ctx: Context, from_: str = Query("-24h", alias="from"), to: str = "now") -> dict[str, Any]:
    """The decision log in a window."""
    start, end = _window(ctx, from_, to)
    return {"annotations": decisions.between(ctx.night.log.store.reader(), start, end)}


@router.get("/api/v1/silences")
def silences(ctx: Context, active: bool = True) -> dict[str, Any]:
    """Silences in force (or all with active=false)."""
    night = ctx.night
    items = night.silences.active(night.clock()) if active else night.silences.items
    return {"silences": [s.as_dict() for s in items]}


@router.get("/api/v1/runsheet")
def runsheet(ctx: Context, at: str | None = None) -> dict[str, Any]:
    """The run sheet with countdowns and who marked each step done (at a past moment with `at`)."""
    when = _moment(ctx, at)
    anchor = ctx.campaign.anchor if ctx.campaign else (ctx.reader.since or when)
    roster = getattr(ctx.night, "roster", None)
    # Live, shift changes of the next hour stand beside the steps: "02:00 李娜 takes over from 张伟".
    return {"steps": sheet.run_sheet(ctx.night.log.store.reader(), ctx.night.cfg, anchor, when),
            "handovers": roster.handovers(when) if roster is not None and at is None else []}


@router.get("/api/v1/timeline")
def get_timeline(ctx: Context, from_: str = Query("-2h", alias="from"), to: str = "now",
                 levels: bool = Query(True, description="list level transitions as events too (else bands only)"),
                 ) -> JSONResponse:
    """Level transitions, alert events and decisions in time order, and each metric's level bands."""
    start, end = _window(ctx, from_, to)
    cur, cfg = ctx.reader.store.reader(), ctx.night.cfg
    return JSONResponse({"from": start.isoformat(), "to": end.isoformat(),
                         "events": timeline.events(cur, cfg, start, end, levels),
                         "bands": timeline.bands(cur, cfg, start, end, _since_for(ctx, start))})


@router.get("/api/v1/outcome")
def get_outcome(ctx: Context, from_: str = Query("-24h", alias="from"), to: str = "now") -> dict[str, Any]:
    """The KPI against its target (met, when crossed) and each metric's worst value in a window."""
    start, end = _window(ctx, from_, to)
    return summary.outcome(ctx.reader.store.reader(), ctx.night.cfg, start, end, ctx.reader.window.end)


@router.get("/api/v1/collectors")
def collectors(ctx: Context, from_: str = Query("-24h", alias="from"), to: str = "now") -> dict[str, Any]:
    """Collector health over a window: polls, failures, longest gap, commonest reasons."""
    start, end = _window(ctx, from_, to)
    return {"collectors": summary.collector_health(ctx.reader.store.reader(), start, end)}


@router.get("/api/v1/frame")
def frame(ctx: Context, at: str = Query(..., description="the replayed moment")) -> JSONResponse:
    """One replay frame in one call: the board, the active alerts, the run sheet and handovers as they were at `at`."""
    when = _moment(ctx, at)
    since = _since_for(ctx, when)
    anchor = ctx.campaign.anchor if ctx.campaign else since
    body = {"at": when.isoformat(), "board": ctx.reader.board(ctx.night.clock(), when),
            "alerts": alerts_json(ctx.night, since, when - timedelta(days=1), when, "active", when),
            "runsheet": sheet.run_sheet(ctx.reader.store.reader(), ctx.night.cfg, anchor, when),
            # The shift changes of the hour after `at`, as the wall listed them under the run sheet then.
            "handovers": Roster(ctx.night.cfg, ctx.reader.store, as_of=when).handovers(when)}
    return JSONResponse(body)
