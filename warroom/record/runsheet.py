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
from warroom.store.database import Store
from warroom.store.schema import from_db_ts, to_db_ts

# Long enough to notice a wrong tap on a kiosk, short enough that "done" soon means done.
UNDO_WINDOW_S = 60.0


class RunSheetRefused(Exception):
    """A mark or undo that cannot be done; `status` is the HTTP code."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Completion:
    """Who marked a step done (the role chosen at confirmation) and when."""

    role: str
    at: datetime

    def undo_until(self) -> datetime:
        """Until when the mark can be undone."""
        return self.at + timedelta(seconds=UNDO_WINDOW_S)


def completions(cur: duckdb.DuckDBPyConnection) -> dict[int, Completion]:
    """Step index → its completion, for steps whose latest row is a mark (not an undo)."""
    rows = cur.execute(
        "SELECT ref, arg_max(kind, ts), arg_max(role, ts), max(ts) FROM annotations "
        "WHERE kind IN ('runsheet', 'runsheet_undo') AND ref LIKE 'runsheet:%' GROUP BY ref").fetchall()
    return {int(ref.split(":", 1)[1]): Completion(role, from_db_ts(ts))
            for ref, kind, role, ts in rows if kind == "runsheet"}


def _write(store: Store, cfg: WarroomConfig, index: int, role: str, now: datetime, kind: str, text: str) -> None:
    store.execute("INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  [to_db_ts(now), cfg.people[role].name, role, None, None, kind, text, f"runsheet:{index}"])


def mark_done(store: Store, cfg: WarroomConfig, index: int, role: str, now: datetime) -> Completion:
    """Record step `index` as done, confirmed by `role`; 409 when it already is (a double tap)."""
    step = cfg.campaign.run_sheet[index]
    held = completions(store.reader()).get(index)
    if held is not None:
        raise RunSheetRefused(409, f"step {index} is already done (by {held.role} at {held.at.isoformat()})")
    who = role if role == step.owner else f"{role} for {step.owner}"
    _write(store, cfg, index, role, now, "runsheet", f"done: {step.action} (confirmed by {who})")
    return Completion(role, now)


def undo(store: Store, cfg: WarroomConfig, index: int, role: str, now: datetime) -> Completion:
    """Take back the mark on step `index` within UNDO_WINDOW_S; 409 when it is not done or too old."""
    step = cfg.campaign.run_sheet[index]
    held = completions(store.reader()).get(index)
    if held is None:
        raise RunSheetRefused(409, f"step {index} is not done, nothing to undo")
    if now > held.undo_until():
        raise RunSheetRefused(409, f"step {index} was marked done at {held.at.isoformat()}; undo is possible for "
                                   f"{UNDO_WINDOW_S:g}s only, record a decision instead")
    _write(store, cfg, index, role, now, "runsheet_undo", f"undone: {step.action} (marked by {held.role})")
    return held
