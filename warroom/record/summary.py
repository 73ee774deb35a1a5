"""Whole-window summaries of the record for the report: the outcome against the KPI, peaks, collector health."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from alerts.levels import raw_level
from warroom.config.models import WarroomConfig
from warroom.store.schema import first_row, from_db_ts, to_db_ts
from warroom.values import Level

# The pace at the close is measured as the header measures it: over the last five minutes.
PACE_WINDOW = timedelta(minutes=5)
# How far before an alert opened its breach is looked for (a `for` of minutes, a slow probe).
BREACH_LOOKBACK = timedelta(hours=1)


def _iso(ts: datetime | None) -> str | None:
    return from_db_ts(ts).isoformat() if ts is not None else None


def outcome(cur: duckdb.DuckDBPyConnection, cfg: WarroomConfig, start: datetime, end: datetime,
            close: datetime | None = None) -> dict[str, Any]:
    """The KPI's own line (final value, when the target was reached, the pace at the `close`); each metric's worst
    value and when (only metrics with levels have a worst; a counter's is its last); each alert's breach."""
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
                    "crossed_at": _iso(crossed[0]) if crossed else None,
                    **_pace(cur, kpi.metric, min(close or end, end))}
    rows = cur.execute(
        """SELECT metric, arg_max(ts, value), max(value), arg_min(ts, value), min(value), count(*)
           FROM samples WHERE ts >= ? AND ts <= ? AND metric IN (SELECT unnest(?)) GROUP BY metric
           ORDER BY metric""",
        [lo, hi, list(cfg.metrics)]).fetchall()
    peaks, finals = {}, {}
    for metric, max_ts, max_v, min_ts, min_v, n in rows:
        spec = cfg.metrics[metric]
        if spec.yellow is None and spec.orange is None and spec.red is None:
            finals[metric] = metric
            continue
        below = spec.direction == "below"
        peaks[metric] = {"value": min_v if below else max_v, "ts": _iso(min_ts if below else max_ts), "samples": n}
    lasts = {}
    if finals:
        for metric, last_ts, last_v, n in cur.execute(
                "SELECT metric, max(ts), arg_max(value, ts), count(*) FROM samples WHERE ts >= ? AND ts <= ? "
                "AND metric IN (SELECT unnest(?)) GROUP BY metric ORDER BY metric", [lo, hi, list(finals)]).fetchall():
            lasts[metric] = {"value": last_v, "ts": _iso(last_ts), "samples": n}
    return {"from": start.isoformat(), "to": end.isoformat(), "kpi": kpi_json, "peaks": peaks, "finals": lasts,
            "close": close.isoformat() if close else None, "breaches": breaches(cur, cfg, start, end),
            "stand_ins": stand_ins(cur, start, end)}


def stand_ins(cur: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Every stand-in set or ended in the window, as the duty table holds it."""
    rows = cur.execute("SELECT ts, role, name, phone, person, until_ts, set_by, cleared FROM duty "
                       "WHERE ts >= ? AND ts <= ? ORDER BY ts, rowid", [to_db_ts(start), to_db_ts(end)]).fetchall()
    return [{"ts": _iso(ts), "role": role, "name": name, "phone": phone, "person": person, "until": _iso(until),
             "by": by, "ended": bool(cleared)} for ts, role, name, phone, person, until, by, cleared in rows]


def _pace(cur: duckdb.DuckDBPyConnection, metric: str, close: datetime) -> dict[str, Any]:
    """Per minute over the PACE_WINDOW before `close`; None over a reset (a counter that went down)."""
    now, before = first_row(cur.execute(
        "SELECT arg_max(value, ts) FILTER (WHERE ts <= ?), arg_max(value, ts) FILTER (WHERE ts <= ?) FROM samples "
        "WHERE metric = ? AND ts >= ? AND ts <= ?",
        [to_db_ts(close), to_db_ts(close - PACE_WINDOW), metric, to_db_ts(close - PACE_WINDOW - PACE_WINDOW),
         to_db_ts(close)]))
    per_minute = None
    if now is not None and before is not None and now >= before:
        per_minute = (now - before) / (PACE_WINDOW.total_seconds() / 60)
    return {"pace_per_minute": per_minute, "pace_at": close.isoformat(), "pace_window_s": PACE_WINDOW.total_seconds()}


def breaches(cur: duckdb.DuckDBPyConnection, cfg: WarroomConfig, start: datetime,
             end: datetime) -> dict[str, dict[str, Any]]:
    """Per level alert of the window: when its target went bad as far as warroom can tell (the start of the poll
    that first found it over a line, in this episode) and when warroom knew (that poll's end, the sample's stamp)."""
    out: dict[str, dict[str, Any]] = {}
    alerts = cur.execute(
        "SELECT id, metric, opened_at FROM alerts WHERE kind = 'level' AND opened_at <= ? "
        "AND (resolved_at IS NULL OR resolved_at >= ?) ORDER BY id", [to_db_ts(end), to_db_ts(start)]).fetchall()
    feeders = cfg.feeders()
    for alert_id, metric, opened_at in alerts:
        spec = cfg.metrics.get(metric)
        if spec is None:
            continue
        rule = spec.rule()
        rows = cur.execute("SELECT ts, value FROM samples WHERE metric = ? AND ts >= ? AND ts <= ? "
                           "ORDER BY ts DESC LIMIT 20000",
                           [metric, opened_at - BREACH_LOOKBACK, opened_at]).fetchall()
        known = None
        for ts, value in rows:
            if raw_level(value, rule) == Level.GREEN:
                break
            known = ts
        if known is None:
            continue
        feeder = feeders.get(metric)
        poll = first_row(cur.execute("SELECT max(duration_s) FROM collector_runs WHERE collector = ? AND ts = ?",
                                     [feeder.name, known])) if feeder else None
        poll_s = poll[0] if poll and poll[0] is not None else None
        out[str(alert_id)] = {"known_at": _iso(known), "poll_s": poll_s, "collector": feeder.name if feeder else None,
                              "breach_at": _iso(known - timedelta(seconds=poll_s or 0.0))}
    return out


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
           WHERE ts >= ? AND ts <= ? AND NOT ok GROUP BY ALL ORDER BY collector, n DESC, error""", [lo, hi]).fetchall()
    why: dict[str, list[dict[str, Any]]] = {}
    for collector, error, n, first, last in reasons:
        if len(why.setdefault(collector, [])) < 3:
            why[collector].append({"error": error, "count": n, "first": _iso(first), "last": _iso(last)})
    return [{"collector": c, "polls": polls, "failed": failed, "longest_gap_s": gap, "gap_ended_at": _iso(gap_at),
             "p50_duration_s": p50, "max_duration_s": worst, "reasons": why.get(c, [])}
            for c, polls, failed, gap, gap_at, p50, worst in rows]
