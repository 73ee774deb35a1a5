"""Who acts: sign-in links exchanged for sessions, and the person behind every action (live daemon only).

The board holds the board token (a machine's credential) and adds, per action, who is acting:
- `X-Warroom-Session: <id>`: a person signed in with their link; they act as themselves, with their rights;
- `X-Warroom-Wall: NAME`: a trusted wall screen (`walls.NAME.actions: true`); it knows no person, so it
  may only mark run-sheet steps, recorded as done at the wall;
- neither: a machine (push, scripts, the command line) naming a role in the body, recorded as via the API.
The link's token is seen once, in the exchange; it is never logged, stored or answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from alerts import rights
from alerts.signin import SignInRejected, check_signin
from warroom.api.context import ApiContext, Context, LiveNight
from warroom.api.gate import check_board_token
from warroom.api.params import ApiError
from warroom.api.read_only import Live, live_night
from warroom.record.sign_ins import Session

log = logging.getLogger("warroom.api")
SESSION_HEADER = "X-Warroom-Session"
WALL_HEADER = "X-Warroom-Wall"


@dataclass(frozen=True)
class Actor:
    """Who an action is recorded as: a role and person, or a wall (no role, no person); and where it came from."""

    role: str | None
    person: str | None
    via: str
    """board | wall:NAME | api"""

    @property
    def at_wall(self) -> bool:
        """True for a trusted wall screen."""
        return self.via.startswith("wall:")


class SignInBody(BaseModel):
    """A sign-in link's token, and the address of the browser that opened it (for the refusal limit)."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=1000)
    client: str | None = Field(default=None, max_length=100, description="The browser's address as the board saw it.")


def not_holding(live: LiveNight, role: str, person: str, now: datetime) -> str | None:
    """Why `person` may not act as `role` now (their shift or stand-in ended), or None when they may.

    The role's configured person always may; otherwise only whoever holds it now (a shift, a stand-in).
    """
    cfg = live.engine.cfg
    configured = cfg.people.get(role)
    if configured is None:
        return f"role {role!r} is not in people"
    if person == configured.name:
        return None
    holder = live.engine.roster.holder(role, now)
    if holder is not None and holder.name == person:
        return None
    return f"{person} no longer holds {role}: {holder.name if holder else configured.name} does"


def acting(ctx: ApiContext, live: LiveNight, request: Request, authorization: str | None,
           by: str | None) -> Actor:
    """Who this request acts as (board token checked); ApiError when the session or wall may not act."""
    check_board_token(ctx.token_env, authorization)
    engine = live.engine
    now = engine.clock()
    session_id = request.headers.get(SESSION_HEADER)
    wall = request.headers.get(WALL_HEADER)
    if session_id:
        session = live.sessions.find(session_id, now)
        if session is None:
            raise ApiError(401, "signed out: this session is unknown, ended or expired; sign in again with your "
                                "link", "session")
        why = not_holding(live, session.role, session.person, now)
        if why:
            raise ApiError(403, why, "session")
        return Actor(session.role, session.person, "board")
    if wall:
        spec = engine.cfg.walls.get(wall)
        if spec is None or not spec.actions:
            raise ApiError(403, f"wall {wall!r} may not act: it is not configured as trusted "
                                f"(walls.{wall}.actions: true)", "wall")
        return Actor(None, None, f"wall:{wall}")
    if by is not None and by not in engine.cfg.people:
        raise ApiError(422, f"by: role {by!r} is not in people ({', '.join(engine.cfg.people)})", "by")
    return Actor(by, engine.roster.name(by, now) if by else None, "api")


def refuse_unless(live: LiveNight, actor: Actor, action: str, step_owner: str | None = None) -> None:
    """403 naming who may, unless the actor's role may do `action` by the config's rights (machines may)."""
    if actor.via == "api":
        return  # the board token is a machine's: scripts and the command line act for the role they name
    cfg = live.engine.cfg
    if actor.at_wall:
        if action == "run_sheet":
            return
        raise ApiError(403, "a wall screen knows no person: sign in with your personal link to do this", "wall")
    assert actor.role is not None
    if rights.may(cfg, action, actor.role, step_owner):
        return
    now = live.engine.clock()
    who = ", ".join(f"{live.engine.roster.name(r, now)} ({r})" for r in rights.who_may(cfg, action, step_owner))
    raise ApiError(403, f"{actor.person} ({actor.role}) may not {action.replace('_', ' ')}: "
                        f"only {who} may (rights.{action})", "rights")


def _who(live: LiveNight, session: Session, now: datetime) -> dict[str, Any]:
    cfg = live.engine.cfg
    may = {}
    for action in ("silence", "stand_in"):
        roles = rights.who_may(cfg, action)
        may[action] = {"may": session.role in roles,
                       "who": [{"role": r, "name": live.engine.roster.name(r, now)} for r in roles]}
    return {"role": session.role, "name": session.person, "since": session.since.isoformat(),
            "expires": session.expires.isoformat(), "rights": may, "run_sheet": cfg.rights.run_sheet}


router = APIRouter(dependencies=[Depends(live_night)])


@router.post("/api/v1/signin", status_code=201)
def sign_in(body: SignInBody, request: Request, ctx: Context, live: Live,
            authorization: str | None = Header(None)) -> dict[str, Any]:
    """Exchange a personal sign-in link for a session (the board, with its token); refusals counted per client."""
    check_board_token(ctx.token_env, authorization)
    engine = live.engine
    client = body.client or (request.client.host if request.client else "unknown")
    wait = ctx.refusals.signin_blocked(client)
    now = engine.clock()
    try:
        if wait is not None:
            raise ApiError(429, f"too many refused sign-in links from {client}; retry in {wait:.0f}s", "token")
        who = check_signin(engine.secret, body.token, now.timestamp())
        why = not_holding(live, who.role, who.person, now)
        if why:
            raise SignInRejected("not_holder", why)
    except SignInRejected as err:
        ctx.refusals.signin_refused(client)
        log.warning("refused sign-in link from %s: %s", client, err)
        raise ApiError(403, str(err), f"token.{err.reason}") from None
    session_id, session = live.sessions.open(who, now, engine.cfg.alerts.ack_valid_for, client)
    log.info("%s signed in as %s from %s", who.person, who.role, client)
    return {"session": session_id, **_who(live, session, now)}


@router.get("/api/v1/signin")
def signed_in(live: Live, x_warroom_session: str | None = Header(None)) -> dict[str, Any]:
    """Who the session in the X-Warroom-Session header is, and what they may do; 401 when signed out."""
    now = live.engine.clock()
    session = live.sessions.find(x_warroom_session or "", now)
    if session is None:
        raise ApiError(401, "signed out: this session is unknown, ended or expired", "session")
    why = not_holding(live, session.role, session.person, now)
    if why:
        raise ApiError(403, why, "session")
    return _who(live, session, now)


@router.post("/api/v1/signout")
def sign_out(ctx: Context, live: Live, authorization: str | None = Header(None),
             x_warroom_session: str | None = Header(None)) -> dict[str, Any]:
    """End the session in the X-Warroom-Session header for good."""
    check_board_token(ctx.token_env, authorization)
    session = live.sessions.end(x_warroom_session or "", live.engine.clock())
    if session is not None:
        log.info("%s (%s) signed out", session.person, session.role)
    return {"signed_out": session is not None}
