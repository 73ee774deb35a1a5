"""The decision log (table `annotations`) and run-sheet completions: who decided what, and when.

Marking a run-sheet step done (warroom.runsheet) is a decision-log row of kind `runsheet`, an undo one
of kind `runsheet_undo`; the run sheet at any moment is the configured steps with the latest of those
rows written by then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

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
