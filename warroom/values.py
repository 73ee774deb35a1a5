"""The values every room passes around; this module imports nothing of the project.

A sample (a timestamped number for a named metric), a level and its thresholds, what the wall shows
of a metric, one poll's outcome, and the campaign's window: plain data, so a collector, the alert
engine, the store and the API can all speak of them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Direction = Literal["above", "below"]


class Level(IntEnum):
    """Ordered so that comparisons read naturally: RED > ORANGE > YELLOW > GREEN."""

    GREEN = 0
    YELLOW = 1
    ORANGE = 2
    RED = 3

    @property
    def word(self) -> str:
        """The lower-case name used in config, the API and the alert log."""
        return self.name.lower()

    @classmethod
    def from_word(cls, word: str) -> Level:
        """Parse `yellow` etc.; ValueError names the word."""
        try:
            return cls[word.upper()]
        except KeyError:
            raise ValueError(f"unknown level {word!r} (green, yellow, orange, red)") from None


WARNING_LEVELS = (Level.YELLOW, Level.ORANGE, Level.RED)


@dataclass(frozen=True)
class LevelRule:
    """The thresholds of one metric. A missing threshold means that level is never reached."""

    direction: Direction
    yellow: float | None = None
    orange: float | None = None
    red: float | None = None
    pending: float = 0.0
    """Seconds a breach must hold before the level rises (Prometheus' `for`)."""
    clear: float = 0.0
    """How far back past a threshold the value must come before the level drops (hysteresis)."""

    def threshold(self, level: Level) -> float | None:
        """The threshold that starts `level`, or None."""
        return {Level.YELLOW: self.yellow, Level.ORANGE: self.orange, Level.RED: self.red}.get(level)

    def breaches(self, value: float, threshold: float) -> bool:
        """True when the value is on the bad side of the threshold; reaching it counts."""
        return value >= threshold if self.direction == "above" else value <= threshold

    def cleared(self, value: float, threshold: float) -> bool:
        """True when the value is back past the threshold by the clear band."""
        if self.direction == "above":
            return value < threshold - self.clear
        return value > threshold + self.clear


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


@dataclass(frozen=True)
class RunRecord:
    """One poll of one collector: the row that explains a stale tile."""

    ts: datetime
    collector: str
    ok: bool
    duration_s: float
    samples: int
    error: str | None = None


@dataclass
class PollResult:
    """What one poll produced: samples to store and evaluate, and the run row (None for internal samples).

    A sample whose value is NaN says "no traffic": a ratio over nothing (0 of 0 orders after the
    close) is not a fault and not a number; the engine shows it as such and the writer stores nothing.
    """

    samples: list[Sample]
    run: RunRecord | None


@dataclass(frozen=True)
class CampaignWindow:
    """The resolved campaign clock for this run of the daemon."""

    name: str
    start: datetime | None
    end: datetime


def known_zone(name: str) -> ZoneInfo:
    """The IANA timezone `name`; ValueError says what a valid name looks like."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r} (an IANA name such as Asia/Shanghai)") from None
