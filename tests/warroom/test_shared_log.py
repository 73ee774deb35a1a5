"""The shared alert log against a real PostgreSQL: the leader's rows reach every node, a stale leader's are refused."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from tests.harness.until import until
from warroom.daemon.lease import Lease
from warroom.daemon.shared_log import SharedLog, decode, encode
from warroom.record import decisions
from warroom.store.database import Store

pytestmark = pytest.mark.needs_postgres


def _texts(store: Store) -> list[str]:
    return [r[0] for r in store.execute("SELECT text FROM annotations ORDER BY rowid").fetchall()]


def test_rows_round_trip_through_json() -> None:
    values = (datetime(2026, 12, 7, 23, 31, 5, 123456), 60.0, float("nan"), None, True, "王总 decides")
    back = decode(encode(values))
    assert back[0] == values[0] and back[1] == 60.0 and back[2] != back[2] and back[3:] == values[3:]


def test_the_leaders_rows_reach_a_follower_and_a_stale_leaders_are_refused(tmp_path: Path, postgres_dsn: str) -> None:
    cluster = f"c{secrets.token_hex(4)}"
    a_lease = Lease(postgres_dsn, cluster, "a", ttl=1.0, renew_every=0.3)
    b_lease = Lease(postgres_dsn, cluster, "b", ttl=1.0, renew_every=0.3)
    a_store, b_store = Store(tmp_path / "a.duckdb"), Store(tmp_path / "b.duckdb")
    fenced: list[int] = []
    a_log = SharedLog(postgres_dsn, cluster, "a", a_store, on_fenced=fenced.append)
    b_log = SharedLog(postgres_dsn, cluster, "b", b_store)
    a_store.tap, b_store.tap = a_log.tap, b_log.tap
    try:
        assert a_lease.look().leader and a_lease.state.epoch == 1
        a_log.lead(1)
        a_log.start()
        b_log.start()
        decisions.record(a_store, datetime.now(UTC), "Wang", "add two agents to the call centre")
        until(lambda: _texts(b_store) == ["add two agents to the call centre"], "the follower mirrors the row")
        # a stops renewing (frozen): b takes the lease once it expired, with a new epoch
        taken = until(lambda: (s := b_lease.look()).leader and s, "b takes the expired lease")
        assert taken.epoch == 2
        # a's late write under epoch 1 is refused, and a is told so (it stops paging)
        decisions.record(a_store, datetime.now(UTC), "Wang", "a stale leader's late row")
        until(lambda: fenced == [1], "the stale leader is fenced")
        assert a_log.refused == 1 and a_log.epoch is None
        with psycopg.connect(postgres_dsn) as con:
            texts = [r[0] for r in con.execute("SELECT vals FROM warroom_log WHERE cluster = %s", (cluster,))]
        assert len(texts) == 1 and "late row" not in texts[0]
        # the stale row stays in a's own file (the record of what it did), never in anyone else's
        assert "a stale leader's late row" in _texts(a_store)
        b_log.catch_up()
        assert _texts(b_store) == ["add two agents to the call centre"]
    finally:
        a_log.stop(0.5)
        b_log.stop(0.5)
        a_lease.stop(release=False)
        b_lease.stop()
        a_store.close()
        b_store.close()


def test_a_restarted_follower_mirrors_from_where_it_stopped(tmp_path: Path, postgres_dsn: str) -> None:
    cluster = f"c{secrets.token_hex(4)}"
    lease = Lease(postgres_dsn, cluster, "a", ttl=3.0, renew_every=1.0)
    a_store = Store(tmp_path / "a.duckdb")
    a_log = SharedLog(postgres_dsn, cluster, "a", a_store)
    a_store.tap = a_log.tap
    try:
        assert lease.look().leader
        a_log.lead(lease.state.epoch)
        a_log.start()
        decisions.record(a_store, datetime.now(UTC), "Li", "first")
        until(lambda: a_log.shipped == 1, "shipped")
        b_store = Store(tmp_path / "b.duckdb")
        assert SharedLog(postgres_dsn, cluster, "b", b_store).catch_up() == 1
        b_store.close()
        decisions.record(a_store, datetime.now(UTC), "Li", "second")
        until(lambda: a_log.shipped == 2, "shipped")
        b_store = Store(tmp_path / "b.duckdb")  # restarted: only what it has not mirrored yet, never twice
        assert SharedLog(postgres_dsn, cluster, "b", b_store).catch_up() == 1
        assert _texts(b_store) == ["first", "second"]
        b_store.close()
    finally:
        a_log.stop(0.5)
        lease.stop()
        a_store.close()
