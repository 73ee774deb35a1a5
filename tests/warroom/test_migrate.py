"""Schema version 3: a v1 file (made with the code of 2783be0) or a v2 file is upgraded and loses nothing; others
refused."""

from __future__ import annotations

import duckdb
import pytest

from tests.fixtures.v1_night import COUNTS, make_v1_night
from warroom.store.database import Store, StoreError
from warroom.store.migrate import file_version
from warroom.store.schema import SCHEMA_VERSION


def columns(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()] for t in COUNTS}
    finally:
        con.close()


def counts(path, cols):
    """Row counts, and every row of every v1 column (columns added later are allowed, values must stay)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in COUNTS}, \
            {t: sorted(map(repr, con.execute(f"SELECT {', '.join(cols[t])} FROM {t}").fetchall())) for t in COUNTS}
    finally:
        con.close()


def test_v1_file_is_upgraded_and_loses_nothing(tmp_path):
    path = make_v1_night(tmp_path / "v1.duckdb")
    v1_columns = columns(path)
    before_counts, before_rows = counts(path, v1_columns)
    assert before_counts == COUNTS
    Store(path).close()
    after_counts, after_rows = counts(path, v1_columns)
    assert after_counts == COUNTS and after_rows == before_rows
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert file_version(con) == SCHEMA_VERSION == 3
        # the v1 campaign rows keep every value and gain an id; each is a daemon start too
        rows = con.execute("SELECT name, kpi_target, campaign_id, config_snapshot FROM campaigns "
                           "ORDER BY started_at").fetchall()
        assert [r[0] for r in rows] == ["v1 night", "v1 night"] and rows[0][1] == 8000.0
        assert all(r[2].startswith("v1-") for r in rows) and rows[0][3] is None
        assert con.execute("SELECT count(*) FROM daemon_starts").fetchall()[0][0] == 2
        assert con.execute("SELECT count(*) FROM level_changes").fetchall()[0][0] == 0
    finally:
        con.close()
    Store(path).close()  # opening a v3 file again changes nothing
    assert counts(path, v1_columns)[0] == COUNTS


def test_a_newer_schema_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "future.duckdb"
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_info VALUES (4, now())")
    con.close()
    size = path.stat().st_size
    with pytest.raises(StoreError, match="newer warroom .*schema version 4"):
        Store(path)
    assert path.stat().st_size == size


def test_a_foreign_duckdb_file_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE orders (id INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a warroom database"):
        Store(path)


def test_a_v2_file_gains_where_each_decision_came_from_and_the_sign_ins_losing_nothing(tmp_path):
    # A v2 file as the code before version 3 left it: no annotations.via, no sign_ins table.
    path = tmp_path / "v2.duckdb"
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE annotations DROP COLUMN via")
    con.execute("DROP TABLE sign_ins")
    con.execute("DELETE FROM schema_info")
    con.execute("INSERT INTO schema_info VALUES (2, now())")
    con.execute("INSERT INTO annotations VALUES ('2024-11-11 15:31:00', '王强 · 总经理', 'general_manager', 'red', 1, "
                "'decision', '切换备用服务器', NULL)")
    con.close()
    Store(path).close()
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert file_version(con) == 3
        assert con.execute("SELECT author, text, via FROM annotations").fetchall() == \
            [("王强 · 总经理", "切换备用服务器", None)]
        assert con.execute("SELECT count(*) FROM sign_ins").fetchall()[0][0] == 0
    finally:
        con.close()
