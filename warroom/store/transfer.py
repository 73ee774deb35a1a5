"""Export and import of a night's record over store.SCHEMA: one function per format, DuckDB COPY underneath.

Export writes samples, level transitions, alerts, alert events and decisions (CSV or Parquet) from a
file opened read-only. Import loads samples (`ts, metric, value`) from CSV, Parquet or a Prometheus
range query into a file, all or nothing: the first bad row is refused with its row number and the
transaction is rolled back. Timestamps in exported files are UTC; imported ones without an offset
are read as UTC.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import requests

from warroom.store.database import Store
from warroom.store.migrate import tables
from warroom.store.schema import first_row

# Table → the WHERE clause bounding it by time (start, end as parameters).
EXPORTED = {
    "samples": "ts >= ? AND ts <= ?",
    "level_changes": "ts >= ? AND ts <= ?",
    "alerts": "opened_at <= ? AND (resolved_at IS NULL OR resolved_at >= ?)",
    "alert_events": "ts >= ? AND ts <= ?",
    "annotations": "ts >= ? AND ts <= ?",
}
FORMATS = {"parquet": "(FORMAT PARQUET, COMPRESSION ZSTD)", "csv": "(FORMAT CSV, HEADER)"}


class ImportRefused(Exception):
    """A source that cannot be imported; the message names the row (1 = first data row) and why."""


def export(db: Path, out: Path, fmt: str, start: datetime | None = None, end: datetime | None = None) -> dict[str, int]:
    """COPY each table of the record (bounded by time) into `out`/<table>.<fmt>; returns rows per table."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=True)
    try:
        present = tables(con)
        lo = start.replace(tzinfo=None) if start else datetime(1970, 1, 1)
        hi = end.replace(tzinfo=None) if end else datetime(9999, 1, 1)
        counts = {}
        for table, where in EXPORTED.items():
            if table not in present:
                continue  # a v1 file has no level_changes
            params = [hi, lo] if table == "alerts" else [lo, hi]
            order = "opened_at" if table == "alerts" else "ts"
            target = out / f"{table}.{fmt}"
            rows = first_row(con.execute(
                f"COPY (SELECT * FROM {table} WHERE {where} ORDER BY {order}) TO '{_quoted(target)}' {FORMATS[fmt]}",
                params))
            counts[table] = int(rows[0]) if rows else 0
        return counts
    finally:
        con.close()


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _source_relation(path: Path) -> str:
    """The SQL that reads a CSV (every column as text) or Parquet file, with a 1-based row number."""
    name = _quoted(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"(SELECT *, file_row_number + 1 AS wr_row FROM read_parquet('{name}', file_row_number = true))"
    return f"(SELECT *, row_number() OVER () AS wr_row FROM read_csv('{name}', header = true, all_varchar = true))"


def _columns(types: dict[str, str]) -> tuple[str, str, str]:
    """SQL for ts (as naive UTC), value (as DOUBLE), and each row's first problem (NULL when none).

    Typed Parquet columns are used as they are, with no round trip through text: that is what keeps a
    checked import above a million samples a second. Text columns (CSV) are converted with TRY_CAST,
    so a bad cell is a NULL the check names, never an error half-way through.
    """
    ts_type, value_type = types["ts"].upper(), types["value"].upper()
    if ts_type == "TIMESTAMP WITH TIME ZONE":
        ts, ts_bad = "timezone('UTC', ts)", "ts IS NULL"
    elif ts_type.startswith("TIMESTAMP") or ts_type == "DATE":
        ts, ts_bad = "CAST(ts AS TIMESTAMP)", "ts IS NULL"
    else:
        ts = "timezone('UTC', TRY_CAST(CAST(ts AS VARCHAR) AS TIMESTAMPTZ))"
        ts_bad = f"ts IS NULL OR {ts} IS NULL"
    numeric = value_type in ("DOUBLE", "FLOAT", "REAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT",
                             "UBIGINT", "UINTEGER") or value_type.startswith("DECIMAL")
    if numeric:
        value, empty = "CAST(value AS DOUBLE)", "value IS NULL"
    else:
        value, empty = "TRY_CAST(trim(CAST(value AS VARCHAR)) AS DOUBLE)", "value IS NULL OR trim(value) = ''"
    checks = f"""CASE
    WHEN metric IS NULL OR trim(CAST(metric AS VARCHAR)) = '' THEN 'metric is empty'
    WHEN {empty} THEN 'value is empty'
    WHEN {value} IS NULL THEN 'value ' || CAST(value AS VARCHAR) || ' is not a number'
    WHEN NOT isfinite({value}) THEN 'value ' || CAST(value AS VARCHAR) || ' is not finite'
    WHEN {ts_bad} THEN 'ts ' || coalesce(CAST(ts AS VARCHAR), 'is empty') || ' is not a time'
    END"""
    return ts, value, checks


def import_file(store: Store, path: Path) -> int:
    """Load `ts, metric, value` rows from a CSV or Parquet file; all or nothing."""
    if not path.exists():
        raise ImportRefused(f"{path}: no such file")
    cur = store.reader()
    cur.execute("SET TimeZone = 'UTC'")  # a time without an offset is UTC
    relation = _source_relation(path)
    try:
        types = {r[0].lower(): r[1] for r in cur.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    except duckdb.Error as err:
        raise ImportRefused(f"{path}: cannot be read ({str(err).splitlines()[0]})") from None
    missing = [c for c in ("ts", "metric", "value") if c not in types]
    if missing:
        raise ImportRefused(f"{path}: missing column {missing[0]!r} (a sample file has ts, metric, value)")
    return _load(cur, store, relation, str(path), *_columns(types))


def _load(cur: duckdb.DuckDBPyConnection, store: Store, relation: str, what: str, ts: str, value: str,
          checks: str) -> int:
    """One pass checks every row (and measures the range); a second inserts them in time order; one transaction."""
    cur.execute("BEGIN")
    try:
        try:
            bad_row, problem, n, lo, hi = first_row(cur.execute(
                f"SELECT min(wr_row) FILTER (WHERE problem IS NOT NULL), arg_min(problem, wr_row) FILTER "
                f"(WHERE problem IS NOT NULL), count(*), min(t), max(t) FROM (SELECT wr_row, {checks} AS problem, "
                f"{ts} AS t FROM {relation})"))
        except duckdb.Error as err:
            raise ImportRefused(f"{what}: {str(err).splitlines()[0]}") from None
        if bad_row is not None:
            raise ImportRefused(f"{what}: row {bad_row}: {problem}; nothing was imported")
        cur.execute(f"INSERT INTO samples SELECT {ts}, CAST(metric AS VARCHAR), {value} FROM {relation} ORDER BY 1")
        if n:
            _refresh_rollup(cur, lo, hi)
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    store.forget_rollup()
    return int(n)


def _refresh_rollup(cur: duckdb.DuckDBPyConnection, lo: datetime, hi: datetime) -> None:
    """Rebuild the already-rolled minutes the import touched, so long charts include the new samples."""
    rolled = first_row(cur.execute("SELECT max(minute) FROM samples_1m"))[0]
    if rolled is None or lo > rolled:
        return
    cur.execute("DELETE FROM samples_1m WHERE minute >= date_trunc('minute', ?::TIMESTAMP) AND minute <= ?",
                [lo, min(hi, rolled)])
    cur.execute(
        """INSERT INTO samples_1m
           SELECT date_trunc('minute', ts) AS minute, metric, count(*)::INTEGER,
                  arg_min(ts, value), min(value), arg_max(ts, value), max(value)
           FROM samples WHERE ts >= date_trunc('minute', ?::TIMESTAMP) AND ts < ? + INTERVAL 1 MINUTE
           GROUP BY ALL ORDER BY minute""", [lo, min(hi, rolled)])


def import_promql(store: Store, url: str, query: str, metric: str, start: datetime, end: datetime, step: float,
                  get: Callable[..., requests.Response] = requests.get) -> int:
    """Load one series from a Prometheus server's range query as samples of `metric`; all or nothing."""
    try:
        reply = get(f"{url.rstrip('/')}/api/v1/query_range", timeout=30,
                    params={"query": query, "start": start.timestamp(), "end": end.timestamp(), "step": step})
    except requests.RequestException as err:
        raise ImportRefused(f"{url}: cannot reach Prometheus ({type(err).__name__})") from None
    try:
        body = reply.json()
    except ValueError:
        raise ImportRefused(f"{url}: HTTP {reply.status_code}, not a Prometheus answer") from None
    if body.get("status") != "success":
        raise ImportRefused(f"{url}: {body.get('errorType', 'error')}: {body.get('error', reply.status_code)}")
    result = body["data"]["result"]
    if len(result) != 1:
        raise ImportRefused(f"{url}: the query returned {len(result)} series; aggregate it to one (e.g. sum(...))")
    points = result[0]["values"]
    for i, (_, value) in enumerate(points, start=1):
        if not math.isfinite(float(value)):
            raise ImportRefused(f"{url}: point {i}: value {value} is not finite; nothing was imported")
    stamps = [datetime.fromtimestamp(float(t), UTC).replace(tzinfo=None).isoformat() for t, _ in points]
    table = pa.table({"ts": pa.array(stamps),
                      "metric": pa.array([metric] * len(points)), "value": pa.array([v for _, v in points]),
                      "wr_row": pa.array(range(1, len(points) + 1), pa.int64())})
    cur = store.reader()
    cur.execute("SET TimeZone = 'UTC'")
    cur.register("wr_promql", table)
    try:
        return _load(cur, store, "wr_promql", url, *_columns({"ts": "VARCHAR", "value": "VARCHAR"}))
    finally:
        cur.unregister("wr_promql")
