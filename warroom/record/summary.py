"""Whole-window summaries of the record for the report: the outcome against the KPI, peaks, collector health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from warroom.config.models import WarroomConfig
from warroom.store.schema import first_row, from_db_ts, to_db_ts


def _iso(ts: datetime | None) -> str | None:
    return from_db_ts(ts).isoformat() if ts is not None else None


def outcome(cur: duckdb.DuckDBPyConnection, cfg: WarroomConfig, start: datetime, end: datetime) -> dict[str, Any]:
    """The KPI's last value against its target and when it was crossed; each metric's worst value and when."""
    lo, hi = to_db_ts(start), to_db_ts(end)
    kpi = cfg.campaign.kpi
    kpi_json = None
    if kpi is not None:
        last = first_row(cur.execute("SELECT max(ts), arg_max(value, ts) FROM samples WHERE metric = ? "
                                     "AND ts >= ? AND ts <= ?", [kpi.metric, lo, hi]))
        crossed = first_row(cur.execute("SELECT min(ts) FROM samples WHERE metric = ? AND value >= ? "
                                        "AND ts >= ? AND ts <= ?", [kpi.metric, kpi.target, lo, hi]))
        value = last[1] if last and last[0] is not None else None
        kpi_json = {"metric": kpi.metric, "title": kpi.title, "target": kpi.target, "value": value,
                    "ts": _iso(last[0]) if last else None, "met": value is not None and value >= kpi.target,
                    "crossed_at": _iso(crossed[0]) if crossed else None}
    rows = cur.execute(
        """SELECT metric, arg_max(ts, value), max(value), arg_min(ts, value), min(value), count(*)
           FROM samples WHERE ts >= ? AND ts <= ? AND metric IN (SELECT unnest(?)) GROUP BY metric""",
        [lo, hi, list(cfg.metrics)]).fetchall()
    peaks = {}
    for metric, max_ts, max_v, min_ts, min_v, n in rows:
        below = cfg.metrics[metric].direction == "below"
        peaks[metric] = {"value": min_v if below else max_v, "ts": _iso(min_ts if below else max_ts), "samples": n}
    return {"from": start.isoformat(), "to": end.isoformat(), "kpi": kpi_json, "peaks": peaks}


def collector_health(cur: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per collector: polls, failures, the longest gap between two polls (and when), the commonest reasons."""
    lo, hi = to_db_ts(start), to_db_ts(end)
    rows = cur.execute(
        """WITH r AS (
               SELECT collector, ts, ok, duration_s, error,
                      epoch_us(ts) - epoch_us(lag(ts) OVER (PARTITION BY collector ORDER BY ts)) AS gap_us
               FROM collector_runs WHERE ts >= ? AND ts <= ?)
           SELECT collector, count(*), count(*) FILTER (WHERE NOT ok), max(gap_us) / 1e6, arg_max(ts, gap_us),
                  quantile_cont(duration_s, 0.5), max(duration_s)
           FROM r GROUP BY collector ORDER BY collector""", [lo, hi]).fetchall()
    reasons = cur.execute(
        """SELECT collector, error, count(*) AS n, min(ts), max(ts) FROM collector_runs
           WHERE ts >= ? AND ts <= ? AND NOT ok GROUP BY ALL ORDER BY collector, n DESC""", [lo, hi]).fetchall()
    why: dict[str, list[dict[str, Any]]] = {}
    for collector, error, n, first, last in reasons:
        if len(why.setdefault(collector, [])) < 3:
            why[collector].append({"error": error, "count": n, "first": _iso(first), "last": _iso(last)})
    return [{"collector": c, "polls": polls, "failed": failed, "longest_gap_s": gap, "gap_ended_at": _iso(gap_at),
             "p50_duration_s": p50, "max_duration_s": worst, "reasons": why.get(c, [])}
            for c, polls, failed, gap, gap_at, p50, worst in rows]
