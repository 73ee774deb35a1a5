"""Who is on duty: GET the holder of every role and the next hour's handovers; stand in at run time.

A stand-in takes effect for the next page, shows on the wall at once, and is written to the
decision log with who made the change. Who holds a role now is the live roster's answer, so an
archive answers all three 409 (warroom.api.read_only).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from warroom.api.context import Context
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
    name: str | None = Field(default=None, min_length=1, max_length=200, description="Or a name (the role's "
                             "own channels are paged).")
    phone: str = Field(default="", max_length=64)
    until: str | None = Field(default=None, description="ISO-8601 (naive: the campaign's timezone) or '+2h'; "
                              "open-ended when omitted.")
    by: str | None = Field(default=None, min_length=1, max_length=200, description="Who makes the change (a "
                           "machine; a signed-in person is recorded as themselves).")


router = APIRouter(dependencies=[Depends(live_night)])


@router.get("/api/v1/duty")
def on_duty(live: Live) -> dict[str, Any]:
    """Who holds every role now (config, shift or stand-in), and the handovers of the next hour."""
    return live.engine.roster.on_duty(live.engine.clock())


@router.post("/api/v1/duty", status_code=201)
def stand_in(body: StandInBody, request: Request, ctx: Context, live: Live,
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
    until = None
    if body.until and body.until.startswith("+"):
        try:
            until = now + timedelta(seconds=parse_duration(body.until[1:]))
        except ValueError as err:
            raise ApiError(422, f"until: {err}", "until") from None
    elif body.until:
        until = parse_moment(body.until, "until", cfg.campaign.timezone, now)
    if until is not None:
        if until <= now:
            raise ApiError(422, f"until: {until.isoformat()} is not in the future", "until")
    holder, change = engine.roster.stand_in(body.role, now, by, person=body.person, name=body.name,
                                            phone=body.phone, until=until)
    decisions.record(engine.log.store, now, by, change, role=body.role, kind="duty", ref=f"duty:{body.role}",
                     via=actor.via)
    return holder.as_dict()


@router.delete("/api/v1/duty/{role}")
def end(role: str, request: Request, ctx: Context, live: Live, by: str | None = None,
        authorization: str | None = Header(None)) -> dict[str, Any]:
    """End a stand-in: the role goes back to its shift or configured person."""
    actor = acting(ctx, live, request, authorization, None)
    refuse_unless(live, actor, "stand_in")
    by = actor.person if actor.via == "board" else by
    if not by:
        raise ApiError(422, "by: required with the board token (who ends it)", "by")
    engine = live.engine
    now = engine.clock()
    change = engine.roster.end(role, now, by)
    if change is None:
        raise ApiError(404, f"nobody stands in as {role!r}", "role")
    decisions.record(engine.log.store, now, by, change, role=role, kind="duty", ref=f"duty:{role}", via=actor.via)
    holder = engine.roster.holder(role, now)
    return holder.as_dict() if holder else {"role": role}
