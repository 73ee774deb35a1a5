"""Run-sheet completions in the decision log: marked done by a role, undone within a minute.

A mark is a decision-log row of kind `runsheet`, an undo one of kind `runsheet_undo`, both with ref
`runsheet:<index>`; a step's state is its latest row. Nothing is deleted: the night's record keeps
the wrong click and its correction side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from warroom.config.models import WarroomConfig
from warroom.record import decisions
from warroom.store.database import Store
from warroom.store.schema import from_db_ts, to_db_ts

# Long enough to notice a wrong tap on a kiosk, short enough that "done" soon means done.
UNDO_WINDOW_S = 60.0
ACTOR = "warroom"
"""The role (and author) of what warroom records itself: a `do:` step it did (warroom.record.runsheet_actions)."""
# Every read of the marks is bounded by time (zone maps skip the rest); a campaign's record spans at
# most the API's longest window, so a mark older than this belongs to no step of tonight.
MARKS_LOOKBACK = timedelta(days=8)


class RunSheetRefused(Exception):
    """A mark or undo that cannot be done; `status` is the HTTP code."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Completion:
    """Who marked a step done (their role; None at a trusted wall, which knows no person), when, and where."""

    role: str | None
    at: datetime
    who: str | None = None
    """The person's name (None at the wall)."""
    via: str | None = None
    """board | wall:NAME | api (None for marks made before version 3)."""

    def undo_until(self) -> datetime:
        """Until when the mark can be undone."""
        return self.at + timedelta(seconds=UNDO_WINDOW_S)


def completions(cur: duckdb.DuckDBPyConnection, since: datetime, at: datetime) -> dict[int, Completion]:
    """Step index → its completion as it stood at `at`: the latest mark or undo in [since, at] ."""
    rows = cur.execute(
        "SELECT ref, arg_max(kind, ts), arg_max(role, ts), max(ts), arg_max(author, ts), arg_max(via, ts) "
        "FROM annotations WHERE kind IN ('runsheet', 'runsheet_undo') AND ref LIKE 'runsheet:%' "
        "AND ts >= ? AND ts <= ? GROUP BY ref", [to_db_ts(since), to_db_ts(at)]).fetchall()
    return {int(ref.split(":", 1)[1]): Completion(role, from_db_ts(ts), None if _at_wall(via) else author, via)
            for ref, kind, role, ts, author, via in rows if kind == "runsheet"}


def _at_wall(via: str | None) -> bool:
    return bool(via and via.startswith("wall"))


def run_sheet(cur: duckdb.DuckDBPyConnection, cfg: WarroomConfig, anchor: datetime, now: datetime) -> list[dict]:
    """The run sheet as it stood at `now`: planned time (relative ones from the campaign's anchor), done marks."""
    done = completions(cur, now - MARKS_LOOKBACK, now)
    steps = []
    for i, step in enumerate(cfg.campaign.run_sheet):
        at = cfg.campaign.resolve_moment(step.at, anchor)
        mark = done.get(i)
        person = cfg.people.get(step.owner)
        steps.append({"index": i, "at": at.isoformat(), "action": step.action,
                      "owner": {"role": step.owner, "name": person.name if person else step.owner,
                                "phone": person.phone if person else ""},
                      "seconds_until": round((at - now).total_seconds(), 1),
                      "done": mark is not None, "done_by": mark.role if mark else None,
                      "done_by_name": mark.who if mark else None, "done_via": mark.via if mark else None,
                      "done_at": mark.at.isoformat() if mark else None,
                      # what warroom did itself is no wrong tap: its files exist, there is nothing to undo
                      "undo_until": mark.undo_until().isoformat() if mark and mark.role != ACTOR else None})
    return steps


def _author(cfg: WarroomConfig, role: str | None, who: str | None, via: str) -> str:
    """The name the decision log keeps: the person, or the wall's name for a trusted wall."""
    if role is None:
        # A wall: what it records never names a person it cannot know, only the screen, in the night's language.
        name = via.split(":", 1)[1] if ":" in via else ""
        wall = cfg.walls.get(name)
        screen = "大屏" if cfg.campaign.locale == "zh-CN" else "the wall"
        return f"{screen} · {wall.title or name}" if wall else screen
    return who or cfg.people[role].name


def mark_done(store: Store, cfg: WarroomConfig, index: int, role: str | None, now: datetime, *,
              who: str | None = None, via: str = "api") -> Completion:
    """Record step `index` as done by `role` (None: at a trusted wall); 409 when it already is (a double tap)."""
    step = cfg.campaign.run_sheet[index]
    held = completions(store.reader(), now - MARKS_LOOKBACK, now).get(index)
    if held is not None:
        by = f"{held.role} ({held.who})" if held.role and held.who else held.who or held.role or "the wall"
        raise RunSheetRefused(409, f"step {index} is already done (by {by} at {held.at.isoformat()})")
    if role is None:
        text = f"done: {step.action} (at the {via.replace(':', ' ')})"
    else:
        text = f"done: {step.action} (confirmed by {role if role == step.owner else f'{role} for {step.owner}'})"
    decisions.record(store, now, _author(cfg, role, who, via), text, role=role, kind="runsheet",
                     ref=f"runsheet:{index}", via=via)
    return Completion(role, now, None if role is None else _author(cfg, role, who, via), via)


def undo(store: Store, cfg: WarroomConfig, index: int, role: str | None, now: datetime, *,
         who: str | None = None, via: str = "api") -> Completion:
    """Take back the mark on step `index` within UNDO_WINDOW_S; 409 when it is not done or too old."""
    step = cfg.campaign.run_sheet[index]
    held = completions(store.reader(), now - MARKS_LOOKBACK, now).get(index)
    if held is None:
        raise RunSheetRefused(409, f"step {index} is not done, nothing to undo")
    if now > held.undo_until():
        raise RunSheetRefused(409, f"step {index} was marked done at {held.at.isoformat()}; undo is possible for "
                                   f"{UNDO_WINDOW_S:g}s only, record a decision instead")
    marked = held.who or held.role or "the wall"
    decisions.record(store, now, _author(cfg, role, who, via), f"undone: {step.action} (marked by {marked})",
                     role=role, kind="runsheet_undo", ref=f"runsheet:{index}", via=via)
    return held
