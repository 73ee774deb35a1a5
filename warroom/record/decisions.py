"""The decision log (table `annotations`) and run-sheet completions: who decided what, and when.

Marking a run-sheet step done is a decision-log row of kind `runsheet` with ref `runsheet:<index>`;
the run sheet at any moment is the configured steps with the completions written by then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from warroom.config import WarroomConfig
from warroom.store import Store, from_db_ts, to_db_ts

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


def step_done(store: Store, cfg: WarroomConfig, index: int, role: str, ts: datetime) -> None:
    """Record a run-sheet step as done by `role`."""
    step = cfg.campaign.run_sheet[index]
    record(store, ts, cfg.people[role].name, f"done: {step.action}", role=role, kind="runsheet",
           ref=f"runsheet:{index}")


def completions(cur: duckdb.DuckDBPyConnection, since: datetime, at: datetime) -> dict[str, tuple[str, datetime]]:
    """ref → (role, when) of run-sheet steps marked done in [since, at]; the first mark counts."""
    rows = cur.execute("SELECT ref, arg_min(role, ts), min(ts) FROM annotations WHERE kind = 'runsheet' "
                       "AND ts >= ? AND ts <= ? GROUP BY ref", [to_db_ts(since), to_db_ts(at)]).fetchall()
    return {r[0]: (r[1], from_db_ts(r[2])) for r in rows}


def run_sheet(cur: duckdb.DuckDBPyConnection, cfg: WarroomConfig, anchor: datetime, now: datetime) -> list[dict]:
    """The run sheet as it stood at `now`: planned time (relative ones from the campaign's first start), done marks."""
    done = completions(cur, anchor, now)
    steps = []
    for i, step in enumerate(cfg.campaign.run_sheet):
        at = cfg.campaign.resolve_moment(step.at, anchor)
        by, when = done.get(f"runsheet:{i}", (None, None))
        person = cfg.people.get(step.owner)
        steps.append({"index": i, "at": at.isoformat(), "action": step.action,
                      "owner": {"role": step.owner, "name": person.name if person else step.owner,
                                "phone": person.phone if person else ""},
                      "seconds_until": round((at - now).total_seconds(), 1),
                      "done": by is not None, "done_by": by, "done_at": when.isoformat() if when else None})
    return steps
