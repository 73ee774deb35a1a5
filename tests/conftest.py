"""Fixtures shared by the whole test tree; each is defined next to the part it starts."""

from tests.pg_server import postgres_dsn, postgres_server  # noqa: F401
