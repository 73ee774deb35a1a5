"""Export → import round-trips every sample; a bad row is refused by number and nothing is half-imported."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.common import night_table
from tests.collectors.test_promql import prometheus  # noqa: F401 - the real Prometheus fixture
from tests.daemon_kit import ROOT
from tests.warroom.record.kit import at, queue_config, recorded_night
from warroom.store.database import Store
from warroom.store.transfer import ImportRefused, export, import_file, import_promql

STATS = "SELECT metric, count(*), min(value), max(value), round(sum(value), 6), min(ts), max(ts) FROM samples " \
        "GROUP BY metric ORDER BY metric"


def stats(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(STATS).fetchall()
    finally:
        con.close()


@pytest.fixture
def night(tmp_path):
    db = tmp_path / "night.duckdb"
    store = recorded_night(db, queue_config())
    store.append_arrow(night_table(5, 600))
    store.close()
    return db


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_then_import_round_trips_every_sample(night, tmp_path, fmt):
    counts = export(night, tmp_path / "out", fmt)
    assert counts == {"samples": 3006, "level_changes": 5, "alerts": 1, "alert_events": 6, "annotations": 2}
    assert (tmp_path / "out" / f"alert_events.{fmt}").exists()
    back = Store(tmp_path / "back.duckdb")
    try:
        assert import_file(back, tmp_path / "out" / f"samples.{fmt}") == 3006
    finally:
        back.close()
    assert stats(tmp_path / "back.duckdb") == stats(night)


def test_export_is_bounded_by_time(night, tmp_path):
    counts = export(night, tmp_path / "out", "parquet", at(100), at(130))
    assert counts["samples"] == 3 and counts["level_changes"] == 2 and counts["annotations"] == 1
    assert counts["alerts"] == 1  # open during the window


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


BAD = [
    ("ts,metric\n2024-11-11T15:00:00,a\n", "missing column 'value'"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,1\n2024-11-11T15:00:01,a,abc\n", "row 2: value abc is not a number"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,1\nyesterday,a,2\n", "row 2: ts yesterday is not a time"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,1\n2024-11-11T15:00:01,a,\n", "row 2: value is empty"),
    ("ts,metric,value\n2024-11-11T15:00:00,,1\n", "row 1: metric is empty"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,1\n2024-11-11T15:00:01,a,inf\n", "row 2: value inf is not finite"),
]


@pytest.mark.parametrize(("text", "why"), BAD)
def test_a_bad_row_is_refused_by_number_and_nothing_is_imported(night, tmp_path, text, why):
    before = stats(night)
    store = Store(night)
    try:
        with pytest.raises(ImportRefused, match=why.replace("(", r"\(")):
            import_file(store, write_csv(tmp_path / "bad.csv", text))
    finally:
        store.close()
    assert stats(night) == before


def test_the_last_of_many_rows_bad_in_parquet_imports_nothing(night, tmp_path):
    n = 50_000
    table = pa.table({"ts": pa.array([datetime(2024, 11, 11, 16, tzinfo=UTC) + timedelta(seconds=i) for i in range(n)]),
                      "metric": pa.array(["m"] * n),
                      "value": pa.array([str(i) for i in range(n - 1)] + ["oops"])})
    pq.write_table(table, tmp_path / "big.parquet")
    before = stats(night)
    store = Store(night)
    try:
        with pytest.raises(ImportRefused, match=f"row {n}: value oops is not a number"):
            import_file(store, tmp_path / "big.parquet")
    finally:
        store.close()
    assert stats(night) == before


def test_times_with_an_offset_are_stored_in_utc(tmp_path):
    store = Store(tmp_path / "n.duckdb")
    try:
        import_file(store, write_csv(tmp_path / "s.csv", "ts,metric,value\n2024-11-11T23:00:00+08:00,a,1\n"
                                                           "2024-11-11T15:00:01,a,2\n"))
        rows = store.execute("SELECT ts, value FROM samples ORDER BY ts").fetchall()
    finally:
        store.close()
    assert rows == [(datetime(2024, 11, 11, 15, 0), 1.0), (datetime(2024, 11, 11, 15, 0, 1), 2.0)]


def test_import_refreshes_the_minute_rollup_it_touches(tmp_path):
    store = Store(tmp_path / "n.duckdb")
    try:
        store.append_arrow(night_table(1, 600))
        store.roll_up(datetime(2024, 11, 10, 15, 10, tzinfo=UTC))
        import_file(store, write_csv(tmp_path / "s.csv", "ts,metric,value\n2024-11-10T15:03:30,m00,999\n"))
        row = store.execute("SELECT max_value, n FROM samples_1m WHERE minute = '2024-11-10 15:03:00'").fetchall()
    finally:
        store.close()
    assert row == [(999.0, 61)]


def test_cli_refuses_a_bad_row_with_exit_2(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", BAD[1][0])
    done = subprocess.run([sys.executable, "-m", "warroom.cli", "import", "--db", str(tmp_path / "n.duckdb"),
                           str(bad), "-c", str(tmp_path / "none.yaml")], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().endswith("row 2: value abc is not a number; nothing was imported")


@pytest.mark.needs_prometheus
def test_import_from_a_prometheus_range_query(prometheus, tmp_path):  # noqa: F811
    prometheus.expose(7856)
    time.sleep(2.5)
    end = datetime.now(UTC)
    store = Store(tmp_path / "n.duckdb")
    try:
        n = import_promql(store, prometheus.url, "warroom_test_orders", "orders_total", end - timedelta(seconds=20),
                          end, 1.0)
        rows = store.execute("SELECT metric, max(value), count(*) FROM samples GROUP BY metric").fetchall()
        assert n >= 2 and rows == [("orders_total", 7856.0, n)]
        with pytest.raises(ImportRefused, match="returned 2 series"):
            import_promql(store, prometheus.url, "warroom_test_queue", "q", end - timedelta(seconds=20), end, 1.0)
        with pytest.raises(ImportRefused, match="bad_data"):
            import_promql(store, prometheus.url, "sum(", "q", end - timedelta(seconds=20), end, 1.0)
        assert store.execute("SELECT count(*) FROM samples").fetchall()[0][0] == n
    finally:
        store.close()
