"""What the wall showed of every metric at a past moment, rebuilt from the record (not recomputed).

The live engine writes a `level_changes` row whenever a metric's level, stale flag or decider
changes; samples carry the moment warroom learned them. So the view at T is the last level_changes
row at or before T (level, stale, owner) with the last sample known by T (value and its time).
A metric without any level_changes row (a v1 archive, or a metric the engine has not judged yet)
falls back to the level of its raw value and its age, as v1 replay did; the tile says so in `note`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import duckdb

from alerts.levels import raw_level
from warroom.config.models import WarroomConfig
from warroom.store.queries import Point, latest_at
from warroom.store.schema import from_db_ts, to_db_ts
from warroom.values import Level, MetricView

# How far back the looks for a metric's last value go, in turn; older values are found by a last
# query bounded by the start of the record, so a value the wall still showed (stale) is not lost.
LOOKBACK_S = 3600.0
LOOKBACKS_S = (120.0, LOOKBACK_S)
RECOMPUTED = "recomputed"
# How long after a sample was learned the engine may still be applying it (a loaded machine).
APPLY_WINDOW_S = 5.0
WATCH_ENDED = "watch_ended"


def transitions_at(cur: duckdb.DuckDBPyConnection, at: datetime, since: datetime,
                   metrics: Sequence[str]) -> dict[str, tuple]:
    """The last level_changes row per metric in [since, at]: (ts, level, stale, role, name, detail, value)."""
    rows = cur.execute(
        """SELECT metric, ts, level, stale, owner_role, owner_name, detail, value FROM level_changes
           WHERE ts >= ? AND ts <= ? AND metric IN (SELECT unnest(?))
           QUALIFY row_number() OVER (PARTITION BY metric ORDER BY ts DESC, rowid DESC) = 1""",
        [to_db_ts(since), to_db_ts(at), list(metrics)]).fetchall()
    return {r[0]: (from_db_ts(r[1]), r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows}


def values_at(cur: duckdb.DuckDBPyConnection, at: datetime, since: datetime,
              metrics: Sequence[str]) -> dict[str, Point]:
    """The last sample of each metric known by `at`, not before `since`."""
    span = max(0.0, (at - since).total_seconds())
    found: dict[str, Point] = {}
    done = 0.0
    # Most metrics have a sample seconds ago: look back a little first, further only for the rest.
    for reach in (*LOOKBACKS_S, span):
        reach = min(reach, span)
        missing = [m for m in metrics if m not in found]
        if not missing or reach <= done:
            continue
        found.update(latest_at(cur, at - timedelta(seconds=done), reach - done, missing))
        done = reach
    return found


def not_yet_applied(cur: duckdb.DuckDBPyConnection, at: datetime, since: datetime,
                    values: dict[str, Point], changes: dict[str, tuple]) -> dict[str, Point | None]:
    """Samples known by `at` that the engine had not applied yet: the transition they caused comes after `at`.

    A sample is stamped when warroom learned it; the engine applies it a moment later (longer under
    load) and writes the transition it causes then. Until that moment the wall showed the value before.
    Only a transition a sample can cause counts: a new level, or back from stale. The timer's rows (going
    stale, the watch ending, a new decider) carry the value already shown, so they say nothing of it.
    """
    after = cur.execute(
        """SELECT metric, arg_min(value, ts), arg_min(level, ts), arg_min(stale, ts), arg_min(detail, ts)
           FROM level_changes WHERE ts > ? AND ts <= ? AND metric IN (SELECT unnest(?)) GROUP BY metric""",
        [to_db_ts(at), to_db_ts(at + timedelta(seconds=APPLY_WINDOW_S)), list(values)]).fetchall()

    def caused_by_a_sample(metric: str, level: str, stale: bool, note: str | None) -> bool:
        before = changes.get(metric)
        return not stale and note != WATCH_ENDED and (before is None or before[2] or before[1] != level)

    late = [m for m, value, level, stale, note in after if value is not None and value == values[m][1]
            and (m not in changes or changes[m][0] < values[m][0]) and caused_by_a_sample(m, level, stale, note)]
    before: dict[str, Point | None] = {}
    for metric in late:
        ts = values[metric][0]
        row = cur.execute("SELECT max(ts), arg_max(value, ts) FROM samples WHERE metric = ? AND ts >= ? AND ts < ?",
                          [metric, to_db_ts(max(since, ts - timedelta(seconds=LOOKBACK_S))), to_db_ts(ts)]).fetchall()
        before[metric] = (from_db_ts(row[0][0]), row[0][1]) if row and row[0][0] is not None else None
    return before


def views_at(cur: duckdb.DuckDBPyConnection, cfg: WarroomConfig, at: datetime,
             since: datetime) -> dict[str, MetricView]:
    """One MetricView per configured metric as the wall showed it at `at` (since = start of the record)."""
    metrics = list(cfg.metrics)
    changes = transitions_at(cur, at, since, metrics)
    values = values_at(cur, at, since, metrics)
    for metric, point in not_yet_applied(cur, at, since, values, changes).items():
        if point is None:
            values.pop(metric, None)
        else:
            values[metric] = point
    views: dict[str, MetricView] = {}
    for metric in metrics:
        point = values.get(metric)
        value, ts = (point[1], point[0]) if point else (None, None)
        change = changes.get(metric)
        if change is not None:
            changed, level, stale, role, name, detail, shown = change
            if shown is None and (ts is None or ts <= changed):
                # The wall showed no number since this change (e.g. no_traffic: NaN samples are not stored).
                value, ts = None, changed
            views[metric] = MetricView(metric, value, ts, level, bool(stale), role, name, changed, detail)
            continue
        views[metric] = recomputed_view(cfg, metric, point, at)
    return views


def recomputed_view(cfg: WarroomConfig, metric: str, point: Point | None, at: datetime) -> MetricView:
    """The v1 way: the raw value's level, stale by age; only for metrics with no recorded transition."""
    if point is None:
        return MetricView(metric, None, None, "green", True, None, None, None, RECOMPUTED)
    ts, value = point
    stale = (at - ts).total_seconds() > cfg.stale_after(metric)
    level = raw_level(value, cfg.metrics[metric].rule())
    role = cfg.owner_role(metric, level) if level > Level.GREEN else None
    person = cfg.people.get(role or "")
    return MetricView(metric, value, ts, level.word, stale, role, person.name if person else None, None, RECOMPUTED)
