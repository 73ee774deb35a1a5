"""Read queries over the store. Every one is bounded by ts, so zone maps skip the rest of the night."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import duckdb

from warroom.store.schema import SANE_FROM, SANE_TO, first_row, from_db_ts, to_db_ts
from warroom.values import RunRecord

Point = tuple[datetime, float]


def latest_at(
    cur: duckdb.DuckDBPyConnection, at: datetime, lookback_s: float, metrics: Sequence[str] | None = None
) -> dict[str, Point]:
    """The last value of each metric at or before `at`, looking back at most `lookback_s`."""
    sql = ("SELECT metric, max(ts), arg_max(value, ts) FROM samples WHERE ts > ? AND ts <= ?"
           + (" AND metric IN (SELECT unnest(?))" if metrics else "") + " GROUP BY metric")
    params: list[object] = [to_db_ts(at - timedelta(seconds=lookback_s)), to_db_ts(at)]
    if metrics:
        params.append(list(metrics))
    return {m: (from_db_ts(ts), v) for m, ts, v in cur.execute(sql, params).fetchall()}


def value_at(cur: duckdb.DuckDBPyConnection, metric: str, at: datetime, lookback_s: float) -> Point | None:
    """The last value of one metric at or before `at` within the lookback."""
    row = first_row(cur.execute(
        "SELECT max(ts), arg_max(value, ts) FROM samples WHERE metric = ? AND ts > ? AND ts <= ?",
        [metric, to_db_ts(at - timedelta(seconds=lookback_s)), to_db_ts(at)],
    ))
    return None if row is None or row[0] is None else (from_db_ts(row[0]), row[1])


def first_value_after(cur: duckdb.DuckDBPyConnection, metric: str, start: datetime, end: datetime) -> Point | None:
    """The first value of one metric after `start` and at or before `end`."""
    row = first_row(cur.execute(
        "SELECT min(ts), arg_min(value, ts) FROM samples WHERE metric = ? AND ts > ? AND ts <= ?",
        [metric, to_db_ts(start), to_db_ts(end)],
    ))
    return None if row is None or row[0] is None else (from_db_ts(row[0]), row[1])


def series(
    cur: duckdb.DuckDBPyConnection, metrics: Sequence[str], start: datetime, end: datetime, points: int,
    rolled_until: datetime | None = None, iso: bool = False,
) -> dict[str, list[tuple[Any, float]]]:
    """At most `points` points per metric between start and end (timestamps as ISO text when `iso`).

    Downsampling happens in DuckDB: the window is cut into points/2 buckets and each keeps its
    minimum and its maximum with their own timestamps, so a one-second 18 s spike survives a
    two-hour chart (an average would smear it into nothing); data sparser than the buckets comes
    back whole. When a bucket spans two minutes or more, minutes already folded into samples_1m
    are read from there instead of raw samples.
    """
    buckets = max(1, max(2, points) // 2)
    lo, hi = to_db_ts(start), to_db_ts(end)
    width_us = max(1, int((end - start).total_seconds() * 1_000_000 / buckets) + 1)
    use_rollup = rolled_until is not None and width_us >= 120_000_000 and rolled_until > start
    split = to_db_ts(min(rolled_until, end)) if use_rollup else lo
    # Without the rollup its range is empty (minute >= trunc(lo) and minute < trunc(lo)).
    roll_hi = split if use_rollup else to_db_ts(start.replace(second=0, microsecond=0))
    names = list(metrics)
    ts_out = "strftime(t, '%Y-%m-%dT%H:%M:%S.%fZ')" if iso else "t"
    rows = cur.execute(
        f"""
        WITH s AS (
            SELECT metric, ts, value FROM samples
            WHERE ts >= ? AND ts <= ? AND metric IN (SELECT unnest(?))
            UNION ALL
            SELECT metric, min_ts, min_value FROM samples_1m
            WHERE minute >= date_trunc('minute', ?::TIMESTAMP) AND minute < ? AND metric IN (SELECT unnest(?))
                  AND min_ts >= ?
            UNION ALL
            SELECT metric, max_ts, max_value FROM samples_1m
            WHERE minute >= date_trunc('minute', ?::TIMESTAMP) AND minute < ? AND metric IN (SELECT unnest(?))
                  AND max_ts >= ?
        ), b AS (
            SELECT metric, (epoch_us(ts) - epoch_us(?::TIMESTAMP)) // ? AS bucket,
                   arg_min(ts, value) AS t_lo, min(value) AS v_lo, arg_max(ts, value) AS t_hi, max(value) AS v_hi
            FROM s GROUP BY ALL
        )
        SELECT metric, {ts_out}, v FROM (
            SELECT metric, t_lo AS t, v_lo AS v FROM b
            UNION ALL SELECT metric, t_hi, v_hi FROM b WHERE t_hi <> t_lo
        ) ORDER BY metric, t
        """,
        [split, hi, names, lo, roll_hi, names, lo, lo, roll_hi, names, lo, lo, width_us],
    ).fetchall()
    out: dict[str, list[tuple[Any, float]]] = {m: [] for m in names}
    if iso:
        for metric, ts, value in rows:
            out[metric].append((ts, value))
    else:
        for metric, ts, value in rows:
            out[metric].append((from_db_ts(ts), value))
    return out


def collector_runs(
    cur: duckdb.DuckDBPyConnection, start: datetime, end: datetime, collector: str | None = None, limit: int = 500
) -> list[RunRecord]:
    """Poll records in a window, newest first."""
    sql = "SELECT ts, collector, ok, duration_s, samples, error FROM collector_runs WHERE ts >= ? AND ts <= ?"
    params: list[object] = [to_db_ts(start), to_db_ts(end)]
    if collector:
        sql += " AND collector = ?"
        params.append(collector)
    sql += " ORDER BY ts DESC LIMIT ?"
    params.append(limit)
    return [RunRecord(from_db_ts(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in cur.execute(sql, params).fetchall()]


def last_runs_at(cur: duckdb.DuckDBPyConnection, at: datetime, lookback_s: float) -> dict[str, RunRecord]:
    """The last poll of each collector at or before `at`."""
    rows = cur.execute(
        """SELECT collector, ts, ok, duration_s, samples, error FROM collector_runs
           WHERE ts > ? AND ts <= ?
           QUALIFY row_number() OVER (PARTITION BY collector ORDER BY ts DESC) = 1""",
        [to_db_ts(at - timedelta(seconds=lookback_s)), to_db_ts(at)],
    ).fetchall()
    return {r[0]: RunRecord(from_db_ts(r[1]), r[0], r[2], r[3], r[4], r[5]) for r in rows}


def sample_bounds(cur: duckdb.DuckDBPyConnection) -> tuple[datetime | None, datetime | None]:
    """First and last sample time in the file (for replay of an archive)."""
    lo, hi = first_row(cur.execute("SELECT min(ts), max(ts) FROM samples WHERE ts >= ? AND ts < ?",
                                   [SANE_FROM, SANE_TO]))
    return from_db_ts(lo), from_db_ts(hi)


def last_stamp(cur: duckdb.DuckDBPyConnection) -> datetime | None:
    """The newest moment the record holds (samples, level changes, alert steps, poll runs), or None when empty."""
    newest = None
    for table in ("samples", "level_changes", "alert_events", "collector_runs"):
        row = first_row(cur.execute(f"SELECT max(ts) FROM {table} WHERE ts >= ? AND ts < ?", [SANE_FROM, SANE_TO]))
        if row and row[0] is not None and (newest is None or row[0] > newest):
            newest = row[0]
    return from_db_ts(newest)
