"""The `postgres` collector against a real throwaway PostgreSQL (tests/pg_server.py)."""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from pydantic import ValidationError

from collectors.base import CollectError, CollectorContext
from collectors.pg import check_dsn, mask_dsn
from collectors.postgres import PostgresCollector, PostgresSettings
from tests.pg_server import PostgresServer
from tests.realparts import free_port

pytestmark = pytest.mark.needs_postgres

NOW = datetime(2024, 11, 29, 23, 40, tzinfo=UTC)


def make_collector(dsn: str, name: str = "db", timeout: float | str = 3.0) -> PostgresCollector:
    settings = PostgresSettings(type="postgres", name=name, dsn=dsn, timeout=timeout)
    return PostgresCollector(settings, CollectorContext())


@pytest.fixture
def collector(postgres_dsn: str) -> Iterator[PostgresCollector]:
    coll = make_collector(postgres_dsn, name=f"db-{secrets.token_hex(3)}")
    yield coll
    coll.close()


def backend_pid(dsn: str, application_name: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "select pid from pg_stat_activity where application_name = %s", [application_name]
        ).fetchone()
    assert row is not None, f"no session named {application_name!r}"
    return row[0]


def values(samples: list) -> dict[str, float]:
    return {s.metric: s.value for s in samples}


def test_percentage_is_client_sessions_over_max_connections(collector: PostgresCollector, postgres_dsn: str):
    before = values(collector.collect(NOW))
    assert set(before) == set(collector.settings.produces())
    assert before["db_connections.max"] == 20  # set by the fixture
    assert before["db_connections.count"] >= 1  # the collector's own session counts

    extra = [psycopg.connect(postgres_dsn) for _ in range(4)]
    try:
        samples = collector.collect(NOW)
    finally:
        for conn in extra:
            conn.close()
    after = values(samples)
    assert after["db_connections.count"] == before["db_connections.count"] + 4
    assert after["db_connections"] == pytest.approx(after["db_connections.count"] / 20 * 100)
    assert all(s.ts == NOW for s in samples)


def test_server_down_gives_a_readable_reason_without_the_password():
    password = "s3cret-Pw-" + secrets.token_hex(4)
    coll = make_collector(f"postgresql://warroom:{password}@127.0.0.1:{free_port()}/shop", timeout=1)
    started = time.monotonic()
    with pytest.raises(CollectError) as err:
        coll.collect(NOW)
    assert time.monotonic() - started < 5
    reason = err.value.reason
    assert reason.startswith("postgresql://warroom:***@127.0.0.1:")
    assert "cannot connect" in reason and "refused" in reason.lower()
    assert password not in reason and password not in str(err.value)
    coll.close()


def test_wrong_password_is_reported_and_masked(postgres_server: PostgresServer):
    dsn = postgres_server.dsn.replace(postgres_server.password, "wrong-" + postgres_server.password)
    coll = make_collector(dsn)
    with pytest.raises(CollectError) as err:
        coll.collect(NOW)
    assert "password authentication failed" in err.value.reason
    assert postgres_server.password not in err.value.reason
    coll.close()


def test_reconnects_when_the_server_kills_the_session(collector: PostgresCollector, postgres_dsn: str):
    collector.collect(NOW)
    app = f"warroom {collector.name}"
    old_pid = backend_pid(postgres_dsn, app)
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        assert conn.execute("select pg_terminate_backend(%s)", [old_pid]).fetchone() == (True,)
        deadline = time.monotonic() + 5
        alive = "select count(*) from pg_stat_activity where pid = %s"
        while conn.execute(alive, [old_pid]).fetchone() != (0,):
            assert time.monotonic() < deadline, "the terminated backend did not exit"
            time.sleep(0.05)
    # The dead session is noticed and replaced within the same poll.
    assert values(collector.collect(NOW))["db_connections.count"] >= 1
    assert backend_pid(postgres_dsn, app) != old_pid


def test_a_frozen_server_cannot_hang_the_poll(postgres_dsn: str):
    coll = make_collector(postgres_dsn, name=f"frozen-{secrets.token_hex(3)}", timeout="500ms")
    coll.collect(NOW)
    pid = backend_pid(postgres_dsn, f"warroom {coll.name}")
    # A stopped backend never runs its statement_timeout, like a server that stopped answering.
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(CollectError) as err:
            coll.collect(NOW)
        assert time.monotonic() - started < 3
        assert "no answer within 1.5s" in err.value.reason
    finally:
        os.kill(pid, signal.SIGCONT)
    assert values(coll.collect(NOW))["db_connections.count"] >= 1
    coll.close()


def test_a_role_that_cannot_see_other_sessions_is_refused(postgres_server: PostgresServer):
    role, password = f"plain_{secrets.token_hex(3)}", secrets.token_hex(8)
    with psycopg.connect(postgres_server.admin_dsn, autocommit=True) as admin:
        admin.execute(f"create role {role} login password '{password}'")
    dsn = f"postgresql://{role}:{password}@127.0.0.1:{postgres_server.port}/{postgres_server.dbname}"
    coll = make_collector(dsn)
    try:
        with pytest.raises(CollectError) as err:
            coll.collect(NOW)
        assert "grant it pg_monitor" in err.value.reason
        assert password not in err.value.reason
    finally:
        coll.close()
        with psycopg.connect(postgres_server.admin_dsn, autocommit=True) as admin:
            admin.execute(f"drop role {role}")


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://app:pa55@db.example:5432/shop", "postgresql://app:***@db.example:5432/shop"),
        (
            "postgres://app@db.example/shop?sslmode=require",
            "postgresql://app@db.example/shop?sslmode=require",
        ),
        (
            "host=db.example port=6432 dbname=shop user=app password='p a s s' sslpassword=kp",
            "postgresql://app:***@db.example:6432/shop?sslpassword=***",
        ),
        ("host=/var/run/postgresql dbname=shop", "postgresql://%2Fvar%2Frun%2Fpostgresql/shop"),
        ("postgresql://app:pa55@db.example:5432/shop?connect_timeout=x=", "<invalid DSN>"),
        ("not a dsn pa55", "<invalid DSN>"),
    ],
)
def test_mask_dsn_never_shows_a_password(dsn: str, shown: str):
    assert mask_dsn(dsn) == shown
    assert "pa55" not in mask_dsn(dsn) and "p a s s" not in mask_dsn(dsn)


def test_check_rejects_an_unparseable_dsn_without_echoing_it():
    with pytest.raises(CollectError) as err:
        check_dsn("user=app password=pa55 oops")
    assert "pa55" not in err.value.reason


def test_settings_forbid_unknown_keys_and_hide_the_dsn():
    with pytest.raises(ValidationError):
        PostgresSettings(type="postgres", name="db", dsn="postgresql://a@b/c", dns="typo")
    settings = PostgresSettings(type="postgres", name="db", dsn="postgresql://app:pa55@db/shop", timeout="2s")
    assert settings.timeout == 2.0
    assert "pa55" not in repr(settings) and "pa55" not in settings.model_dump_json()
    assert settings.produces() == ["db_connections", "db_connections.count", "db_connections.max"]
