"""Who is on duty: GET the holder of every role and the next hour's handovers; stand in at run time.

A stand-in takes effect for the next page, shows on the wall at once, and is written to the
decision log with who made the change. Who holds a role now is the live roster's answer, so an
archive answers all three 409 (warroom.api.read_only).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from warroom.api.context import Context
from warroom.api.fields import PersonName, Phone, check_name
from warroom.api.params import ApiError, parse_moment
from warroom.api.read_only import Live, live_night
from warroom.api.routes.people import acting, refuse_unless
from warroom.durations import parse_duration
from warroom.record import decisions


class StandInBody(BaseModel):
    """Put someone in a role from now on: an entry of people, or a name and phone."""

    model_config = ConfigDict(extra="forbid")
    role: str = Field(description="The role to fill, e.g. general_manager.")
    person: str | None = Field(default=None, description="An entry of people (their channels), e.g. deputy_gm.")
    name: PersonName | None = Field(default=None, description="Or a name (the role's own channels are paged): "
                                    "one line of printable text, no link.")
    phone: Phone = Field(default="", description="Digits, spaces, + - ( ) and an extension.")
    until: str | None = Field(default=None, max_length=64, description="ISO-8601 (naive: the campaign's timezone) "
                              "or '+2h'; open-ended when omitted.")
    by: PersonName | None = Field(default=None, description="Who makes the change (a machine; a signed-in person "
                                  "is recorded as themselves).")


# A stand-in covers a night, a weekend at most: anything longer is a typo (and '+99999999d' overflowed to a 500).
MAX_STAND_IN = timedelta(days=7)

router = APIRouter(dependencies=[Depends(live_night)])


@router.get("/api/v1/duty")
def on_duty(live: Live) -> dict[str, Any]:
    """Who holds every role now (config, shift or stand-in), and the handovers of the next hour."""
    return live.engine.roster.on_duty(live.engine.clock())


@router.post("/api/v1/duty", status_code=201)
def stand_in(body: StandInBody, request: Request, ctx: Context, live: Live, response: Response,
             authorization: str | None = Header(None)) -> dict[str, Any]:
    """Put someone in a role from now on (board token; a signed-in person needs the right to)."""
    actor = acting(ctx, live, request, authorization, None)
    refuse_unless(live, actor, "stand_in")
    by = actor.person if actor.via == "board" else body.by
    if not by:
        raise ApiError(422, "by: required with the board token (who makes the change)", "by")
    engine = live.engine
    cfg = engine.cfg
    if body.role not in cfg.people:
        raise ApiError(422, f"role: {body.role!r} is not in people ({', '.join(cfg.people)})", "role")
    if body.person is not None and body.person not in cfg.people:
        raise ApiError(422, f"person: {body.person!r} is not in people ({', '.join(cfg.people)})", "person")
    if (body.person is None) == (body.name is None):
        raise ApiError(422, "name: give either person (an entry of people) or name and phone", "name")
    now = engine.clock()
    until = _until(body.until, cfg.campaign.timezone, now) if body.until else None
    holder, change = engine.roster.stand_in(body.role, now, by, person=body.person, name=body.name,
                                            phone=body.phone, until=until)
    if change is None:
        response.status_code = 200  # the same stand-in again: nothing changed, nothing to log
    else:
        decisions.record(engine.log.store, now, by, change, role=body.role, kind="duty", ref=f"duty:{body.role}",
                         via=actor.via)
    return holder.as_dict()


def _until(text: str, zone: str, now: datetime) -> datetime:
    """When a stand-in ends: ISO-8601 or '+2h', in the future and within MAX_STAND_IN; 422 naming `until`."""
    text = text.strip()
    if text.startswith("+"):
        try:
            seconds = parse_duration(text[1:])
        except ValueError as err:
            raise ApiError(422, f"until: {err}", "until") from None
        if seconds > MAX_STAND_IN.total_seconds():
            raise ApiError(422, f"until: {text[:40]!r} is more than {MAX_STAND_IN.days} days from now", "until")
        until = now + timedelta(seconds=seconds)
    else:
        until = parse_moment(text, "until", zone, now, MAX_STAND_IN)
    if until <= now:
        raise ApiError(422, f"until: {until.isoformat()} is not in the future", "until")
    return until


@router.delete("/api/v1/duty/{role}")
def end(role: str, request: Request, ctx: Context, live: Live, by: str | None = None,
        authorization: str | None = Header(None)) -> dict[str, Any]:
    """End a stand-in: the role goes back to its shift or configured person."""
    actor = acting(ctx, live, request, authorization, None)
    refuse_unless(live, actor, "stand_in")
    by = actor.person if actor.via == "board" else by
    if not by:
        raise ApiError(422, "by: required with the board token (who ends it)", "by")
    if actor.via != "board":
        by = check_name(by, "by")  # a machine's word for who it is goes into the decision log
    engine = live.engine
    now = engine.clock()
    change = engine.roster.end(role, now, by)
    if change is None:
        raise ApiError(404, f"nobody stands in as {role!r}", "role")
    decisions.record(engine.log.store, now, by, change, role=role, kind="duty", ref=f"duty:{role}", via=actor.via)
    holder = engine.roster.holder(role, now)
    return holder.as_dict() if holder else {"role": role}
