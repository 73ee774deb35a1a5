"""`warroom replay --db FILE`: bad files are one line and exit 2; good ones are served read-only, nothing written."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import duckdb
import pytest
import requests

from tests.daemon_kit import ROOT, stop, wait_for
from tests.fixtures.v1_night import make_v1_night
from tests.warroom.record.kit import at, queue_config, recorded_night
from warroom.store.database import Store


def run_replay(*args, timeout=30):
    return subprocess.run([sys.executable, "-m", "warroom.cli", "replay", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bad_files(tmp_path):
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"this is not a database at all\n" * 100)
    good = tmp_path / "good.duckdb"
    Store(good).close()
    truncated = tmp_path / "truncated.duckdb"
    truncated.write_bytes(good.read_bytes()[:5000])
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE orders (id INTEGER)")
    con.close()
    newer = tmp_path / "newer.duckdb"
    Store(newer).close()
    con = duckdb.connect(str(newer))
    con.execute("INSERT INTO schema_info VALUES (9, now())")
    con.close()
    # the words of damage are warroom.store.dbfile's; those of the schema, warroom.store.migrate's
    return {"no such file": tmp_path / "missing.duckdb", "not a DuckDB database": garbage,
            "truncated": truncated, "not a warroom database": foreign, "newer warroom": newer}


def test_bad_files_are_one_clear_line_exit_2_and_nothing_written(tmp_path):
    for why, path in bad_files(tmp_path).items():
        before = digest(path) if path.exists() else None
        listing = sorted(p.name for p in tmp_path.iterdir())
        done = run_replay("--db", str(path), "--no-board")
        assert done.returncode == 2, (why, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and why in lines[0] and str(path) in lines[0], (why, done.stderr)
        assert (digest(path) if path.exists() else None) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no .wal, no copy left behind


@pytest.mark.slow
def test_an_archive_is_served_on_its_own_port_and_left_untouched(tmp_path):
    db = tmp_path / "night.duckdb"
    recorded_night(db, queue_config()).close()
    before = digest(db)
    log = tmp_path / "replay.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "warroom.cli", "replay", "--db", str(db), "--no-board"],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        url = wait_for(lambda: re.search(r"API (http://127\.0\.0\.1:\d+)", log.read_text()), 20, "the API line",
                       proc, log).group(1)
        tile = requests.get(f"{url}/api/v1/board", params={"at": at(115).isoformat()}, timeout=5).json()["tiles"][0]
        assert (tile["value"], tile["level"]) == (47.0, "red")
        r = requests.post(f"{url}/api/v1/push", json={"samples": [{"metric": "queue", "value": 1}]}, timeout=5)
        assert r.status_code == 409
    finally:
        stop(proc)
    assert digest(db) == before and sorted(p.name for p in tmp_path.iterdir()) == ["night.duckdb", "replay.log"]


def test_a_v1_archive_is_upgraded_in_a_copy(tmp_path):
    from fastapi.testclient import TestClient

    from warroom.archive.replay import archive_app, open_archive
    from warroom.config.load import load_config

    db = make_v1_night(tmp_path / "v1.duckdb")
    before = digest(db)
    archive = open_archive(db, load_config(ROOT / "config.yaml", env={}))
    try:
        client = TestClient(archive_app(archive))
        tiles = {t["metric"]: t for t in client.get("/api/v1/board", params={"at": "2024-11-11T23:02:30+08:00"})
                 .json()["tiles"]}
        # no transitions were recorded in v1: the level of the raw value, as v1 replay showed it
        assert tiles["response_time"]["value"] == 18.0 and tiles["response_time"]["level"] == "red"
        assert tiles["response_time"]["note"] == "recomputed"
        log = client.get("/api/v1/annotations", params={"from": "2024-11-11T23:00:00+08:00",
                                                        "to": "2024-11-11T23:10:00+08:00"}).json()["annotations"]
        assert [a["kind"] for a in log] == ["decision", "runsheet"]
    finally:
        archive.close()
    assert digest(db) == before
