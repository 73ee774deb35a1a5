"""Schema versions of the DuckDB file: create a fresh one, upgrade an older one, refuse a newer or foreign one.

Version 1 (up to commit 2783be0) wrote a `campaigns` row per daemon start and had no `level_changes`.
Version 2 keeps one row per campaign with the config texts that identify it and a masked config
snapshot, moves daemon starts to `daemon_starts`, and records the wall's level transitions. The
upgrade only adds: every v1 row stays, v1 campaign rows are also listed as daemon starts.
Version 3 adds where each decision-log row came from (`annotations.via`, empty for older rows) and the
`sign_ins` table (who signed in on the board); a v2 file gains both, losing nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from warroom.store.schema import SCHEMA, SCHEMA_VERSION, first_row, to_db_ts

# Columns added to `campaigns` by version 2, in table order.
_CAMPAIGN_V2 = (("campaign_id", "VARCHAR"), ("start_spec", "VARCHAR"), ("end_spec", "VARCHAR"),
                ("config_snapshot", "VARCHAR"))


class MigrationError(Exception):
    """The file is not a warroom database this version can read; the message says which case."""


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables in the main schema."""
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    return {r[0] for r in rows}


def file_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version of an open file, None when it is empty; MigrationError when it is not warroom's."""
    names = tables(con)
    if not names:
        return None
    if "schema_info" not in names or "samples" not in names:
        raise MigrationError("not a warroom database (no schema_info / samples table)")
    row = first_row(con.execute("SELECT max(version) FROM schema_info"))
    if row is None or row[0] is None:
        raise MigrationError("not a warroom database (schema_info holds no version)")
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise MigrationError(f"written by a newer warroom (schema version {version}; this one reads up to "
                             f"{SCHEMA_VERSION})")
    return version


def upgrade(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> int:
    """Bring a read-write file to SCHEMA_VERSION; returns the version it had (0 for a new file)."""
    version = file_version(con)
    stamp = to_db_ts(now or datetime.now(UTC))
    if version is None:
        con.execute(SCHEMA)
        con.execute("INSERT INTO schema_info VALUES (?, ?)", [SCHEMA_VERSION, stamp])
        return 0
    if version == SCHEMA_VERSION:
        con.execute(SCHEMA)  # idempotent: a table added within a version appears in older files of it
        return version
    con.execute("BEGIN")
    try:
        if version < 2:
            _v1_to_v2(con)
        con.execute(SCHEMA)  # v2 → v3 is additive: the `via` column and the `sign_ins` table
        con.execute("INSERT INTO schema_info VALUES (?, ?)", [SCHEMA_VERSION, stamp])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return version


def _v1_to_v2(con: duckdb.DuckDBPyConnection) -> None:
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'campaigns'").fetchall()}
    for name, kind in _CAMPAIGN_V2:
        if name not in have:
            con.execute(f"ALTER TABLE campaigns ADD COLUMN {name} {kind}")
    con.execute(SCHEMA)  # the tables v1 did not have: level_changes, daemon_starts
    # v1 wrote a campaign row per start: each becomes a daemon start too, and gets an id of its own.
    con.execute("INSERT INTO daemon_starts SELECT started_at, NULL, 'v1' FROM campaigns")
    con.execute("UPDATE campaigns SET campaign_id = 'v1-' || strftime(started_at, '%Y%m%dT%H%M%S') "
                "WHERE campaign_id IS NULL")
    con.execute("UPDATE daemon_starts SET campaign_id = 'v1-' || strftime(started_at, '%Y%m%dT%H%M%S') "
                "WHERE campaign_id IS NULL")
