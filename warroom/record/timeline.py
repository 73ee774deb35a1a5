"""The night in time order: level transitions, alert events and decisions, and each metric's level bands.

One query per source, each bounded by ts; the replay page fetches this once per window and the
report reads the same answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from warroom.config.models import WarroomConfig
from warroom.record.views import transitions_at
from warroom.store.schema import from_db_ts, to_db_ts


def _iso(ts: datetime) -> str:
    return from_db_ts(ts).isoformat()


def events(cur: duckdb.DuckDBPyConnection, cfg: WarroomConfig, start: datetime, end: datetime,
           levels: bool = True) -> list[dict[str, Any]]:
    """Alert events, decision-log rows and (with `levels`) level transitions in [start, end], oldest first."""
    lo, hi = to_db_ts(start), to_db_ts(end)
    out: list[tuple[datetime, int, dict[str, Any]]] = []
    for ts, alert_id, event, level, role, person, channel, ok, detail, metric, kind in cur.execute(
            """SELECT e.ts, e.alert_id, e.event, e.level, e.role, e.person, e.channel, e.ok, e.detail, a.metric, a.kind
               FROM alert_events e LEFT JOIN alerts a ON a.id = e.alert_id
               WHERE e.ts >= ? AND e.ts <= ? ORDER BY e.ts""", [lo, hi]).fetchall():
        who = person or _name(cfg, role)
        out.append((ts, 1, {"ts": _iso(ts), "source": "alert", "kind": event, "alert_id": alert_id, "metric": metric,
                            "alert_kind": kind, "level": level, "role": role, "who": who, "channel": channel,
                            "ok": ok, "what": detail or event}))
    for ts, author, role, level, alert_id, kind, text, ref, via in cur.execute(
            """SELECT ts, author, role, level, alert_id, kind, text, ref, via FROM annotations
               WHERE ts >= ? AND ts <= ? ORDER BY ts""", [lo, hi]).fetchall():
        out.append((ts, 2, {"ts": _iso(ts), "source": "runsheet" if kind == "runsheet" else "decision", "kind": kind,
                            "alert_id": alert_id, "metric": None, "level": level, "role": role, "who": author,
                            "what": text, "ref": ref, "via": via}))
    transitions = cur.execute(
        """SELECT ts, metric, level, stale, owner_role, owner_name, detail FROM level_changes
           WHERE ts >= ? AND ts <= ? ORDER BY ts""", [lo, hi]).fetchall() if levels else []
    for ts, metric, level, stale, role, name, detail in transitions:
        out.append((ts, 0, {"ts": _iso(ts), "source": "level", "kind": "stale" if stale else level, "metric": metric,
                            "level": level, "stale": stale, "role": role, "who": name, "what": detail or
                            ("stale" if stale else level)}))
    out.sort(key=lambda item: (item[0], item[1]))
    return [item[2] for item in out]


def _name(cfg: WarroomConfig, role: str | None) -> str | None:
    person = cfg.people.get(role or "")
    return person.name if person else role


def bands(cur: duckdb.DuckDBPyConnection, cfg: WarroomConfig, start: datetime, end: datetime,
          since: datetime) -> dict[str, list[dict[str, Any]]]:
    """Per metric, the spans of [start, end] at each level ('stale' when no data), from the transitions."""
    first = transitions_at(cur, start, since, list(cfg.metrics))
    out: dict[str, list[dict[str, Any]]] = {m: [] for m in cfg.metrics}
    current: dict[str, tuple[datetime, str]] = {}
    for metric, (_, level, stale, *_rest) in first.items():
        current[metric] = (start, "stale" if stale else level)
    rows = cur.execute(
        """SELECT metric, ts, level, stale FROM level_changes WHERE ts > ? AND ts <= ?
           AND metric IN (SELECT unnest(?)) ORDER BY ts, rowid""",
        [to_db_ts(start), to_db_ts(end), list(cfg.metrics)]).fetchall()
    for metric, ts, level, stale in rows:
        word = "stale" if stale else level
        moment = from_db_ts(ts)
        held = current.get(metric)
        if held is not None and held[1] == word:
            continue
        if held is not None and moment > held[0]:
            out[metric].append({"from": held[0].isoformat(), "to": moment.isoformat(), "level": held[1]})
        current[metric] = (moment, word)
    for metric, (began, word) in current.items():
        if end > began:
            out[metric].append({"from": began.isoformat(), "to": end.isoformat(), "level": word})
    return out


def time_at_levels(spans: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds spent at each level in a list of bands."""
    out: dict[str, float] = {}
    for span in spans:
        seconds = (datetime.fromisoformat(span["to"]) - datetime.fromisoformat(span["from"])).total_seconds()
        out[span["level"]] = out.get(span["level"], 0.0) + seconds
    return out
