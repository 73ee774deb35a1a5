"""The one thing every source produces: a timestamped number for a named metric."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from warroom.store import RunRecord


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


class MetricView(NamedTuple):
    """What the wall shows of one metric at one moment: the one snapshot every surface reads.

    The live engine keeps one per metric and writes a `level_changes` row whenever level, stale
    or decider changes; replay at T rebuilds the same view from those rows and the samples known by T.
    """

    metric: str
    value: float | None
    ts: datetime | None
    """When warroom learned the value (end of the poll, or receipt of a push)."""
    level: str
    """green | yellow | orange | red: the engine's level, with pending time and hysteresis."""
    stale: bool
    owner_role: str | None
    owner_name: str | None
    since: datetime | None
    """When the current (level, stale, decider) began."""
    note: str | None = None
    """Why there is no value although nothing is wrong, e.g. `no_traffic` or `watch_ended`."""


@dataclass
class PollResult:
    """What one poll produced: samples to store and evaluate, and the run row (None for internal samples).

    A sample whose value is NaN says "no traffic": a ratio over nothing (0 of 0 orders after the
    close) is not a fault and not a number; the engine shows it as such and the writer stores nothing.
    """

    samples: list[Sample]
    run: RunRecord | None
