"""Export and import of a night's whole record: every table, a manifest, all or nothing.

`export` writes each table of the record (bounded by time) as CSV or Parquet into a folder under a
temporary name, then `manifest.json` (rows, time range and SHA-256 of every file), then renames the
folder: a killed export leaves only a `.partial-` folder, which `import` refuses. `import_record` loads
such a folder into a file that holds no night yet, after checking the manifest and every row; the
result answers every question the original does (same report, same replay at every second). Rows keep
their original order (`rowid`), because replay folds events of the same microsecond in that order.
Timestamps in exported files are naive UTC, as stored. Samples from other sources: warroom.store.intake.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from warroom import __version__
from warroom.outside_text import on_terminal
from warroom.store.database import Store
from warroom.store.migrate import tables
from warroom.store.outfile import PARTIAL, abandon, begin_folder, finish, unfinished
from warroom.store.schema import SANE_FROM, SANE_TO, SCHEMA_VERSION, first_row, from_db_ts, to_db_ts
from warroom.store.screen import columns, first_problem, source_types, typed

MANIFEST = "manifest.json"
EXPORT_VERSION = 1
# Every table of the record → the rows of [$1, $2] it exports (None: all of them; they are small).
RECORD: dict[str, str | None] = {
    "campaigns": None,
    "daemon_starts": None,
    "samples": "ts >= $1 AND ts <= $2",
    "samples_1m": "minute >= $1 AND minute <= $2",
    "collector_runs": "ts >= $1 AND ts <= $2",
    "level_changes": "ts >= $1 AND ts <= $2",
    "alerts": "opened_at <= $2 AND (resolved_at IS NULL OR resolved_at >= $1)",
    "alert_events": "ts >= $1 AND ts <= $2",
    "silences": "starts_at <= $2 AND ends_at >= $1",
    "annotations": "ts >= $1 AND ts <= $2",
    "duty": "ts >= $1 AND ts <= $2",
}
# Not exported: the target file writes its own schema version when it is created; board sessions are the
# live night's keys (an HMAC under the ack secret), not its record: who acted, and where, is in the decision
# log and the alert trail, which go along.
NOT_RECORD = ("schema_info", "sign_ins")
TIME_COLUMN = {"samples": "ts", "samples_1m": "minute", "collector_runs": "ts", "level_changes": "ts",
               "alerts": "opened_at", "alert_events": "ts", "silences": "starts_at", "annotations": "ts", "duty": "ts",
               "campaigns": "started_at", "daemon_starts": "started_at"}
FORMATS = {"parquet": "(FORMAT PARQUET, COMPRESSION ZSTD)", "csv": "(FORMAT CSV, HEADER)"}


class ImportRefused(Exception):
    """A source that cannot be imported; the message names the file, the row (1 = first data row) and why."""


@dataclass
class Imported:
    """What an import kept: rows per table, the samples' range, and rows the night will not show, by reason."""

    rows: dict[str, int]
    first: datetime | None
    last: datetime | None
    not_shown: dict[str, int] = field(default_factory=dict)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def sha256(path: Path) -> str:
    """The file's SHA-256, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _iso(ts: datetime | None) -> str | None:
    return from_db_ts(ts).isoformat() if ts is not None else None


def export(db: Path, out: Path, fmt: str, start: datetime | None = None, end: datetime | None = None) -> dict[str, int]:
    """Write every table of the record (bounded by time) and a manifest into the new folder `out`; rows per table.

    OutputRefused (warroom.store.outfile) before any work when `out` cannot be made.
    """
    temporary = begin_folder(out)
    try:
        con = duckdb.connect(str(db), read_only=True)
        try:
            manifest = _export_into(con, temporary, fmt, start, end)
        finally:
            con.close()
        manifest["source"] = db.name
        (temporary / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        finish(temporary, out)
    except BaseException:
        abandon(temporary)
        raise
    return {t: v["rows"] for t, v in manifest["tables"].items()}


def _export_into(con: duckdb.DuckDBPyConnection, folder: Path, fmt: str, start: datetime | None,
                 end: datetime | None) -> dict[str, Any]:
    present = tables(con)
    lo = to_db_ts(start) if start else SANE_FROM
    hi = to_db_ts(end) if end else SANE_TO
    con.execute("BEGIN")  # one snapshot for every table
    entries: dict[str, dict[str, Any]] = {}
    try:
        for table, where in RECORD.items():
            if table not in present:
                continue  # a v1 file has no level_changes
            target = folder / f"{table}.{fmt}"
            rows = first_row(con.execute(
                f"COPY (SELECT * FROM {table} WHERE {where or 'TRUE'} ORDER BY rowid) TO '{_quoted(target)}' "
                f"{FORMATS[fmt]}", [lo, hi] if where else []))
            time_col = TIME_COLUMN[table]
            first, last = first_row(con.execute(
                f"SELECT min({time_col}), max({time_col}) FROM {table} WHERE {where or 'TRUE'}",
                [lo, hi] if where else []))
            entries[table] = {"file": target.name, "rows": int(rows[0]) if rows else 0, "sha256": sha256(target),
                              "first": _iso(first), "last": _iso(last)}
        campaign = first_row(con.execute("SELECT campaign_id, name FROM campaigns ORDER BY started_at DESC LIMIT 1"))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"warroom_export": EXPORT_VERSION, "warroom": __version__, "schema_version": SCHEMA_VERSION,
            "format": fmt, "from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
            "campaign": {"id": campaign[0], "name": campaign[1]} if campaign else None, "tables": entries}


@contextlib.contextmanager
def literal(path: Path) -> Iterator[str]:
    """`path` as DuckDB will read it literally: a link with a plain name, so `[ab].csv` or `a*.csv` is one file
    (DuckDB expands glob characters in a file name) and a quote in the name cannot end the SQL string."""
    if not path.is_file():
        why = "no such file" if not path.exists() else "not a regular file"
        raise ImportRefused(f"{on_terminal(str(path))}: {why}")
    with tempfile.TemporaryDirectory(prefix="warroom-import-") as folder:
        link = Path(folder) / ("source" + "".join(c for c in path.suffix.lower() if c.isalnum() or c == "."))
        os.symlink(path.resolve(), link)
        yield _quoted(link)


def relation(name: str, suffix: str, record: bool) -> str:
    """SQL reading a CSV (every column as text) or Parquet file with a 1-based row number `wr_row`.

    A record file is read exactly as `export` wrote it (comma, double quotes, "" an empty text and an
    empty cell NULL); a samples file from elsewhere lets DuckDB sniff its dialect.
    """
    if suffix in (".parquet", ".pq"):
        return f"(SELECT *, file_row_number + 1 AS wr_row FROM read_parquet('{name}', file_row_number = true))"
    dialect = ", delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false" if record else ""
    return f"(SELECT *, row_number() OVER () AS wr_row FROM read_csv('{name}', header = true, all_varchar = true" \
           f"{dialect}))"


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of an export folder; ImportRefused when it is missing, unreadable or not this version's."""
    shown = on_terminal(str(folder))
    if unfinished(folder):
        raise ImportRefused(f"{shown}: an export that did not finish ({PARTIAL}… folder); export again")
    path = folder / MANIFEST
    if not path.is_file():
        raise ImportRefused(f"{shown}: no {MANIFEST}; not a warroom export, or one that did not finish")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        tables_ = manifest["tables"]
        version = int(manifest["schema_version"])
        if manifest.get("warroom_export") != EXPORT_VERSION or not isinstance(tables_, dict):
            raise ValueError("unknown export version")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ImportRefused(f"{shown}/{MANIFEST}: cannot be read ({on_terminal(str(err))[:120]})") from None
    if version > SCHEMA_VERSION:
        raise ImportRefused(f"{shown}: exported by a newer warroom (schema {version}; this one reads up to "
                            f"{SCHEMA_VERSION})")
    unknown = sorted(set(tables_) - set(RECORD))
    if unknown:
        raise ImportRefused(f"{shown}/{MANIFEST}: unknown table {on_terminal(unknown[0])!r}")
    for table, entry in tables_.items():
        file = folder / str(entry.get("file", ""))
        if file.parent != folder or not file.is_file():
            raise ImportRefused(f"{shown}: {on_terminal(str(entry.get('file')))} (table {table}) is missing")
        if sha256(file) != entry.get("sha256"):
            raise ImportRefused(f"{on_terminal(str(file))}: does not match {MANIFEST} (checksum): cut or changed "
                                "after the export; nothing was imported")
    return manifest


