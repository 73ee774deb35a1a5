"""The `sql` collector against a real throwaway PostgreSQL (tests/pg_server.py)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from collectors.base import CollectError, CollectorContext
from collectors.sql import SqlCollector, SqlSettings
from tests.pg_server import PostgresServer
from tests.realparts import free_port

pytestmark = pytest.mark.needs_postgres

NOW = datetime(2024, 11, 29, 23, 40, tzinfo=UTC)


@pytest.fixture
def shop(postgres_dsn: str) -> Iterator[str]:
    """A private schema holding `orders`: 97 submitted orders, 3 of them failed."""
    schema = f"shop_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"create schema {schema}")
        conn.execute(f"create table {schema}.orders (id serial primary key, status text not null)")
        conn.execute(
            f"insert into {schema}.orders (status)"
            " select case when i % 33 = 0 then 'failed' else 'submitted' end from generate_series(1, 100) i"
        )
    yield schema
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"drop schema {schema} cascade")


def run(dsn: str, query: str, timeout: float | str = 3.0) -> float:
    """One poll of a fresh collector; the value, or the CollectError."""
    settings = SqlSettings(
        type="sql", name="orders", dsn=dsn, query=query, metric="checkout_success", timeout=timeout
    )
    coll = SqlCollector(settings, CollectorContext())
    try:
        samples = coll.collect(NOW)
    finally:
        coll.close()
    assert [(s.ts, s.metric) for s in samples] == [(NOW, "checkout_success")]
    return samples[0].value


def failure(dsn: str, query: str, timeout: float | str = 3.0) -> str:
    with pytest.raises(CollectError) as err:
        run(dsn, query, timeout)
    return err.value.reason


def order_count(dsn: str, schema: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"select count(*) from {schema}.orders").fetchone()[0]


def test_success_rate_from_an_orders_table(postgres_dsn: str, shop: str):
    query = f"select 100.0 * count(*) filter (where status <> 'failed') / count(*) from {shop}.orders"
    assert run(postgres_dsn, query) == pytest.approx(97.0)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("select 42", 42.0),
        ("select 7::bigint", 7.0),
        ("select 2.5::numeric", 2.5),
        ("select 0.25::float8", 0.25),
    ],
)
def test_integer_decimal_and_float_values_are_accepted(postgres_dsn: str, query: str, expected: float):
    assert run(postgres_dsn, query) == expected


def test_the_session_is_read_only_with_the_configured_timeout(postgres_dsn: str):
    assert run(postgres_dsn, "select (current_setting('transaction_read_only') = 'on')::int") == 1
    query = "select (current_setting('statement_timeout')::interval = '750ms')::int"
    assert run(postgres_dsn, query, timeout="750ms") == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("select 1 where false", "returned no rows"),
        ("select null::numeric as rate", "returned NULL (rate)"),
        ("select 1 as a, 2 as b", "returned 2 columns (a, b)"),
        ("select generate_series(1, 3)", "more than one row"),
        ("select 'abc' as rate", "returned str 'abc' (rate), not a number"),
        ("select true as paid", "returned bool True (paid), not a number"),
        ("select 'NaN'::float8", "not a finite number"),
        ("select * from no_such_table", 'query failed: relation "no_such_table" does not exist'),
        ("select 1/0", "query failed: division by zero"),
    ],
)
def test_each_bad_answer_has_a_clear_reason(postgres_server: PostgresServer, query: str, expected: str):
    reason = failure(postgres_server.dsn, query)
    assert expected in reason
    assert reason.startswith(f"postgresql://warroom:***@127.0.0.1:{postgres_server.port}/warroom_test: ")
    assert postgres_server.password not in reason


def test_an_unreachable_server_is_named_without_its_password():
    reason = failure(f"postgresql://reader:hunter2-pw@127.0.0.1:{free_port()}/shop", "select 1", timeout=1)
    assert reason.startswith("postgresql://reader:***@127.0.0.1:") and "cannot connect" in reason
    assert "hunter2-pw" not in reason


def test_a_write_is_refused_because_the_session_is_read_only(postgres_dsn: str, shop: str):
    reason = failure(postgres_dsn, f"insert into {shop}.orders (status) values ('submitted') returning 1")
    assert "cannot execute INSERT in a read-only transaction" in reason
    assert order_count(postgres_dsn, shop) == 100


def test_a_second_statement_cannot_switch_the_session_to_read_write(postgres_dsn: str, shop: str):
    query = f"set transaction read write; insert into {shop}.orders (status) values ('submitted') returning 1"
    reason = failure(postgres_dsn, query)
    assert "cannot insert multiple commands" in reason
    assert order_count(postgres_dsn, shop) == 100


def test_a_slow_query_is_cancelled_at_the_timeout(postgres_dsn: str):
    started = time.monotonic()
    reason = failure(postgres_dsn, "select pg_sleep(5)", timeout="500ms")
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, f"took {elapsed:.2f}s"
    assert "query cancelled after 500ms: canceling statement due to statement timeout" in reason


def test_the_collector_keeps_working_after_a_failed_poll(postgres_dsn: str, shop: str):
    settings = SqlSettings(
        type="sql",
        name="orders",
        dsn=postgres_dsn,
        metric="orders_total",
        query=f"select count(*) from {shop}.orders",
    )
    coll = SqlCollector(settings, CollectorContext())
    try:
        assert coll.collect(NOW)[0].value == 100
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f"alter table {shop}.orders rename to orders_gone")
            with pytest.raises(CollectError, match="does not exist"):
                coll.collect(NOW)
            conn.execute(f"alter table {shop}.orders_gone rename to orders")
        assert coll.collect(NOW)[0].value == 100
    finally:
        coll.close()
