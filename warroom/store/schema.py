"""What a warroom DuckDB file holds: its tables, its version, and how times are stored in it.

Timestamps are stored as naive UTC TIMESTAMP (microseconds): analysts can query the file directly,
and zone maps over append-ordered ts keep every time-bounded query cheap. No PRIMARY KEY or UNIQUE
anywhere: those build ART indexes that slow appends and bloat memory.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    ts TIMESTAMP NOT NULL, metric VARCHAR NOT NULL, value DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS samples_1m (
    minute TIMESTAMP NOT NULL, metric VARCHAR NOT NULL, n INTEGER NOT NULL,
    min_ts TIMESTAMP NOT NULL, min_value DOUBLE NOT NULL, max_ts TIMESTAMP NOT NULL, max_value DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS collector_runs (
    ts TIMESTAMP NOT NULL, collector VARCHAR NOT NULL, ok BOOLEAN NOT NULL,
    duration_s DOUBLE NOT NULL, samples INTEGER NOT NULL, error VARCHAR);
-- One row per campaign (v1 wrote one per daemon start): its window resolved once at its first start,
-- the config texts that identify it, and the validated config with secrets masked, read by archives.
CREATE TABLE IF NOT EXISTS campaigns (
    started_at TIMESTAMP NOT NULL, name VARCHAR NOT NULL, start_ts TIMESTAMP, end_ts TIMESTAMP NOT NULL,
    timezone VARCHAR NOT NULL, kpi_metric VARCHAR, kpi_target DOUBLE, config_source VARCHAR,
    campaign_id VARCHAR, start_spec VARCHAR, end_spec VARCHAR, config_snapshot VARCHAR);
CREATE TABLE IF NOT EXISTS daemon_starts (
    started_at TIMESTAMP NOT NULL, campaign_id VARCHAR, version VARCHAR);
CREATE TABLE IF NOT EXISTS alerts (
    id BIGINT NOT NULL, metric VARCHAR NOT NULL, kind VARCHAR NOT NULL, opened_at TIMESTAMP NOT NULL,
    level VARCHAR NOT NULL, peak_level VARCHAR NOT NULL, state VARCHAR NOT NULL, owner_role VARCHAR,
    acked_by VARCHAR, acked_at TIMESTAMP, escalated_to VARCHAR, escalated_at TIMESTAMP,
    resolved_at TIMESTAMP, updated_at TIMESTAMP NOT NULL, level_since TIMESTAMP NOT NULL,
    last_page_at TIMESTAMP, green_since TIMESTAMP, delivery_failed BOOLEAN NOT NULL,
    value DOUBLE, threshold DOUBLE, paged_roles VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS alert_events (
    ts TIMESTAMP NOT NULL, alert_id BIGINT NOT NULL, event VARCHAR NOT NULL, level VARCHAR,
    role VARCHAR, person VARCHAR, channel VARCHAR, ok BOOLEAN, detail VARCHAR, step VARCHAR);
CREATE TABLE IF NOT EXISTS silences (
    id BIGINT NOT NULL, metric VARCHAR, starts_at TIMESTAMP NOT NULL, ends_at TIMESTAMP NOT NULL,
    author VARCHAR NOT NULL, reason VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS annotations (
    ts TIMESTAMP NOT NULL, author VARCHAR NOT NULL, role VARCHAR, level VARCHAR, alert_id BIGINT,
    kind VARCHAR NOT NULL, text VARCHAR NOT NULL, ref VARCHAR);
-- What the wall showed of a metric, written by the alert engine whenever its level, staleness or
-- decider changes (value is the sample that caused it). Replay reads the last row at or before T.
CREATE TABLE IF NOT EXISTS level_changes (
    ts TIMESTAMP NOT NULL, metric VARCHAR NOT NULL, level VARCHAR NOT NULL, stale BOOLEAN NOT NULL,
    owner_role VARCHAR, owner_name VARCHAR, value DOUBLE, alert_id BIGINT, detail VARCHAR);
-- Who stood in for a role tonight (set at run time; the last row per role is in force unless cleared).
CREATE TABLE IF NOT EXISTS duty (
    ts TIMESTAMP NOT NULL, role VARCHAR NOT NULL, name VARCHAR NOT NULL, phone VARCHAR, person VARCHAR,
    until_ts TIMESTAMP, set_by VARCHAR NOT NULL, cleared BOOLEAN NOT NULL);
-- Added after version 1 (a file made before them gains them, empty, when opened read-write).
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS rise INTEGER DEFAULT 0;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS acked_level VARCHAR;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS ack_clock_at TIMESTAMP;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS exhausted BOOLEAN DEFAULT false;
-- Version 3: where each decision-log row came from (board | wall:NAME | link | api), and who signed in
-- on the board: a session is stored as the HMAC of its id under the ack secret, never the id itself.
ALTER TABLE annotations ADD COLUMN IF NOT EXISTS via VARCHAR;
CREATE TABLE IF NOT EXISTS sign_ins (
    ts TIMESTAMP NOT NULL, session_key VARCHAR NOT NULL, role VARCHAR NOT NULL, person VARCHAR NOT NULL,
    client VARCHAR, expires_at TIMESTAMP NOT NULL, ended_at TIMESTAMP);
"""

# Rows outside these bounds (naive UTC) are ignored by the unbounded reads below: one poisoned
# timestamp stored before the API refused it (a BC date) must not stop the rollup or a replay.
SANE_FROM = datetime(2000, 1, 1)
SANE_TO = datetime(2200, 1, 1)


def to_db_ts(ts: datetime) -> datetime:
    """Aware → naive UTC, the form stored in TIMESTAMP columns."""
    if ts.tzinfo is None:
        return ts
    return ts.astimezone(UTC).replace(tzinfo=None)


def from_db_ts(ts: datetime | None) -> datetime | None:
    """Naive UTC from the database → aware UTC."""
    return None if ts is None else ts.replace(tzinfo=UTC)


def first_row(cur: duckdb.DuckDBPyConnection) -> tuple | None:
    """The first row of the last result, draining the rest.

    DuckDB 2 refuses further work on a cursor whose result was not read to the end, and the
    cursors here are reused per thread, so fetchone() is never used on them.
    """
    rows = cur.fetchall()
    return rows[0] if rows else None
