"""Table tests for the pure level evaluation."""

import math

import pytest

from alerts.levels import GREEN_STATE, LevelState, evaluate, raw_level
from warroom.values import Level, LevelRule

CPU = LevelRule("above", yellow=80, orange=90, red=95)
SUCCESS = LevelRule("below", yellow=95, orange=90, red=80)


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (CPU, 10, Level.GREEN),
        (CPU, 79.99, Level.GREEN),
        (CPU, 80, Level.YELLOW),  # reaching the threshold counts
        (CPU, 89.9, Level.YELLOW),
        (CPU, 90, Level.ORANGE),
        (CPU, 99, Level.RED),
        (SUCCESS, 99.5, Level.GREEN),
        (SUCCESS, 95, Level.YELLOW),
        (SUCCESS, 91, Level.YELLOW),
        (SUCCESS, 85, Level.ORANGE),
        (SUCCESS, 71, Level.RED),
        (LevelRule("above", red=15), 14, Level.GREEN),  # only red configured
        (LevelRule("above", red=15), 18, Level.RED),
        (CPU, math.nan, Level.GREEN),
    ],
)
def test_raw_level(rule, value, expected):
    assert raw_level(value, rule) == expected


def test_rise_is_immediate_without_pending():
    assert evaluate(96, CPU, GREEN_STATE, now=0).level == Level.RED


@pytest.mark.parametrize(
    ("previous", "value", "expected"),
    [
        (Level.RED, 94, Level.RED),  # inside the clear band of red (95 - 2)
        (Level.RED, 92.9, Level.ORANGE),  # past red's band, still orange
        (Level.RED, 70, Level.GREEN),  # past every band at once
        (Level.YELLOW, 78.5, Level.YELLOW),  # 80 - 2 = 78 not yet cleared
        (Level.YELLOW, 77.9, Level.GREEN),
    ],
)
def test_clear_band_above(previous, value, expected):
    rule = LevelRule("above", yellow=80, orange=90, red=95, clear=2)
    assert evaluate(value, rule, LevelState(previous), now=0).level == expected


@pytest.mark.parametrize(
    ("previous", "value", "expected"),
    [
        (Level.ORANGE, 90.5, Level.ORANGE),  # 90 + 1 not yet passed
        (Level.ORANGE, 91.5, Level.YELLOW),
        (Level.ORANGE, 96.5, Level.GREEN),
        (Level.GREEN, 95.5, Level.GREEN),
    ],
)
def test_clear_band_below(previous, value, expected):
    rule = LevelRule("below", yellow=95, orange=90, red=80, clear=1)
    assert evaluate(value, rule, LevelState(previous), now=0).level == expected


def test_pending_holds_the_rise_until_for_has_passed():
    rule = LevelRule("above", yellow=80, red=95, pending=10)
    s = evaluate(96, rule, GREEN_STATE, now=100)
    assert s.level == Level.GREEN and s.pending_since == 100
    s = evaluate(97, rule, s, now=109.9)
    assert s.level == Level.GREEN
    s = evaluate(97, rule, s, now=110)
    assert s.level == Level.RED and s.pending_since is None


def test_pending_rise_is_forgotten_when_the_value_comes_back():
    rule = LevelRule("above", yellow=80, pending=10)
    s = evaluate(85, rule, GREEN_STATE, now=0)
    s = evaluate(50, rule, s, now=5)
    assert s == GREEN_STATE
    s = evaluate(85, rule, s, now=6)
    assert s.pending_since == 6


def test_pending_rises_to_the_level_reached_when_it_fires():
    rule = LevelRule("above", yellow=80, orange=90, red=95, pending=5)
    s = evaluate(82, rule, GREEN_STATE, now=0)
    s = evaluate(91, rule, s, now=5)
    assert s.level == Level.ORANGE


def test_nan_keeps_the_previous_state():
    prev = LevelState(Level.ORANGE)
    assert evaluate(math.nan, CPU, prev, now=0) == prev


def test_level_words_round_trip():
    for level in Level:
        assert Level.from_word(level.word) is level
    with pytest.raises(ValueError, match="purple"):
        Level.from_word("purple")
