"""The decision log (table `annotations`): who decided what, and when. This module is its only writer.

Decisions and notes, silences, stand-ins (kind `duty`) and run-sheet marks (warroom.record.runsheet:
kinds `runsheet` and `runsheet_undo`) are all rows here, so the night reads as one log. Each row says who
(`author`, the person's name; `role`) and where it came from (`via`): `board` (a person signed in on the
board), `wall:NAME` (a trusted wall screen, which knows no person), `link` (a personal ack link) or `api`
(a machine with the board token: scripts, the command line).
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
           ref: str | None = None, via: str | None = None) -> None:
    """Append one row to the decision log."""
    store.record("annotations", [to_db_ts(ts), author, role, level, alert_id, kind, text, ref, via],
                 "ts, author, role, level, alert_id, kind, text, ref, via")


def between(cur: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Decision-log rows in [start, end], oldest first, in the API's form."""
    rows = cur.execute("SELECT ts, author, role, level, alert_id, kind, text, ref, via FROM annotations "
                       "WHERE ts >= ? AND ts <= ? ORDER BY ts, rowid", [to_db_ts(start), to_db_ts(end)]).fetchall()
    return [{"ts": from_db_ts(r[0]).isoformat(), "author": r[1], "role": r[2], "level": r[3], "alert_id": r[4],
             "kind": r[5], "text": r[6], "ref": r[7], "via": r[8]} for r in rows]
