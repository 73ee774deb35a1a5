"""`warroom replay --db FILE`: an archived night served read-only through the same API, with its board.

Nothing is written to the archive: it is opened read-only; a version-1 file is upgraded in a
temporary copy. No collector runs and nobody is paged; action routes answer 409.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from fastapi import FastAPI

from alerts.log import AlertLog
from alerts.silences import Silences
from warroom.api.app import create_app
from warroom.api.read_model import BoardReader
from warroom.config.load import ConfigError, LoadedConfig
from warroom.record.campaign import CampaignRecord, current, recorded_config
from warroom.record.source import ArchivedNight
from warroom.store import dbfile
from warroom.store.database import Store, StoreError
from warroom.store.migrate import MigrationError, file_version
from warroom.store.queries import sample_bounds
from warroom.store.schema import SCHEMA_VERSION, first_row, from_db_ts
from warroom.values import CampaignWindow


class ArchiveError(Exception):
    """The file cannot be replayed; the message is the one line printed."""


@dataclass
class Archive:
    """An opened archive: store, the config it was recorded with, its campaign, its board reader and clock."""

    path: Path
    store: Store
    loaded: LoadedConfig
    campaign: CampaignRecord | None
    reader: BoardReader
    now: datetime
    night: ArchivedNight
    scratch: Path | None = field(default=None)

    def close(self) -> None:
        """Close the store and drop the upgraded copy, if one was made."""
        self.store.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def check_file(db: Path) -> int:
    """The schema version of a warroom file, or ArchiveError naming why it cannot be read (opens read-only).

    Damage (wrong magic, a SQLite file, a truncated or garbled block) is warroom.store.dbfile's verdict;
    this adds what replay needs on top: a warroom schema this version can read.
    """
    if not db.exists():
        raise ArchiveError(f"{db}: no such file")
    if not db.is_file():
        raise ArchiveError(f"{db}: not a file")
    try:
        dbfile.check_file(db)
    except dbfile.DamagedDatabase as err:
        raise ArchiveError(str(err)) from None
    except dbfile.DatabaseBusy:
        pass  # a live daemon holds it; the read-only open below says so
    try:
        con = duckdb.connect(str(db), read_only=True, config=dbfile.CONNECT_CONFIG)
    except duckdb.Error as err:
        raise ArchiveError(f"{db}: cannot be opened ({str(err).splitlines()[0]})") from None
    try:
        version = file_version(con)
    except MigrationError as err:
        raise ArchiveError(f"{db}: {err}") from None
    except duckdb.Error as err:
        raise ArchiveError(f"{db}: cannot be read, the file is damaged ({str(err).splitlines()[0]})") from None
    finally:
        con.close()
    if version is None:
        raise ArchiveError(f"{db}: not a warroom database (it holds no tables)")
    return version


def open_archive(db: Path, fallback: LoadedConfig | None = None) -> Archive:
    """Open an archive read-only, against the config it was recorded with (else `fallback` for a v1 file)."""
    version = check_file(db)
    scratch = None
    path = db
    if version < SCHEMA_VERSION:
        # Upgrade a copy: the archive itself is never written.
        scratch = Path(tempfile.mkdtemp(prefix="warroom-replay-"))
        path = scratch / db.name
        shutil.copyfile(db, path)
        try:
            Store(path).close()
        except StoreError as err:
            shutil.rmtree(scratch, ignore_errors=True)
            raise ArchiveError(f"{db}: cannot upgrade schema v{version}: {err}") from None
    try:
        store = Store(path, read_only=True)
    except StoreError as err:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise ArchiveError(str(err)) from None
    try:
        cur = store.reader()
        campaign = current(cur)
        try:
            loaded = recorded_config(store, campaign, fallback, str(db))
        except ConfigError as err:
            raise ArchiveError(f"{db}: {'; '.join(err.problems)}") from None
        first_start = first_row(cur.execute("SELECT min(started_at) FROM campaigns"))[0]
        first, last = sample_bounds(cur)
        now = last or (campaign.end if campaign else datetime.now(UTC))
        if campaign is not None:
            window = campaign.window
        else:
            start, end = loaded.config.campaign.resolve(first or now)
            window = CampaignWindow(loaded.config.campaign.name, start, end)
        since = from_db_ts(first_start) if first_start else first
        reader = BoardReader(loaded.config, store, window, latest=None, since=since)
        night = ArchivedNight(loaded.config, AlertLog(store), Silences(store), lambda: now)
    except BaseException:
        store.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    return Archive(db, store, loaded, campaign, reader, now, night, scratch)


def archive_app(archive: Archive) -> FastAPI:
    """The read API over an archive; 'now' is its last recorded moment; with no engine, actions answer 409."""
    return create_app(archive.reader, lambda: archive.now, lambda: {
        "mode": "replay", "database": str(archive.path), "database_wal": archive.store.wal.as_dict()},
        night=archive.night, campaign=archive.campaign)


def serve_replay(archive: Archive, host: str, port: int, board_port: int | None,
                 board_argv: list[str] | None) -> int:
    """Serve the API (and the board on its replay page) until Ctrl-C."""
    from warroom.daemon.daemon import ApiServer, bind_socket

    api = ApiServer(archive_app(archive), bind_socket(host, port))
    api.start()
    base = f"http://{host}:{api.port}"
    print(f"warroom replay: {archive.path} read-only — API {base}/api/v1/board?at=...  "
          f"(recorded until {archive.now.isoformat()})", flush=True)
    board = None
    if board_argv is not None and board_port is not None:
        board = subprocess.Popen(board_argv, start_new_session=True)
        print(f"warroom replay: board http://{host}:{board_port}/replay", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        if board is not None and board.poll() is None:
            board.terminate()
            try:
                board.wait(10)
            except subprocess.TimeoutExpired:
                board.kill()
        api.stop()
        archive.close()
    return 0
