"""The one thing every source produces: a timestamped number for a named metric."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple


class Sample(NamedTuple):
    """One measured value; ts is timezone-aware UTC."""

    ts: datetime
    metric: str
    value: float


def utc_now() -> datetime:
    """The wall clock in UTC; injected everywhere as `clock` so tests can replace it."""
    return datetime.now(UTC)


def as_utc(ts: datetime) -> datetime:
    """Treat a naive datetime as UTC and convert an aware one to UTC."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)
