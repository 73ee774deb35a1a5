"""The campaign of a database file: one file per campaign, its window resolved once, its config kept.

A file holds one night. The daemon resumes the campaign already in its file when the config still
names the same campaign (name and window texts) and, for a window relative to the first start
(`end: "+6m40s"`, rehearsals and the demo), while that night is not over. Otherwise it moves the file
to `<folder>/campaigns/<stem>-<first start UTC>-<slug>.duckdb` (an archive for `warroom replay` and
`warroom report`) and starts a fresh one. The window is never re-resolved on a restart, so restarting
the daemon does not move the countdown.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from warroom import __version__
from warroom.config.channels import masked_config
from warroom.config.load import ConfigError, LoadedConfig, parse_config
from warroom.store.database import Store
from warroom.store.schema import first_row, from_db_ts, to_db_ts
from warroom.values import CampaignWindow

_COLUMNS = "campaign_id, name, started_at, start_ts, end_ts, timezone, start_spec, end_spec, config_snapshot"


@dataclass(frozen=True)
class CampaignRecord:
    """One night as recorded: identity, the moment relative times count from, the resolved window."""

    id: str
    name: str
    anchor: datetime
    """The campaign's first start: `+10m` in the config counts from here, on every restart."""
    start: datetime | None
    end: datetime
    timezone: str
    start_spec: str | None
    end_spec: str | None
    config_snapshot: str | None

    @property
    def window(self) -> CampaignWindow:
        """The window the board's countdown uses."""
        return CampaignWindow(self.name, self.start, self.end)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40] or "campaign"


def masked_snapshot(loaded: LoadedConfig) -> str:
    """The validated config as JSON with every secret masked: channels, headers and URL passwords however
    they were written (warroom.config.channels.masked_config), and every value that came from ${ENV}."""
    tree = masked_config(loaded.config.model_dump(mode="json", by_alias=True))
    return loaded.mask(json.dumps(tree, ensure_ascii=False))  # key order is the wall order


def config_from_snapshot(snapshot: str, source: str) -> LoadedConfig:
    """The config an archive was recorded with; channels are dropped (an archive never pages)."""
    tree: dict[str, Any] = json.loads(snapshot)
    for person in (tree.get("people") or {}).values():
        person["channels"], person["urgent"] = [], []
        for shift in person.get("shifts") or []:
            shift["channels"] = shift["urgent"] = None  # recorded as labels (masked), not URLs
    for level in (tree.get("levels") or {}).values():
        level["urgent"] = []
    tree.get("alerts", {})["forward"] = []
    return parse_config(tree, f"{source} (recorded config)", env={})


def current(cur: duckdb.DuckDBPyConnection) -> CampaignRecord | None:
    """The campaign of the file: its latest row (a migrated v1 file may hold several)."""
    row = first_row(cur.execute(f"SELECT {_COLUMNS} FROM campaigns ORDER BY started_at DESC LIMIT 1"))
    if row is None:
        return None
    return CampaignRecord(row[0] or "", row[1], from_db_ts(row[2]), from_db_ts(row[3]), from_db_ts(row[4]),
                          row[5], row[6], row[7], row[8])


def is_relative(spec: str | None) -> bool:
    """True for `+6m40s`: a time that counts from the campaign's first start."""
    return spec is not None and spec.strip().startswith("+")


def same_campaign(record: CampaignRecord, loaded: LoadedConfig) -> bool:
    """Does the config still describe the campaign recorded in the file?"""
    c = loaded.config.campaign
    if record.start_spec is None and record.end_spec is None:
        return record.name == c.name  # a v1 row: only the name was kept
    return (record.name, record.start_spec, record.end_spec) == (c.name, c.start, c.end)


def night_over(record: CampaignRecord, loaded: LoadedConfig, now: datetime) -> bool:
    """A relative night is over after its end and its last run-sheet step; an absolute one never is."""
    c = loaded.config.campaign
    if not (is_relative(record.end_spec) or is_relative(record.start_spec)) and record.end_spec is not None:
        return False
    last = max([record.end] + [c.resolve_moment(s.at, record.anchor) for s in c.run_sheet])
    return now >= last


def archive_path(db: Path, record: CampaignRecord) -> Path:
    """Where a finished campaign's file goes: beside the live file, under campaigns/."""
    stamp = record.anchor.strftime("%Y%m%dT%H%M%SZ")
    path = db.parent / "campaigns" / f"{db.stem}-{stamp}-{_slug(record.name)}{db.suffix}"
    n = 1
    while path.exists():
        n += 1
        path = path.with_name(f"{db.stem}-{stamp}-{_slug(record.name)}-{n}{db.suffix}")
    return path


def archive_file(db: Path, record: CampaignRecord) -> Path:
    """Move a closed database file (and a leftover WAL) to its archive path."""
    target = archive_path(db, record)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(db), str(target))
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.move(str(wal), str(target.with_name(target.name + ".wal")))
    return target


def begin(store: Store, loaded: LoadedConfig, now: datetime, anchor: datetime | None = None) -> CampaignRecord:
    """Write the campaign row of a fresh file: the window resolved once, here, from `anchor` (default now)."""
    c = loaded.config.campaign
    now = anchor or now
    start, end = c.resolve(now)
    kpi = c.kpi
    ident = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{_slug(c.name)}"
    store.execute(
        "INSERT INTO campaigns (started_at, name, start_ts, end_ts, timezone, kpi_metric, kpi_target, config_source, "
        "campaign_id, start_spec, end_spec, config_snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [to_db_ts(now), c.name, to_db_ts(start) if start else None, to_db_ts(end), c.timezone,
         kpi.metric if kpi else None, kpi.target if kpi else None, loaded.source, ident, c.start, c.end,
         masked_snapshot(loaded)])
    record = current(store.reader())
    assert record is not None
    return record


def open_campaign(db: Path, loaded: LoadedConfig, now: datetime,
                  anchor: datetime | None = None) -> tuple[Store, CampaignRecord, Path | None]:
    """Open the live file for the daemon: resume its campaign, or archive it and begin a fresh one.

    `anchor` is what relative times count from for a fresh campaign (the demo night's 23:00 in demo
    mode; default now). Returns the store, the campaign, and where the previous campaign was archived.
    """
    store = Store(db)
    archived = None
    record = current(store.reader())
    if record is not None and (not same_campaign(record, loaded) or night_over(record, loaded, now)):
        store.close()
        archived = archive_file(db, record)
        store = Store(db)
        record = None
    if record is None:
        record = begin(store, loaded, now, anchor)
    store.record("daemon_starts", [to_db_ts(now), record.id, __version__])  # a full disk must not stop a restart
    return store, record, archived


def recorded_config(store: Store, record: CampaignRecord | None, fallback: LoadedConfig | None,
                    source: str) -> LoadedConfig:
    """The config to read an archive with: its own snapshot, else (a v1 file) the one given."""
    if record is not None and record.config_snapshot:
        try:
            return config_from_snapshot(record.config_snapshot, source)
        except (ConfigError, ValueError) as err:
            if fallback is None:
                raise
            del err  # an unreadable snapshot falls back to the config given on the command line
    if fallback is None:
        raise ConfigError(source, ["the file holds no config snapshot (schema v1): pass -c CONFIG"])
    return fallback
