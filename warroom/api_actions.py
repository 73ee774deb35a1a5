"""API routes that read or change alert state: alerts, acks, decisions, silences, push, run sheet.

Anything that changes state needs the board token (Authorization: Bearer …, from the variable named
by server.token_env); an ack link carries its own signed token instead.
"""

from __future__ import annotations

import hmac
import logging
import math
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import FastAPI, Form, Header, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from alerts.ack import AckRejected, check_token
from alerts.ack_page import AckPages
from alerts.engine import AlertEngine, AlertError
from alerts.levels import Level
from alerts.log import Alert
from warroom import runsheet as sheet
from warroom.api import ApiError, parse_moment
from warroom.durations import parse_duration
from warroom.guard import Refusals
from warroom.samples import PollResult, Sample
from warroom.store import from_db_ts, to_db_ts

MAX_PUSH = 1000
# A pushed sample is a live observation: older than a day it is a replay or a broken clock, and
# anything before the last rolled-up minute would never reach the long charts anyway.
PUSH_SPAN = timedelta(days=1)
log = logging.getLogger("warroom.api")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AckBody(_Body):
    by: str = Field(description="Role acknowledging, e.g. ops_lead.")
    note: str | None = None


class AnnotationBody(_Body):
    author: str = Field(min_length=1)
    text: str = Field(min_length=1, max_length=4000)
    role: str | None = None
    level: Literal["yellow", "orange", "red"] | None = None
    alert_id: int | None = None
    kind: Literal["decision", "note"] = "decision"


class SilenceBody(_Body):
    metric: str | None = Field(default=None, description="One metric, or null for every metric.")
    duration: str = Field(default="30m", description="How long, e.g. 30m.")
    author: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class PushSample(_Body):
    metric: str
    value: float
    ts: str | None = None


class PushBody(_Body):
    samples: list[PushSample] = Field(min_length=1, max_length=MAX_PUSH)


class StepDoneBody(_Body):
    by: str


def check_board_token(token_env: str, authorization: str | None) -> None:
    """403 unless the request carries the board token (Authorization: Bearer …)."""
    expected = os.environ.get(token_env, "")
    if not expected:
        raise ApiError(403, f"state-changing actions are disabled: set {token_env} for the daemon", "authorization")
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(403, "missing or wrong token (Authorization: Bearer …)", "authorization")


def alert_json(engine: AlertEngine, alert: Alert, events: list[dict] | None = None) -> dict[str, Any]:
    """The API form of an alert: its current level and who decides at it now; the peak and who was paged after."""
    cfg = engine.cfg
    spec = cfg.metrics.get(alert.metric)

    roster = getattr(engine, "roster", None)  # an archive has no roster: names as configured
    now = engine.clock()

    def person(role: str | None) -> dict[str, str] | None:
        held = roster.holder(role, now) if roster is not None else None
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
            "silenced": engine.silences.covers(alert.metric, engine.clock()), "value": alert.value,
            "threshold": alert.threshold, "events": events if events is not None else []}


