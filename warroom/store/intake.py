"""Samples from outside the night (a CSV or Parquet file of ts, metric, value; a Prometheus range query).

All or nothing: every row is screened (warroom.store.screen) and the first bad one refuses the file by
row and column. Rows the night would never show are not kept but counted, per reason: a metric the
config does not know, a time outside the campaign. Samples the database file already holds (same metric,
same moment) refuse the whole import, so importing the same file twice never doubles a night. Times without an
offset are UTC.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import requests

from warroom.outside_text import on_terminal
from warroom.store.database import Store
from warroom.store.outfile import unfinished
from warroom.store.schema import first_row, from_db_ts, to_db_ts
from warroom.store.screen import columns, first_problem, source_types, typed
from warroom.store.transfer import MANIFEST, Imported, ImportRefused, literal, relation, sha256

UNKNOWN = "unknown metric"
OUTSIDE = "outside the campaign"


def import_file(store: Store, path: Path, known: Collection[str] | None = None,
                window: tuple[datetime, datetime] | None = None) -> Imported:
    """Load `ts, metric, value` rows from a CSV or Parquet file; `known` metrics and the campaign `window` decide
    what the night shows (None: not checked)."""
    shown = on_terminal(str(path))
    if unfinished(path):
        raise ImportRefused(f"{shown}: part of an export that did not finish; export again")
    _against_manifest(path)
    cur = store.reader()
    cur.execute("SET TimeZone = 'UTC'")  # a time without an offset is UTC
    with literal(path) as name:
        source = relation(name, path.suffix.lower(), record=False)
        try:
            types = source_types(cur, source)
        except duckdb.Error as err:
            raise ImportRefused(f"{shown}: cannot be read ({on_terminal(str(err).splitlines()[0])})") from None
        missing = [c for c in ("ts", "metric", "value") if c not in types]
        if missing:
            raise ImportRefused(f"{shown}: missing column {missing[0]!r} (a sample file has ts, metric, value)")
        return _load(cur, store, source, shown, types, known, window)


def _against_manifest(path: Path) -> None:
    """A table file of an export is checked against the export's manifest: a cut or changed copy is refused."""
    manifest = path.parent / MANIFEST
    if not manifest.is_file():
        return
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))["tables"]
        entry = next(e for e in entries.values() if e.get("file") == path.name)
    except (OSError, ValueError, KeyError, TypeError, StopIteration, AttributeError):
        return  # not this file's manifest: the file stands on its own
    if sha256(path) != entry.get("sha256"):
        raise ImportRefused(f"{on_terminal(str(path))}: does not match {MANIFEST} beside it (checksum): cut or changed "
                            "after the export; nothing was imported")


def _load(cur: duckdb.DuckDBPyConnection, store: Store, source: str, what: str, types: dict[str, str],
          known: Collection[str] | None, window: tuple[datetime, datetime] | None) -> Imported:
    """One pass screens every row, one classifies them, one inserts the kept ones in time order; one transaction."""
    cols = columns(cur, "samples")
    ts, metric, value = (typed(c, types.get(c.name)) for c in cols)
    cur.execute("BEGIN")
    try:
        try:
            refusal, _, _ = first_problem(cur, source, cols, types)
        except duckdb.Error as err:
            raise ImportRefused(f"{what}: {on_terminal(str(err).splitlines()[0])}") from None
        if refusal is not None:
            raise ImportRefused(f"{what}: {refusal}; nothing was imported")
        rows = f"(SELECT {ts} AS t, {metric} AS m, {value} AS v FROM {source})"
        unknown = "FALSE" if known is None else "NOT list_contains($known, m)"
        outside = "FALSE" if window is None else "(t < $lo OR t > $hi)"
        params: dict[str, object] = {}
        if known is not None:
            params["known"] = sorted(known)
        if window is not None:
            params["lo"], params["hi"] = to_db_ts(window[0]), to_db_ts(window[1])
        kept_rows = f"NOT {unknown} AND NOT {outside}"
        n_unknown, n_outside, kept, lo, hi = first_row(cur.execute(
            f"SELECT count(*) FILTER (WHERE {unknown}), count(*) FILTER (WHERE NOT {unknown} AND {outside}), "
            f"count(*) FILTER (WHERE {kept_rows}), min(t) FILTER (WHERE {kept_rows}), "
            f"max(t) FILTER (WHERE {kept_rows}) FROM {rows}", params))
        not_shown: dict[str, int] = {}
        if n_unknown:
            names = [r[0] for r in cur.execute(f"SELECT DISTINCT m FROM {rows} WHERE {unknown} ORDER BY m LIMIT 4",
                                               {"known": params["known"]}).fetchall()]
            label = ", ".join(on_terminal(x)[:40] for x in names[:3]) + (", …" if len(names) > 3 else "")
            not_shown[f"{UNKNOWN} ({label})"] = int(n_unknown)
        if n_outside:
            not_shown[OUTSIDE] = int(n_outside)
        if kept:
            _refuse_doubles(cur, what, rows, kept_rows, params, lo, hi)
            cur.execute(f"INSERT INTO samples SELECT t, m, v FROM {rows} WHERE {kept_rows} ORDER BY t", params)
            _refresh_rollup(cur, lo, hi)
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    store.forget_rollup()
    return Imported({"samples": int(kept)}, from_db_ts(lo), from_db_ts(hi), not_shown)


def _refuse_doubles(cur: duckdb.DuckDBPyConnection, what: str, rows: str, kept: str, params: dict[str, object],
                    lo: datetime, hi: datetime) -> None:
    """Samples already in the file (same metric, same moment) mean this source was imported before."""
    if not first_row(cur.execute("SELECT count(*) FROM samples WHERE ts >= ? AND ts <= ?", [lo, hi]))[0]:
        return  # nothing stored in the source's span (a fresh file): no join needed
    n, first, last = first_row(cur.execute(
        f"""SELECT count(*), min(s.ts), max(s.ts) FROM samples s
            SEMI JOIN (SELECT t, m FROM {rows} WHERE {kept}) i ON s.ts = i.t AND s.metric = i.m
            WHERE s.ts >= $lo_s AND s.ts <= $hi_s""", {**params, "lo_s": lo, "hi_s": hi}))
    if n:
        raise ImportRefused(f"{what}: the file already holds {n:,} of these samples (from "
                            f"{from_db_ts(first).isoformat()} to {from_db_ts(last).isoformat()}): imported before? "
                            "Nothing was imported")


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
                  get: Callable[..., requests.Response] = requests.get, known: Collection[str] | None = None,
                  window: tuple[datetime, datetime] | None = None) -> Imported:
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
    import pyarrow as pa  # only an import of outside samples needs it: not the daemon's start

    table = pa.table({"ts": pa.array(stamps),
                      "metric": pa.array([metric] * len(points)), "value": pa.array([v for _, v in points]),
                      "wr_row": pa.array(range(1, len(points) + 1), pa.int64())})
    cur = store.reader()
    cur.execute("SET TimeZone = 'UTC'")
    cur.register("wr_promql", table)
    try:
        return _load(cur, store, "wr_promql", url, {"ts": "VARCHAR", "metric": "VARCHAR", "value": "VARCHAR"},
                     known, window)
    finally:
        cur.unregister("wr_promql")
