"""Export → import brings the whole record back (every table, same report, same replay at every second);
a file imported twice never doubles; a killed export or a hostile file is refused and nothing of it is kept."""

from __future__ import annotations

import json
import os
import signal
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
from tests.daemon_kit import ROOT, wait_for
from tests.warroom.record.kit import T0, at, queue_config, recorded_night
from warroom.store.database import Store
from warroom.store.intake import OUTSIDE, import_file, import_promql
from warroom.store.schema import SCHEMA, to_db_ts
from warroom.store.transfer import MANIFEST, NOT_RECORD, RECORD, ImportRefused, export, import_record, sha256
from warroom.values import Sample

STATS = "SELECT metric, count(*), min(value), max(value), round(sum(value), 6), min(ts), max(ts) FROM samples " \
        "GROUP BY metric ORDER BY metric"


def stats(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(STATS).fetchall()
    finally:
        con.close()


def every_table(path):
    """Every row of every table of the record, in stored order."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in RECORD}
    finally:
        con.close()


def full_night(path):
    """The kit's night with a row in every table of the record: runs, rollup, silence, stand-in, starts."""
    store = recorded_night(path, queue_config())
    store.append_arrow(night_table(2, 600, start=T0))
    store.roll_up(T0 + timedelta(minutes=10))
    store.execute("INSERT INTO collector_runs VALUES (?, 'probe', true, 18.2, 1, NULL), "
                  "(?, 'probe', false, 3.0, 0, 'timeout, \"quoted\"\nsecond line')",
                  [to_db_ts(at(99)), to_db_ts(at(104))])
    store.execute("INSERT INTO silences VALUES (1, 'calls', ?, ?, '张伟', 'the box itself, not business', ?)",
                  [to_db_ts(at(20)), to_db_ts(at(400)), to_db_ts(at(20))])
    store.execute("INSERT INTO duty VALUES (?, 'general_manager', '孙磊', '+86 139', NULL, NULL, 'Wang', false)",
                  [to_db_ts(at(30))])
    store.execute("INSERT INTO daemon_starts VALUES (?, 'x', 'test')", [to_db_ts(at(0))])
    store.execute("INSERT INTO annotations (ts, author, role, alert_id, kind, text) "
                  "VALUES (?, 'Wang', 'general_manager', 1, 'note', '')",
                  [to_db_ts(at(121))])  # an empty text stays empty, not NULL
    store.close()
    return path


@pytest.fixture
def night(tmp_path):
    return full_night(tmp_path / "night.duckdb")


def test_every_table_of_the_schema_is_exported():
    created = {line.split()[5] for line in SCHEMA.splitlines() if line.startswith("CREATE TABLE")}
    assert created == set(RECORD) | set(NOT_RECORD)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_then_import_brings_back_every_row_of_every_table(night, tmp_path, fmt):
    counts = export(night, tmp_path / "out", fmt)
    assert all(counts[t] > 0 for t in RECORD), counts
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["tables"]["samples"]["rows"] == counts["samples"] == 1206
    assert manifest["tables"]["samples"]["sha256"] == sha256(tmp_path / "out" / f"samples.{fmt}")
    back = Store(tmp_path / "back.duckdb")
    try:
        done = import_record(back, tmp_path / "out")
    finally:
        back.close()
    assert done.rows == counts
    assert every_table(tmp_path / "back.duckdb") == every_table(night)


def test_importing_the_same_export_twice_is_refused_with_its_range_and_changes_nothing(night, tmp_path):
    export(night, tmp_path / "out", "parquet")
    back = Store(tmp_path / "back.duckdb")
    try:
        import_record(back, tmp_path / "out")
        with pytest.raises(ImportRefused, match=r"already holds this night \(campaign .*1,206 samples from "
                                                r"2024-11-11T15:00:00\+00:00 to 2024-11-11T15:09:59"):
            import_record(back, tmp_path / "out")
        assert back.execute("SELECT count(*) FROM samples").fetchall() == [(1206,)]
    finally:
        back.close()


def test_a_record_is_not_imported_into_a_file_holding_another_night(night, tmp_path):
    export(night, tmp_path / "out", "parquet")
    other = Store(tmp_path / "other.duckdb")
    try:
        other.append_arrow(night_table(1, 10))
        with pytest.raises(ImportRefused, match="a file holds one night: import into a new file"):
            import_record(other, tmp_path / "out")
        assert other.execute("SELECT count(*) FROM samples").fetchall() == [(10,)]
    finally:
        other.close()


def test_export_is_bounded_by_time(night, tmp_path):
    counts = export(night, tmp_path / "out", "parquet", at(100), at(130))
    assert counts["samples"] == 3 + 2 * 31 and counts["level_changes"] == 2 and counts["annotations"] == 2
    assert counts["alerts"] == 1 and counts["silences"] == 1 and counts["campaigns"] == 1  # overlapping; all


def test_a_changed_or_cut_file_does_not_match_its_manifest(night, tmp_path):
    export(night, tmp_path / "out", "csv")
    samples = tmp_path / "out" / "samples.csv"
    samples.write_bytes(samples.read_bytes()[:-40])  # the last line cut, as a killed copy leaves it
    back = Store(tmp_path / "back.duckdb")
    try:
        with pytest.raises(ImportRefused, match=r"samples.csv: does not match manifest.json \(checksum\)"):
            import_record(back, tmp_path / "out")
        with pytest.raises(ImportRefused, match=r"does not match manifest.json beside it"):
            import_file(back, samples)
        assert back.execute("SELECT count(*) FROM samples").fetchall() == [(0,)]
    finally:
        back.close()


def tamper(folder, table, edit):
    """Change one table's CSV of an export and give the manifest the new checksum: only the rows can tell."""
    path = folder / f"{table}.csv"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["tables"][table]["sha256"] = sha256(path)
    (folder / MANIFEST).write_text(json.dumps(manifest))


HOSTILE_RECORD = [
    ("alert_events", lambda t: t.replace(",Zhang,", ",<script>x</script>,", 1) if ",Zhang," in t else
     t.replace("general_manager", "<b>gm</b>", 1), r"alert_events.csv: row \d+: role: holds markup"),
    ("annotations", lambda t: t.replace("Wang", "W\x1b[2Jang", 1), r"annotations.csv: row 1: author: holds a "
                                                                  r"control character"),
    ("annotations", lambda t: t.replace("Wang", "W" * 10_000, 1), r"author: is 10000 characters long \(at most 200\)"),
    ("collector_runs", lambda t: t.replace("18.2", "nan", 1), r"collector_runs.csv: row 1: duration_s: nan is not "
                                                              r"finite"),
    ("collector_runs", lambda t: t.replace("18.2", "eighteen", 1), r"row 1: duration_s: 'eighteen' is not a number"),
    ("level_changes", lambda t: t.replace("2024-11-11", "0001-01-01", 1), r"level_changes.csv: row 1: ts: "
                                                                          r"0001-01-01 .* is outside the years"),
]


@pytest.mark.parametrize(("table", "edit", "why"), HOSTILE_RECORD)
def test_a_hostile_row_in_a_record_is_refused_by_file_row_and_column_and_nothing_is_kept(night, tmp_path, table,
                                                                                         edit, why):
    export(night, tmp_path / "out", "csv")
    tamper(tmp_path / "out", table, edit)
    back = Store(tmp_path / "back.duckdb")
    try:
        with pytest.raises(ImportRefused, match=why):
            import_record(back, tmp_path / "out")
        assert all(back.execute(f"SELECT count(*) FROM {t}").fetchall() == [(0,)] for t in RECORD)
    finally:
        back.close()


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


BAD = [
    ("ts,metric\n2024-11-11T15:00:00,a\n", "missing column 'value'"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,1\n2024-11-11T15:00:01,a,abc\n", "row 2: value: 'abc' is not a number"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,1\nyesterday,a,2\n", "row 2: ts: 'yesterday' is not a time"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,1\n2024-11-11T15:00:01,a,\n", "row 2: value: is empty"),
    ("ts,metric,value\n2024-11-11T15:00:00,,1\n", "row 1: metric: is empty"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,1\n2024-11-11T15:00:01,a,inf\n", "row 2: value: inf is not finite"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,NaN\n", "row 1: value: nan is not finite"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,1\n0001-01-01T00:00:00,a,2\n", "row 2: ts: 0001-01-01 00:00:00 is "
                                                                            "outside the years 2000–2199"),
    ("ts,metric,value\n9999-12-31T23:59:59,a,2\n", "row 1: ts: 9999-12-31 23:59:59 is outside the years"),
    ("ts,metric,value\n2024-11-11T15:00:00,<img src=x onerror=alert(1)>,2\n", "row 1: metric: holds markup"),
    ("ts,metric,value\n2024-11-11T15:00:00,a,1\n2024-11-11T15:00:01,\"a\x07b\",2\n",
     r"row 2: metric: holds a control character"),
    ("ts,metric,value\n2024-11-11T15:00:00," + "m" * 10_000 + ",2\n", r"row 1: metric: is 10000 characters long"),
]


@pytest.mark.parametrize(("text", "why"), BAD)
def test_a_bad_row_is_refused_by_row_and_column_and_nothing_is_imported(night, tmp_path, text, why):
    before = stats(night)
    store = Store(night)
    try:
        with pytest.raises(ImportRefused, match=why.replace("(", r"\(").replace(")", r"\)")):
            import_file(store, write_csv(tmp_path / "bad.csv", text))
    finally:
        store.close()
    assert stats(night) == before


def test_the_last_of_two_million_rows_bad_in_parquet_imports_nothing(night, tmp_path):
    n = 2_000_000
    start = int(datetime(2024, 11, 11, 16, tzinfo=UTC).timestamp() * 1e6)
    table = pa.table({"ts": pa.array(range(start, start + n * 1000, 1000), pa.int64()).cast(pa.timestamp("us")),
                      "metric": pa.array(["m"] * n),
                      "value": pa.array([str(i) for i in range(n - 1)] + ["oops"])})
    pq.write_table(table, tmp_path / "big.parquet")
    before = stats(night)
    store = Store(night)
    try:
        with pytest.raises(ImportRefused, match=f"row {n:d}: value: 'oops' is not a number"):
            import_file(store, tmp_path / "big.parquet")
    finally:
        store.close()
    assert stats(night) == before


def test_importing_the_same_sample_file_twice_never_doubles(tmp_path):
    source = write_csv(tmp_path / "s.csv", "ts,metric,value\n2024-11-11T15:00:00,a,1\n2024-11-11T15:00:01,a,2\n")
    store = Store(tmp_path / "n.duckdb")
    try:
        assert import_file(store, source).rows == {"samples": 2}
        with pytest.raises(ImportRefused, match=r"already holds 2 of these samples \(from 2024-11-11T15:00:00\+00:00 "
                                                r"to 2024-11-11T15:00:01\+00:00\)"):
            import_file(store, source)
        assert store.execute("SELECT count(*) FROM samples").fetchall() == [(2,)]
    finally:
        store.close()


def test_rows_the_night_would_not_show_are_counted_per_reason_and_not_kept(tmp_path):
    source = write_csv(tmp_path / "s.csv", "ts,metric,value\n"
                       "2024-11-11T15:00:00,queue,1\n"
                       "2024-11-11T15:00:01,mystery,2\n2024-11-11T15:00:02,other,3\n"  # unknown metrics
                       "2024-11-01T15:00:00,queue,4\n"                                 # outside the campaign
                       "2024-11-11T15:00:03,queue,5\n")
    store = Store(tmp_path / "n.duckdb")
    try:
        done = import_file(store, source, known={"queue", "calls"}, window=(T0, T0 + timedelta(hours=1)))
        rows = store.execute("SELECT metric, value FROM samples ORDER BY ts").fetchall()
    finally:
        store.close()
    assert rows == [("queue", 1.0), ("queue", 5.0)]
    assert done.not_shown == {"unknown metric (mystery, other)": 2, OUTSIDE: 1}


def test_glob_characters_in_the_source_name_are_taken_literally(tmp_path):
    write_csv(tmp_path / "a.csv", "ts,metric,value\n2024-11-11T15:00:00,a,1\n")
    write_csv(tmp_path / "b.csv", "ts,metric,value\n2024-11-11T15:00:00,b,1\n")
    literal = write_csv(tmp_path / "[ab].csv", "ts,metric,value\n2024-11-11T15:00:00,literal,1\n")
    star = write_csv(tmp_path / "a*.csv", "ts,metric,value\n2024-11-11T15:00:05,star,1\n")
    quote = write_csv(tmp_path / "it's.csv", "ts,metric,value\n2024-11-11T15:00:09,quote,1\n")
    store = Store(tmp_path / "n.duckdb")
    try:
        for path in (literal, star, quote):
            assert import_file(store, path).rows == {"samples": 1}
        names = [r[0] for r in store.execute("SELECT metric FROM samples ORDER BY ts").fetchall()]
    finally:
        store.close()
    assert names == ["literal", "star", "quote"]


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
        import_file(store, write_csv(tmp_path / "s.csv", "ts,metric,value\n2024-11-10T15:03:30.5,m00,999\n"))
        row = store.execute("SELECT max_value, n FROM samples_1m WHERE minute = '2024-11-10 15:03:00'").fetchall()
    finally:
        store.close()
    assert row == [(999.0, 61)]


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "warroom.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


def test_cli_refuses_a_bad_row_with_exit_2_and_leaves_no_file(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", BAD[1][0])
    done = cli("import", "--db", str(tmp_path / "n.duckdb"), str(bad), "-c", str(tmp_path / "none.yaml"))
    assert done.returncode == 2
    assert done.stderr.strip().endswith("row 2: value: 'abc' is not a number; nothing was imported")
    assert not (tmp_path / "n.duckdb").exists()  # the file the refused import created is gone again


def test_cli_export_refuses_an_unusable_output_in_one_line_before_any_work(night, tmp_path):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    cases = {str(tmp_path / "a-file"): "is a file; an export is written into a new folder",
             str(tmp_path / "full"): "the folder is not empty",
             str(tmp_path / "a-file" / "out"): "a-file is a file, not a folder"}
    for out, why in cases.items():
        done = cli("export", "--db", str(night), "-o", out)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and why in lines[0] and out in lines[0], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "full", "night.duckdb"]


def test_cli_export_then_import_round_trips_and_a_second_import_is_refused(night, tmp_path):
    store = Store(night)
    store.append([Sample(at(60), "retired", 1.0)])  # a metric its config no longer has (a restart changed it)
    store.close()
    assert cli("export", "--db", str(night), "-o", str(tmp_path / "out"), "--format", "csv").returncode == 0
    first = cli("import", "--db", str(tmp_path / "back.duckdb"), str(tmp_path / "out"))
    assert first.returncode == 0 and "the whole record into" in first.stdout, first.stderr
    assert "1 rows kept in the record, but its config has no metric 'retired'" in first.stdout
    again = cli("import", "--db", str(tmp_path / "back.duckdb"), str(tmp_path / "out"))
    assert again.returncode == 2 and "already holds this night" in again.stderr
    assert every_table(tmp_path / "back.duckdb") == every_table(night)


@pytest.mark.slow
def test_a_killed_export_leaves_nothing_import_accepts(tmp_path):
    db = tmp_path / "big.duckdb"
    store = Store(db)
    store.append_arrow(night_table(50, 40_000))  # 2 M samples: seconds of CSV to write
    store.close()
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "warroom.cli", "export", "--db", str(db), "-o", str(out),
                             "--format", "csv"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def writing():
        partial = [p for p in tmp_path.iterdir() if p.name.startswith("out.partial-")]
        return partial and (partial[0] / "samples.csv").exists() and \
            (partial[0] / "samples.csv").stat().st_size > 1 << 20 and partial[0]

    partial = wait_for(writing, 60, "the export writing samples.csv", proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert not out.exists()  # a killed export never has the name of a finished one
    back = Store(tmp_path / "back.duckdb")
    try:
        with pytest.raises(ImportRefused, match="an export that did not finish"):
            import_record(back, partial)
        with pytest.raises(ImportRefused, match="part of an export that did not finish"):
            import_file(back, partial / "samples.csv")
        assert back.execute("SELECT count(*) FROM samples").fetchall() == [(0,)]
    finally:
        back.close()


@pytest.mark.needs_prometheus
def test_import_from_a_prometheus_range_query(prometheus, tmp_path):  # noqa: F811
    prometheus.expose(7856)
    time.sleep(2.5)
    end = datetime.now(UTC)
    store = Store(tmp_path / "n.duckdb")
    try:
        n = import_promql(store, prometheus.url, "warroom_test_orders", "orders_total", end - timedelta(seconds=20),
                          end, 1.0).rows["samples"]
        rows = store.execute("SELECT metric, max(value), count(*) FROM samples GROUP BY metric").fetchall()
        assert n >= 2 and rows == [("orders_total", 7856.0, n)]
        with pytest.raises(ImportRefused, match="returned 2 series"):
            import_promql(store, prometheus.url, "warroom_test_queue", "q", end - timedelta(seconds=20), end, 1.0)
        with pytest.raises(ImportRefused, match="bad_data"):
            import_promql(store, prometheus.url, "sum(", "q", end - timedelta(seconds=20), end, 1.0)
        assert store.execute("SELECT count(*) FROM samples").fetchall()[0][0] == n
    finally:
        store.close()
