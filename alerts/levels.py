"""Levels: pure evaluation of one value against a metric's yellow / orange / red thresholds.

No clock, no I/O: the caller passes `now` and the previous state, so the whole behaviour is
table-tested. The alert engine calls this for every sample; the board calls it for tiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from warroom.values import WARNING_LEVELS, Level, LevelRule


@dataclass(frozen=True)
class LevelState:
    """What `evaluate` remembers between samples."""

    level: Level = Level.GREEN
    pending_since: float | None = None
    """When the value first went past the current level; None when nothing is pending."""


GREEN_STATE = LevelState()


def raw_level(value: float, rule: LevelRule) -> Level:
    """The highest level whose threshold the value reaches, with no pending time or band."""
    if value is None or math.isnan(value):
        return Level.GREEN
    reached = Level.GREEN
    for level in WARNING_LEVELS:
        threshold = rule.threshold(level)
        if threshold is not None and rule.breaches(value, threshold):
            reached = level
    return reached


def _held_level(value: float, rule: LevelRule, current: Level) -> Level:
    """The highest level at or below `current` that the value has not yet cleared."""
    for level in sorted(WARNING_LEVELS, reverse=True):
        if level > current:
            continue
        threshold = rule.threshold(level)
        if threshold is not None and not rule.cleared(value, threshold):
            return level
    return Level.GREEN


def evaluate(value: float, rule: LevelRule, previous: LevelState, now: float) -> LevelState:
    """The new level state after one sample at `now` (epoch seconds)."""
    if value is None or math.isnan(value):
        return previous
    reached = raw_level(value, rule)
    if reached <= previous.level:
        # Falling (only once past the clear band) or holding: no pending time, and a pending rise is dropped.
        return LevelState(level=max(reached, _held_level(value, rule, previous.level)))
    if rule.pending <= 0:
        return LevelState(level=reached)
    since = previous.pending_since if previous.pending_since is not None else now
    if now - since >= rule.pending:
        return LevelState(level=reached)
    return LevelState(level=previous.level, pending_since=since)
