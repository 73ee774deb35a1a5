"""Actions that change the night: acks, decisions, silences, push, run sheet done/undo (live daemon only).

The reads are in warroom.api.routes.record; every route here needs the live night, so an archive
answers them 409 (warroom.api.read_only).

Anything that changes state needs the board token (Authorization: Bearer …, from the variable named
by server.token_env); an ack link carries its own signed token instead. Who acts is a signed-in person
(their session), a trusted wall, or a machine naming a role (warroom.api.routes.people): every action is
recorded with the person and where it came from.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, Header, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from alerts.ack import AckRejected, check_token
from alerts.engine import AlertEngine, AlertError
from alerts.log import Alert
from warroom.api.context import ApiContext, Context, LiveNight
from warroom.api.fields import Note, PersonName, Reason, Text
from warroom.api.gate import check_board_token
from warroom.api.params import ApiError, parse_moment
from warroom.api.read_only import Live, live_night
from warroom.api.routes.people import Actor, acting, refuse_unless
from warroom.durations import parse_duration
from warroom.record import alerts as record_alerts
from warroom.record import decisions
from warroom.record import runsheet as sheet
from warroom.values import PollResult, Sample

MAX_PUSH = 1000
# A pushed sample is a live observation: older than a day it is a replay or a broken clock, and
# anything before the last rolled-up minute would never reach the long charts anyway.
PUSH_SPAN = timedelta(days=1)
log = logging.getLogger("warroom.api")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AckBody(_Body):
    by: str | None = Field(default=None, description="Role acknowledging, e.g. ops_lead (a machine; a signed-in "
                           "person acts as themselves).")
    note: Note | None = None


class AnnotationBody(_Body):
    author: PersonName | None = Field(default=None, description="Who decided (a machine; a signed-in person "
                                      "is recorded as themselves).")
    text: Text
    role: str | None = None
    level: Literal["yellow", "orange", "red"] | None = None
    alert_id: int | None = None
    kind: Literal["decision", "note"] = "decision"


class SilenceBody(_Body):
    metric: str | None = Field(default=None, description="One metric, or null for every metric.")
    duration: str = Field(default="30m", description="How long, e.g. 30m.")
    author: PersonName | None = Field(default=None, description="Who silences (a machine; a signed-in person "
                                      "is recorded as themselves).")
    reason: Reason


class PushSample(_Body):
    metric: str
    value: float
    ts: str | None = None


class PushBody(_Body):
    samples: list[PushSample] = Field(min_length=1, max_length=MAX_PUSH)


class StepDoneBody(_Body):
    by: str | None = Field(default=None, description="Role (a machine; a signed-in person or a trusted wall "
                           "needs none).")


def alert_json(engine: AlertEngine, alert: Alert, events: list[dict] | None = None) -> dict[str, Any]:
    """The API form of a live alert: names from the roster now (warroom.record.alerts holds the form)."""
    now = engine.clock()
    return record_alerts.alert_json(engine.cfg, alert, events, engine.silences.covers(alert.metric, now),
                                    engine.roster, now)


class LinkRefused(ApiError):
    """An ack link refused; `reason` (malformed | forged | expired | disabled | too_many | not_open) for the page."""

    def __init__(self, status: int, message: str, reason: str | None):
        token_fault = reason in ("malformed", "forged", "expired", "disabled", "too_many")
        super().__init__(status, message, "token" if token_fault else "id")
        self.reason = reason


def _link_ack(ctx: ApiContext, engine: AlertEngine, request: Request, alert_id: int, token: str) -> Alert:
    """Acknowledge with a personal link; refusals are counted and limited per client and alert."""
    client = request.client.host if request.client else "unknown"
    wait = ctx.refusals.ack_blocked(client, alert_id)
    if wait is not None and not _link_valid(engine, alert_id, token):
        # a real owner behind the same proxy as a spammer is still let through
        raise LinkRefused(429, f"too many refused ack attempts for alert {alert_id}; retry in {wait:.0f}s",
                          "too_many")
    try:
        return engine.ack_with_token(alert_id, token)
    except AckRejected as err:
        ctx.refusals.ack_refused(client, alert_id)
        ctx.refusals.log("ack_link", "refused ack link for alert %s from %s: %s", alert_id, client, err)
        raise LinkRefused(403, str(err), err.reason) from None
    except AlertError as err:
        # unknown or closed (404/409: words the page knows); else the engine's own words (already localised)
        raise LinkRefused(err.status, str(err), "not_open" if err.status == 404 or "not open" in str(err)
                          else None) from None


def _link_valid(engine: AlertEngine, alert_id: int, token: str) -> bool:
    try:
        check_token(engine.secret, alert_id, token, engine.clock().timestamp())
    except AckRejected:
        return False
    return bool(engine.secret)


def _role_known(engine: AlertEngine, role: str | None, field: str) -> None:
    people = engine.cfg.people
    if role is not None and role not in people:
        raise ApiError(422, f"{field}: role {role!r} is not in people ({', '.join(people)})", field)


def _guarded(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except AlertError as err:
        raise ApiError(err.status, str(err), "id") from None


# Every action needs the live night: declared once here, so a route added below is refused on an archive too.
router = APIRouter(dependencies=[Depends(live_night)])


@router.post("/api/v1/alerts/{alert_id}/ack")
def ack(alert_id: int, request: Request, ctx: Context, live: Live, token: str | None = None,
        body: AckBody | None = None, authorization: str | None = Header(None)) -> dict[str, Any]:
    """Acknowledge with a personal link token (?token=) or the board token and {"by": role}."""
    engine = live.engine
    if token:
        alert = _link_ack(ctx, engine, request, alert_id, token)
    else:
        actor = acting(ctx, live, request, authorization, body.by if body else None)
        if actor.at_wall:
            raise ApiError(403, "a wall screen knows no person: acknowledge with your ack link or sign in", "wall")
        if actor.role is None:
            raise ApiError(422, "body: {\"by\": role} is required with the board token", "by")
        note = body.note if body else None
        alert = _guarded(lambda: engine.ack(alert_id, actor.role, actor.via, note, person=actor.person))
        if note and note.strip() and alert.acked_by == actor.role:
            # A note written while acknowledging is a decision ("已让客服加派人手…"): the decision log holds it.
            decisions.record(engine.log.store, alert.acked_at or engine.clock(),
                             actor.person or engine.roster.name(actor.role, engine.clock()) or actor.role,
                             note.strip(), role=actor.role, level=alert.level.word, alert_id=alert.id,
                             ref=f"ack:{alert.id}", via=actor.via)
    return alert_json(engine, alert)


@router.get("/api/v1/alerts/{alert_id}/ack", response_class=HTMLResponse)
def ack_page(alert_id: int, live: Live, token: str = "") -> HTMLResponse:
    """The page an ack link opens: what it is and a button, so chat link previews acknowledge nothing."""
    engine, pages = live.engine, live.pages
    alert = engine.log.load(alert_id)
    try:
        role = check_token(engine.secret, alert_id, token, engine.clock().timestamp()) if engine.secret \
            else None
    except AckRejected as err:
        return HTMLResponse(pages.refused(alert, alert_id, str(err), err.reason), status_code=403)
    why_not = None
    if alert is not None and role is not None and alert.state != "resolved":
        why_not = engine.refusal(alert, role)
        if why_not is None and alert.state == "acked" and alert.acked_by != role:
            why_not = engine.writer.already(alert)
    return HTMLResponse(pages.link(alert, alert_id, token, role, why_not))


@router.post("/api/v1/alerts/{alert_id}/ack/form", response_class=HTMLResponse)
def ack_form(alert_id: int, request: Request, ctx: Context, live: Live, token: str = Form("")) -> HTMLResponse:
    """The button on the ack page: a readable page either way (refusals counted and limited)."""
    try:
        alert = _link_ack(ctx, live.engine, request, alert_id, token)
    except LinkRefused as err:
        return HTMLResponse(live.pages.refused(live.engine.log.load(alert_id), alert_id, err.message, err.reason),
                            status_code=err.status)
    return HTMLResponse(live.pages.done(alert))


@router.post("/api/v1/annotations", status_code=201)
def annotate(body: AnnotationBody, request: Request, ctx: Context, live: Live,
             authorization: str | None = Header(None)) -> dict[str, Any]:
    """Record a decision: who decided what, at which level, tied to an alert when given."""
    engine = live.engine
    actor = acting(ctx, live, request, authorization, None)
    if actor.at_wall:
        raise ApiError(403, "a wall screen knows no person: sign in with your personal link to record a decision",
                       "wall")
    _role_known(engine, body.role, "role")
    author, role = (actor.person, actor.role) if actor.via == "board" else (body.author, body.role)
    if not author:
        raise ApiError(422, "author: required with the board token (who decided)", "author")
    now = engine.clock()
    if body.alert_id is not None and not engine.log.exists(body.alert_id):
        raise ApiError(404, f"alert {body.alert_id} does not exist", "alert_id")
    decisions.record(engine.log.store, now, author, body.text, role=role, level=body.level,
                     alert_id=body.alert_id, kind=body.kind, via=actor.via)
    if body.alert_id is not None:
        engine.log.event(now, body.alert_id, "decision", level=body.level, role=role, person=author,
                         channel=actor.via, detail=body.text)
    return {"ts": now.isoformat(), **body.model_dump(), "author": author, "role": role, "via": actor.via}


@router.post("/api/v1/silences", status_code=201)
def silence(body: SilenceBody, request: Request, ctx: Context, live: Live,
            authorization: str | None = Header(None)) -> dict[str, Any]:
    """Silence one metric or all for a window; alerts are still recorded, not paged."""
    engine = live.engine
    actor = acting(ctx, live, request, authorization, None)
    refuse_unless(live, actor, "silence")
    author = actor.person if actor.via == "board" else body.author
    if not author:
        raise ApiError(422, "author: required with the board token (who silences)", "author")
    if body.metric is not None and body.metric not in engine.cfg.metrics:
        raise ApiError(404, f"unknown metric {body.metric!r}", "metric")
    try:
        seconds = parse_duration(body.duration)
    except ValueError as err:
        raise ApiError(422, f"duration: {err}", "duration") from None
    if not 0 < seconds <= 86400:
        raise ApiError(422, "duration: must be more than 0 and at most 24h", "duration")
    now = engine.clock()
    ends = now + timedelta(seconds=seconds)
    item = engine.silences.add(body.metric, now, ends, author, body.reason, now)
    decisions.record(engine.log.store, now, author,
                     f"silenced {body.metric or 'all metrics'} for {body.duration}: {body.reason}",
                     role=actor.role if actor.via == "board" else None, kind="silence", ref=f"silence:{item.id}",
                     via=actor.via)
    return item.as_dict()


@router.delete("/api/v1/silences/{silence_id}")
def unsilence(silence_id: int, request: Request, ctx: Context, live: Live,
              authorization: str | None = Header(None)) -> dict[str, Any]:
    """End a silence now (recorded in the decision log when a signed-in person lifts it)."""
    actor = acting(ctx, live, request, authorization, None)
    refuse_unless(live, actor, "silence")
    now = live.engine.clock()
    ended = live.engine.silences.end(silence_id, now)
    if ended is None:
        raise ApiError(404, f"silence {silence_id} does not exist", "id")
    if actor.via == "board":
        decisions.record(live.engine.log.store, now, actor.person or "?", f"lifted silence {silence_id}",
                         role=actor.role, kind="silence", ref=f"silence:{silence_id}", via=actor.via)
    return ended.as_dict()


@router.post("/api/v1/push", status_code=202)
def push(body: PushBody, ctx: Context, live: Live, authorization: str | None = Header(None)) -> dict[str, Any]:
    """Samples from the watched systems themselves: stored like polled ones and evaluated at once."""
    check_board_token(ctx.token_env, authorization)
    cfg = live.engine.cfg
    now = live.engine.clock()
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
        ts = parse_moment(item.ts, f"{where}.ts", cfg.campaign.timezone, now, PUSH_SPAN) if item.ts else now
        if ts > now + timedelta(seconds=5):
            raise ApiError(422, f"{where}.ts: {ts.isoformat()} is in the future", f"{where}.ts")
        samples.append(Sample(ts, item.metric, item.value))
    live.deliver(PollResult(samples, None))
    return {"accepted": len(samples)}


def _step_action(ctx: ApiContext, live: LiveNight, request: Request, index: int, body: StepDoneBody | None,
                 authorization: str | None,
                 action: Callable[..., sheet.Completion]) -> tuple[sheet.Completion, datetime, Actor]:
    engine = live.engine
    actor = acting(ctx, live, request, authorization, body.by if body else None)
    if not 0 <= index < len(engine.cfg.campaign.run_sheet):
        raise ApiError(404, f"run sheet has no step {index}", "index")
    if actor.role is None and not actor.at_wall:
        raise ApiError(422, "by: required with the board token (the role that confirms)", "by")
    refuse_unless(live, actor, "run_sheet", engine.cfg.campaign.run_sheet[index].owner)
    now = engine.clock()
    try:
        return action(engine.log.store, engine.cfg, index, actor.role, now, who=actor.person, via=actor.via), now, \
            actor
    except sheet.RunSheetRefused as err:
        raise ApiError(err.status, str(err), "index") from None


@router.post("/api/v1/runsheet/{index}/done")
def step_done(index: int, request: Request, ctx: Context, live: Live, body: StepDoneBody | None = None,
              authorization: str | None = Header(None)) -> dict[str, Any]:
    """Mark a run-sheet step done as who confirmed it (a person, or a trusted wall); in the decision log."""
    mark, _, _ = _step_action(ctx, live, request, index, body, authorization, sheet.mark_done)
    return {"index": index, "done": True, "done_by": mark.role, "done_by_name": mark.who, "done_via": mark.via,
            "done_at": mark.at.isoformat(), "undo_until": mark.undo_until().isoformat()}


@router.post("/api/v1/runsheet/{index}/undo")
def step_undo(index: int, request: Request, ctx: Context, live: Live, body: StepDoneBody | None = None,
              authorization: str | None = Header(None)) -> dict[str, Any]:
    """Take back a done mark within a minute (a wrong tap); the undo is itself in the decision log."""
    mark, now, actor = _step_action(ctx, live, request, index, body, authorization, sheet.undo)
    return {"index": index, "done": False, "undone_by": actor.role, "undone_by_name": actor.person,
            "undone_via": actor.via, "undone_at": now.isoformat(), "was_done_by": mark.role}