def held(cur: duckdb.DuckDBPyConnection) -> str | None:
    """What a file already holds of a night (campaign and sample range), or None when it holds none."""
    counts = {t: first_row(cur.execute(f"SELECT count(*) FROM {t}"))[0] for t in RECORD if t != "daemon_starts"}
    if not any(counts.values()):
        return None
    campaign = first_row(cur.execute("SELECT campaign_id, name FROM campaigns ORDER BY started_at DESC LIMIT 1"))
    lo, hi = first_row(cur.execute("SELECT min(ts), max(ts) FROM samples"))
    what = f"campaign {campaign[0]} ({campaign[1]})" if campaign else "a record with no campaign"
    span = f", {counts['samples']:,} samples from {_iso(lo)} to {_iso(hi)}" if lo is not None else ""
    return on_terminal(what + span)


def import_record(store: Store, folder: Path) -> Imported:
    """Load an export folder into a file that holds no night yet; all or nothing, every row checked."""
    manifest = read_manifest(folder)
    cur = store.reader()
    cur.execute("SET TimeZone = 'UTC'")
    holding = held(cur)
    if holding is not None:
        ours = (manifest.get("campaign") or {}).get("id")
        mine = first_row(cur.execute("SELECT campaign_id FROM campaigns ORDER BY started_at DESC LIMIT 1"))
        if mine and ours and mine[0] == ours:
            raise ImportRefused(f"{store.path} already holds this night ({holding}); importing it again would "
                                "double it: nothing was imported")
        raise ImportRefused(f"{store.path} already holds {holding}; a file holds one night: import into a new file")
    rows: dict[str, int] = {}
    cur.execute("BEGIN")
    try:
        for table, entry in manifest["tables"].items():
            rows[table] = _load_table(cur, folder / entry["file"], table, int(entry["rows"]))
        span = first_row(cur.execute("SELECT min(ts), max(ts) FROM samples"))
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    store.forget_rollup()
    return Imported(rows, from_db_ts(span[0]), from_db_ts(span[1]))


