"""Damaged database files: one clear line and exit 2, nothing written; a torn WAL reported loudly."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.daemon_kit import write_config
from tests.harness.rig import pushed_config, running_daemon
from warroom.store.database import DamagedStore, Store
from warroom.store.dbfile import wal_entry_ends, wal_is_torn
from warroom.values import Sample

ROOT = Path(__file__).resolve().parents[2]


def good_file(path: Path, n: int = 2000) -> Path:
    """A closed, checkpointed store with `n` samples."""
    store = Store(path)
    t0 = datetime.now(UTC) - timedelta(hours=1)
    store.append([Sample(t0 + timedelta(seconds=i), "failures", float(i)) for i in range(n)])
    store.close()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def truncated(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def garbled(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(8192 + 200, len(data), 997):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def header_gone(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0:4096] = os.urandom(4096)
    path.write_bytes(bytes(data))


def sqlite_file(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE samples (ts TEXT, metric TEXT, value REAL)")


def empty(path: Path) -> None:
    path.write_bytes(b"")


def text_file(path: Path) -> None:
    path.write_text("campaign: not a database\n" * 1000)


DAMAGE = [truncated, garbled, header_gone, sqlite_file, empty, text_file]


# Each is a whole process start (~1.5 s of imports), so only some go through the real commands;
# every damage goes through the store's open path below.
SUBPROCESS = {"truncated": ("collect",), "sqlite_file": ("collect", "replay"), "garbled": ("replay",)}


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
@pytest.mark.parametrize("read_only", [False, True], ids=["daemon", "replay"])
def test_the_store_refuses_a_damaged_file_in_one_line_and_writes_nothing(tmp_path, damage, read_only):
    db = good_file(tmp_path / "night.duckdb")
    damage(db)
    before = digest(db)
    with pytest.raises(DamagedStore) as refused:
        Store(db, read_only=read_only)
    assert str(db) in str(refused.value) and "\n" not in str(refused.value)
    assert digest(db) == before and not Path(str(db) + ".wal").exists()


def test_a_damaged_file_is_one_line_and_exit_2_and_nothing_written(tmp_path):
    """Some damages through `warroom collect` and `warroom replay`, run side by side."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for damage in DAMAGE:
        for command in SUBPROCESS.get(damage.__name__, ()):
            folder = tmp_path / f"{damage.__name__}-{command}"
            folder.mkdir()
            db = good_file(folder / "night.duckdb")
            damage(db)
            config = write_config(pushed_config(db, {}), folder / "c.yaml")
            proc = subprocess.Popen([sys.executable, "-m", "warroom.cli", command, "-c", str(config), "--db", str(db)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=folder)
            runs.append((damage, command, db, digest(db), proc))
    wrong = []
    for damage, command, db, before, proc in runs:
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        lines = [line for line in err.splitlines() if line.strip()]
        ok = (proc.returncode == 2 and len(lines) == 1 and str(db) in lines[0] and digest(db) == before
              and not Path(str(db) + ".wal").exists() and (damage is not sqlite_file or "SQLite" in lines[0]))
        if not ok:
            wrong.append(f"{damage.__name__} {command}: exit {proc.returncode}, {len(lines)} lines: {err[-400:]}")
    assert not wrong, "\n".join(wrong)


def _kill_mid_write(db: Path) -> int:
    """A child writes 142 one-sample commits without checkpointing, then dies; returns the WAL size."""
    code = ("import os,sys; from datetime import datetime,UTC,timedelta; from warroom.store.database import Store; "
            "from warroom.values import Sample; s=Store(sys.argv[1]); s.execute(\"SET checkpoint_threshold='1GB'\");"
            "t=datetime.now(UTC)-timedelta(minutes=5);"
            "[s.append([Sample(t+timedelta(seconds=i),'failures',float(i))]) for i in range(142)]; os._exit(0)")
    subprocess.run([sys.executable, "-c", code, str(db)], check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return Path(str(db) + ".wal").stat().st_size


def test_a_whole_wal_after_a_kill_is_not_called_torn(tmp_path):
    db = tmp_path / "w.duckdb"
    _kill_mid_write(db)
    assert not wal_is_torn(Path(str(db) + ".wal").read_bytes())
    store = Store(db)
    assert store.wal.present and not store.wal.torn
    assert store.execute("SELECT count(*) FROM samples").fetchall()[0][0] == 142
    store.close()


def test_a_torn_wal_is_reported_in_health_and_kept(tmp_path, caplog):
    db = tmp_path / "w.duckdb"
    _kill_mid_write(db)
    wal = Path(str(db) + ".wal")
    ends = wal_entry_ends(wal.read_bytes())
    i = len(ends) * 4 // 10
    os.truncate(wal, (ends[i] + ends[i + 1]) // 2)  # mid-entry, as a torn write leaves it
    with running_daemon(pushed_config(db, {})) as (_, base):
        wal = requests.get(f"{base}/api/v1/health", timeout=5).json()["database_wal"]
    assert wal["torn"] is True and Path(wal["kept_as"]).exists()
    assert any("DATA LOSS" in r.getMessage() for r in caplog.records)


def test_opening_an_archive_with_a_torn_wal_again_keeps_one_copy(tmp_path):
    """Issue 18 item 10: each read-only open (replay, report) of the same torn log left another .torn-* copy."""
    db = tmp_path / "w.duckdb"
    _kill_mid_write(db)
    wal = Path(str(db) + ".wal")
    ends = wal_entry_ends(wal.read_bytes())
    os.truncate(wal, (ends[-3] + ends[-2]) // 2)
    first = Store(db, read_only=True)
    assert first.wal.torn
    first.close()
    # the copy last night's replay kept
    earlier = Path(first.wal.kept_as).rename(tmp_path / "w.duckdb.wal.torn-20241111T230000")
    for _ in range(2):
        store = Store(db, read_only=True)
        assert store.wal.torn and store.wal.kept_as == str(earlier)
        store.close()
    assert [p.name for p in tmp_path.glob("w.duckdb.wal.torn-*")] == [earlier.name]
