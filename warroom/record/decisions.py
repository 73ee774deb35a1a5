"""The decision log (table `annotations`) and run-sheet completions: who decided what, and when.

Marking a run-sheet step done (warroom.runsheet) is a decision-log row of kind `runsheet`, an undo one
of kind `runsheet_undo`; the run sheet at any moment is the configured steps with the latest of those
rows written by then.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from warroom.config.models import WarroomConfig
from warroom.record import runsheet as sheet
from warroom.store.database import Store
from warroom.store.schema import from_db_ts, to_db_ts

KINDS = ("decision", "note", "silence", "runsheet")


def record(store: Store, ts: datetime, author: str, text: str, *, role: str | None = None,
           level: str | None = None, alert_id: int | None = None, kind: str = "decision",
           ref: str | None = None) -> None:
    """Append one row to the decision log."""
    store.execute("INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  [to_db_ts(ts), author, role, level, alert_id, kind, text, ref])


def between(cur: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Decision-log rows in [start, end], oldest first, in the API's form."""
    rows = cur.execute("SELECT ts, author, role, level, alert_id, kind, text, ref FROM annotations "
                       "WHERE ts >= ? AND ts <= ? ORDER BY ts", [to_db_ts(start), to_db_ts(end)]).fetchall()
    return [{"ts": from_db_ts(r[0]).isoformat(), "author": r[1], "role": r[2], "level": r[3], "alert_id": r[4],
             "kind": r[5], "text": r[6], "ref": r[7]} for r in rows]


def completions(cur: duckdb.DuckDBPyConnection, since: datetime, at: datetime) -> dict[int, sheet.Completion]:
    """Step index → its completion as it stood at `at`: the latest mark or undo in [since, at] (warroom.runsheet)."""
    rows = cur.execute(
        "SELECT ref, arg_max(kind, ts), arg_max(role, ts), max(ts) FROM annotations "
        "WHERE kind IN ('runsheet', 'runsheet_undo') AND ref LIKE 'runsheet:%' AND ts >= ? AND ts <= ? GROUP BY ref",
        [to_db_ts(since), to_db_ts(at)]).fetchall()
    return {int(ref.split(":", 1)[1]): sheet.Completion(role, from_db_ts(ts))
            for ref, kind, role, ts in rows if kind == "runsheet"}


def run_sheet(cur: duckdb.DuckDBPyConnection, cfg: WarroomConfig, anchor: datetime, now: datetime) -> list[dict]:
    """The run sheet as it stood at `now`: planned time (relative ones from the campaign's anchor), done marks."""
    done = completions(cur, anchor - timedelta(days=1), now)
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
                      "done_at": mark.at.isoformat() if mark else None,
                      "undo_until": mark.undo_until().isoformat() if mark else None})
    return steps