def _load_table(cur: duckdb.DuckDBPyConnection, path: Path, table: str, expected: int) -> int:
    """Check every row of one table's file, then append it in its original order."""
    shown = on_terminal(path.name)
    with literal(path) as name:
        source = relation(name, path.suffix.lower(), record=True)
        try:
            types = source_types(cur, source)
        except duckdb.Error as err:
            raise ImportRefused(f"{shown}: cannot be read ({on_terminal(str(err).splitlines()[0])})") from None
        cols = columns(cur, table)
        extra = sorted(set(types) - {c.name for c in cols} - {"wr_row", "file_row_number"})
        if extra:
            raise ImportRefused(f"{shown}: column {on_terminal(extra[0])!r} is not in table {table}")
        try:
            refusal, n, _ = first_problem(cur, source, cols, types)
        except duckdb.Error as err:
            raise ImportRefused(f"{shown}: {on_terminal(str(err).splitlines()[0])}; nothing was imported") from None
        if refusal is not None:
            raise ImportRefused(f"{shown}: {refusal}; nothing was imported")
        if n != expected:
            raise ImportRefused(f"{shown}: {n:,} rows, the manifest says {expected:,}; nothing was imported")
        values = ", ".join(typed(c, types.get(c.name)) for c in cols)
        cur.execute(f"INSERT INTO {table} ({', '.join(c.name for c in cols)}) SELECT {values} FROM {source} "
                    "ORDER BY wr_row")
    return n