def attach_actions(app: FastAPI, engine: AlertEngine, deliver: Callable[[PollResult], None] | None,
                   token_env: str, anchor: datetime | None = None) -> None:
    """Add the alert and decision routes; without `deliver` (an archive) only the read routes.

    `anchor` is what the run sheet's relative times (`+7m13s`) count from: the daemon's start, or the
    demo night's start in demo mode.
    """
    cfg = engine.cfg
    zone = cfg.campaign.timezone
    store = engine.log.store

    def require_token(authorization: str | None) -> None:
        check_board_token(token_env, authorization)

    refusals: Refusals = app.state.refusals

    def link_ack(request: Request, alert_id: int, token: str) -> Alert:
        """Acknowledge with a personal link; refusals are counted and limited per client and alert."""
        client = request.client.host if request.client else "unknown"
        wait = refusals.ack_blocked(client, alert_id)
        if wait is not None and not _link_valid(alert_id, token):
            # a real owner behind the same proxy as a spammer is still let through
            raise ApiError(429, f"too many refused ack attempts for alert {alert_id}; retry in {wait:.0f}s", "token")
        try:
            return guarded(lambda: engine.ack_with_token(alert_id, token))
        except AckRejected as err:
            refusals.ack_refused(client, alert_id)
            log.warning("refused ack link for alert %s from %s: %s", alert_id, client, err)
            raise ApiError(403, str(err), "token") from None

    def _link_valid(alert_id: int, token: str) -> bool:
        try:
            check_token(engine.secret, alert_id, token, engine.clock().timestamp())
        except AckRejected:
            return False
        return bool(engine.secret)

    def role_known(role: str | None, field: str) -> None:
        if role is not None and role not in cfg.people:
            raise ApiError(422, f"{field}: role {role!r} is not in people ({', '.join(cfg.people)})", field)

    def guarded(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except AlertError as err:
            raise ApiError(err.status, str(err), "id") from None

    @app.get("/api/v1/config")
    def config() -> dict[str, Any]:
        """Metric metadata, people and level owners: what the board needs to label itself."""
        return {
            "campaign": {"name": cfg.campaign.name, "timezone": zone, "locale": cfg.campaign.locale},
            "people": {r: {"name": p.name, "phone": p.phone} for r, p in cfg.people.items()},
            "levels": {lv: getattr(cfg.levels, lv).owner for lv in ("yellow", "orange", "red")},
            "metrics": {m: {"title": s.title, "unit": s.unit, "direction": s.direction, "yellow": s.yellow,
                            "orange": s.orange, "red": s.red, "decimals": s.decimals, "description": s.description,
                            "runbook": s.runbook, "group": s.group, "escalate": s.escalate}
                        for m, s in cfg.metrics.items()},
            "walls": {w: {"title": s.title or w, "metrics": s.metrics, "health": s.health}
                      for w, s in cfg.walls.items()},
        }

    @app.get("/api/v1/alerts")
    def alerts(state: Literal["active", "open", "acked", "resolved", "all"] = "all",
               from_: str = Query("-24h", alias="from"), to: str = "now") -> dict[str, Any]:
        """Alerts in a window (open ones always) with their full event trails."""
        now = engine.clock()
        start, end = parse_moment(from_, "from", zone, now), parse_moment(to, "to", zone, now)
        rows = engine.log.alerts_between(start, end, state)
        return {"alerts": [alert_json(engine, a, ev) for a, ev in rows]}

    if deliver is not None:
        @app.post("/api/v1/alerts/{alert_id}/ack")
        def ack(alert_id: int, request: Request, token: str | None = None, body: AckBody | None = None,
                authorization: str | None = Header(None)) -> dict[str, Any]:
            """Acknowledge with a personal link token (?token=) or the board token and {"by": role}."""
            if token:
                alert = link_ack(request, alert_id, token)
            else:
                require_token(authorization)
                if body is None:
                    raise ApiError(422, "body: {\"by\": role} is required with the board token", "by")
                role_known(body.by, "by")
                alert = guarded(lambda: engine.ack(alert_id, body.by, "api", body.note))
            return alert_json(engine, alert)

    if deliver is not None:
        pages = AckPages(engine.writer)

        @app.get("/api/v1/alerts/{alert_id}/ack", response_class=HTMLResponse)
        def ack_page(alert_id: int, token: str = "") -> HTMLResponse:
            """The page an ack link opens: what it is and a button, so chat link previews acknowledge nothing."""
            alert = engine.log.load(alert_id)
            try:
                role = check_token(engine.secret, alert_id, token, engine.clock().timestamp()) if engine.secret \
                    else None
            except AckRejected as err:
                return HTMLResponse(pages.refused(alert, alert_id, str(err)), status_code=403)
            why_not = None
            if alert is not None and role is not None and alert.state != "resolved":
                why_not = engine.refusal(alert, role)
                if why_not is None and alert.state == "acked" and alert.acked_by != role:
                    why_not = engine.writer.already(alert)
            if alert is not None and alert.state == "resolved":
                why_not = ""  # the summary already says it is resolved; no button
            return HTMLResponse(pages.link(alert, alert_id, token, role, why_not))

        @app.post("/api/v1/alerts/{alert_id}/ack/form", response_class=HTMLResponse)
        def ack_form(alert_id: int, request: Request, token: str = Form("")) -> HTMLResponse:
            """The button on the ack page: a readable page either way (refusals counted and limited)."""
            try:
                alert = link_ack(request, alert_id, token)
            except ApiError as err:
                return HTMLResponse(pages.refused(engine.log.load(alert_id), alert_id, err.message),
                                    status_code=err.status)
            return HTMLResponse(pages.done(alert))

    if deliver is not None:
        @app.post("/api/v1/annotations", status_code=201)
        def annotate(body: AnnotationBody, authorization: str | None = Header(None)) -> dict[str, Any]:
            """Record a decision: who decided what, at which level, tied to an alert when given."""
            require_token(authorization)
            role_known(body.role, "role")
            now = engine.clock()
            if body.alert_id is not None and not engine.log.exists(body.alert_id):
                raise ApiError(404, f"alert {body.alert_id} does not exist", "alert_id")
            store.execute("INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [to_db_ts(now), body.author, body.role, body.level, body.alert_id, body.kind, body.text,
                           None])
            if body.alert_id is not None:
                engine.log.event(now, body.alert_id, "decision", level=body.level, role=body.role, person=body.author,
                                 detail=body.text)
            return {"ts": now.isoformat(), **body.model_dump()}

    @app.get("/api/v1/annotations")
    def annotations(from_: str = Query("-24h", alias="from"), to: str = "now") -> dict[str, Any]:
        """The decision log in a window."""
        now = engine.clock()
        start, end = parse_moment(from_, "from", zone, now), parse_moment(to, "to", zone, now)
        rows = store.execute("SELECT ts, author, role, level, alert_id, kind, text, ref FROM annotations "
                             "WHERE ts >= ? AND ts <= ? ORDER BY ts", [to_db_ts(start), to_db_ts(end)]).fetchall()
        return {"annotations": [{"ts": from_db_ts(r[0]).isoformat(), "author": r[1], "role": r[2], "level": r[3],
                                 "alert_id": r[4], "kind": r[5], "text": r[6], "ref": r[7]} for r in rows]}

    if deliver is not None:
        @app.post("/api/v1/silences", status_code=201)
        def silence(body: SilenceBody, authorization: str | None = Header(None)) -> dict[str, Any]:
            """Silence one metric or all for a window; alerts are still recorded, not paged."""
            require_token(authorization)
            if body.metric is not None and body.metric not in cfg.metrics:
                raise ApiError(404, f"unknown metric {body.metric!r}", "metric")
            try:
                seconds = parse_duration(body.duration)
            except ValueError as err:
                raise ApiError(422, f"duration: {err}", "duration") from None
            if not 0 < seconds <= 86400:
                raise ApiError(422, "duration: must be more than 0 and at most 24h", "duration")
            now = engine.clock()
            ends = now + timedelta(seconds=seconds)
            item = engine.silences.add(body.metric, now, ends, body.author, body.reason, now)
            store.execute("INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [to_db_ts(now), body.author, None, None, None, "silence",
                           f"silenced {body.metric or 'all metrics'} for {body.duration}: {body.reason}",
                           f"silence:{item.id}"])
            return item.as_dict()

    @app.get("/api/v1/silences")
    def silences(active: bool = True) -> dict[str, Any]:
        """Silences in force (or all with active=false)."""
        now = engine.clock()
        items = engine.silences.active(now) if active else engine.silences.items
        return {"silences": [s.as_dict() for s in items]}

    if deliver is not None:
        @app.delete("/api/v1/silences/{silence_id}")
        def unsilence(silence_id: int, authorization: str | None = Header(None)) -> dict[str, Any]:
            """End a silence now."""
            require_token(authorization)
            ended = engine.silences.end(silence_id, engine.clock())
            if ended is None:
                raise ApiError(404, f"silence {silence_id} does not exist", "id")
            return ended.as_dict()

    if deliver is not None:
        @app.post("/api/v1/push", status_code=202)
        def push(body: PushBody, authorization: str | None = Header(None)) -> dict[str, Any]:
            """Samples from the watched systems themselves: stored like polled ones and evaluated at once."""
            require_token(authorization)
            now = engine.clock()
            samples = []
            for i, item in enumerate(body.samples):
                where = f"samples[{i}]"
                if item.metric not in cfg.metrics:
                    raise ApiError(404, f"{where}.metric: unknown metric {item.metric!r}", f"{where}.metric")
                if not cfg.metrics[item.metric].pushed:
                    # Two sources for one number would let a stray push overwrite what the poll measured.
                    feeder = cfg.feeders().get(item.metric)
                    raise ApiError(409, f"{where}.metric: {item.metric!r} is polled by collector "
                                        f"{feeder.name if feeder else '?'!r}; only metrics with `pushed: true` "
                                        "accept pushes", f"{where}.metric")
                if not math.isfinite(item.value):
                    raise ApiError(422, f"{where}.value: must be a finite number", f"{where}.value")
                ts = parse_moment(item.ts, f"{where}.ts", zone, now, PUSH_SPAN) if item.ts else now
                if ts > now + timedelta(seconds=5):
                    raise ApiError(422, f"{where}.ts: {ts.isoformat()} is in the future", f"{where}.ts")
                samples.append(Sample(ts, item.metric, item.value))
            deliver(PollResult(samples, None))
            return {"accepted": len(samples)}

    @app.get("/api/v1/runsheet")
    def runsheet() -> dict[str, Any]:
        """The campaign's run sheet with countdowns and who marked each step done."""
        now = engine.clock()
        started = anchor or engine.started_at or now
        done = sheet.completions(store.reader())
        steps = []
        for i, step in enumerate(cfg.campaign.run_sheet):
            at = cfg.campaign.resolve_moment(step.at, started)
            mark = done.get(i)
            steps.append({"index": i, "at": at.isoformat(), "action": step.action,
                          "owner": owner_of_role(step.owner), "seconds_until": round((at - now).total_seconds(), 1),
                          "done": mark is not None, "done_by": mark.role if mark else None,
                          "done_at": mark.at.isoformat() if mark else None,
                          "undo_until": mark.undo_until().isoformat() if mark else None})
        roster = getattr(engine, "roster", None)
        # Shift changes of the next hour stand beside the steps: "02:00 李娜 takes over from 张伟".
        return {"steps": steps, "handovers": roster.handovers(now) if roster is not None else []}

    def owner_of_role(role: str) -> dict[str, str]:
        p = cfg.people[role]
        return {"role": role, "name": p.name, "phone": p.phone}

    if deliver is not None:
        def step_action(index: int, body: StepDoneBody, authorization: str | None,
                        action: Callable[..., sheet.Completion]) -> tuple[sheet.Completion, datetime]:
            require_token(authorization)
            role_known(body.by, "by")
            if not 0 <= index < len(cfg.campaign.run_sheet):
                raise ApiError(404, f"run sheet has no step {index}", "index")
            now = engine.clock()
            try:
                return action(store, cfg, index, body.by, now), now
            except sheet.RunSheetRefused as err:
                raise ApiError(err.status, str(err), "index") from None

        @app.post("/api/v1/runsheet/{index}/done")
        def step_done(index: int, body: StepDoneBody, authorization: str | None = Header(None)) -> dict[str, Any]:
            """Mark a run-sheet step done as the role who confirmed it; recorded in the decision log."""
            mark, _ = step_action(index, body, authorization, sheet.mark_done)
            return {"index": index, "done": True, "done_by": mark.role, "done_at": mark.at.isoformat(),
                    "undo_until": mark.undo_until().isoformat()}

        @app.post("/api/v1/runsheet/{index}/undo")
        def step_undo(index: int, body: StepDoneBody, authorization: str | None = Header(None)) -> dict[str, Any]:
            """Take back a done mark within a minute (a wrong tap); the undo is itself in the decision log."""
            mark, now = step_action(index, body, authorization, sheet.undo)
            return {"index": index, "done": False, "undone_by": body.by, "undone_at": now.isoformat(),
                    "was_done_by": mark.role}

