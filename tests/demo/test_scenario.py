"""The night file, state_at and the scenario clock, against the seed's numbers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from demo.scenario import (
    NOISY_SERIES,
    PERCENT_SERIES,
    NightClock,
    Scenario,
    ScenarioError,
    jitter_at,
    load_scenario,
    parse_scenario,
    state_at,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def night() -> Scenario:
    return load_scenario()


def at(scenario: Scenario, clock: str) -> float:
    return scenario.offset_of(clock)


def small_night(**changes: Any) -> dict[str, Any]:
    """A minimal valid night as data; `changes` replace top-level sections."""
    data: dict[str, Any] = {
        "night": {
            "name": "test night", "date": "2024-11-11", "timezone": "Asia/Shanghai",
            "start": "23:00:00", "end": "00:30:00", "kpi_target": 8000, "entry_close": "23:59:59",
        },
        "system": {"db_pool_max": 200, "agents": 67, "submits_per_min_at_normal_load": 120,
                   "calls_per_min_base": 60},
        "keyframes": [
            {"at": "23:00:00", "load_factor": 1, "page_latency_s": 1.0, "cpu_pct": 40, "db_pool_pct": 20,
             "order_success_pct": 99, "pickup_pct": 95, "orders_total": 100, "stuck_customers": 0},
            {"at": "23:10:00", "cpu_pct": 60, "orders_total": 160},
            {"at": "23:20:00", "cpu_pct": 80, "orders_total": 200},
        ],
    }
    data.update(changes)
    return data


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_shipped_night_spans_23_00_to_00_30_next_day(night: Scenario) -> None:
    assert night.duration_s == 90 * 60
    assert night.night.kpi_target == 8000
    assert night.datetime_at(0) == datetime(2024, 11, 11, 23, 0, tzinfo=SHANGHAI)
    assert night.datetime_at(night.duration_s) == datetime(2024, 11, 12, 0, 30, tzinfo=SHANGHAI)
    assert state_at(night, night.duration_s).at.isoformat() == "2024-11-12T00:30:00+08:00"


def test_seed_numbers_at_the_keyframes(night: Scenario) -> None:
    start = state_at(night, 0, jitter=False)
    assert (start.orders_total, start.page_latency_s, start.load_factor) == (7856, 1.2, 1.0)
    peak = state_at(night, at(night, "23:30:00"), jitter=False)
    assert (peak.page_latency_s, peak.load_factor, peak.stuck_customers) == (18.0, 42.0, 2347)
    assert peak.cpu_pct > 95 and peak.db_pool_pct > 90
    assert peak.order_success_pct < 75 and peak.pickup_pct < 65
    assert peak.db_connections == round(peak.db_pool_pct / 100 * 200) and peak.db_pool_max == 200
    close = state_at(night, at(night, "23:59:59"), jitter=False)
    assert close.orders_total == 8127
    recovered = state_at(night, at(night, "23:45:00"), jitter=False)
    assert recovered.page_latency_s <= 2.5 and recovered.order_success_pct >= 97


def test_interpolation_is_linear_and_skips_keyframes_that_do_not_name_a_series() -> None:
    data = small_night()
    data["keyframes"][1].pop("cpu_pct")  # cpu now runs straight from 40 at 23:00 to 80 at 23:20
    scenario = parse_scenario(data)
    assert state_at(scenario, 300, jitter=False).orders_total == 130
    assert state_at(scenario, 600, jitter=False).cpu_pct == pytest.approx(60.0)
    assert state_at(scenario, 900, jitter=False).cpu_pct == pytest.approx(70.0)
    # After its last keyframe a series stays flat; before 0 / after the end the state is clamped.
    assert state_at(scenario, 3000, jitter=False).cpu_pct == 80
    assert state_at(scenario, -50, jitter=False).scenario_s == 0
    assert state_at(scenario, 10**6, jitter=False).scenario_s == scenario.duration_s


def test_orders_only_go_up_and_stop_at_the_entry_close(night: Scenario) -> None:
    previous = 0
    for second in range(0, int(night.duration_s) + 1, 7):
        orders = state_at(night, second).orders_total
        assert orders >= previous
        previous = orders
    close = at(night, "23:59:59")
    assert {state_at(night, close + s).orders_total for s in (0, 1, 60, 600, night.duration_s)} == {8127}

    def orders_between(first: str, last: str) -> int:
        return state_at(night, at(night, last)).orders_total - state_at(night, at(night, first)).orders_total

    assert orders_between("23:30:00", "23:35:00") < orders_between("23:50:00", "23:55:00")  # the crash crawls


def test_entry_and_payment_close_at_the_seeds_times(night: Scenario) -> None:
    assert state_at(night, at(night, "23:59:58")).entry_open
    assert not state_at(night, at(night, "23:59:59")).entry_open
    assert state_at(night, at(night, "00:04:59")).payment_open
    assert not state_at(night, at(night, "00:05:00")).payment_open


def test_jitter_is_deterministic_bounded_and_keeps_zero_at_zero(night: Scenario) -> None:
    for second in range(0, int(night.duration_s), 13):
        noisy, plain = state_at(night, second), state_at(night, second, jitter=False)
        assert noisy == state_at(night, second)
        for name in NOISY_SERIES:
            assert abs(getattr(noisy, name) - getattr(plain, name)) <= getattr(night.jitter, name) + 0.5
        for name in PERCENT_SERIES:
            assert 0 <= getattr(noisy, name) <= 100
    assert any(jitter_at(night.jitter, "cpu_pct", s) != 0 for s in range(0, 100, 7))
    assert state_at(night, at(night, "00:10:00")).stuck_customers == 0


def test_clock_plays_ninety_scenario_minutes_in_ten_real_minutes(night: Scenario) -> None:
    mono = FakeMonotonic()
    clock = NightClock(night, monotonic=mono)
    assert clock.speed == 9.0 and clock.read().scenario_s == 0
    mono.now += 300
    reading = clock.read()
    assert reading.scenario_s == 2700 and reading.elapsed_s == 300 and not reading.ended
    assert clock.state().clock == "23:45:00"
    mono.now += 300
    assert clock.read().scenario_s == 5400 and clock.read().ended
    assert "9x" in clock.describe() and "10 real min" in clock.describe()


def test_clock_holds_the_end_unless_it_loops(night: Scenario) -> None:
    mono = FakeMonotonic()
    holding = NightClock(night, 9.0, monotonic=mono)
    looping = NightClock(night, 9.0, loop=True, monotonic=mono)
    mono.now += 660  # 99 scenario minutes: 9 past the end
    assert holding.read().scenario_s == 5400 and holding.read().ended
    assert holding.state().clock == "00:30:00"
    assert looping.read().scenario_s == 540 and not looping.read().ended
    assert looping.state().clock == "23:09:00"


def test_clock_can_start_mid_night_and_rejects_bad_arguments(night: Scenario) -> None:
    mono = FakeMonotonic()
    clock = NightClock(night, 1.0, start_at="23:30", monotonic=mono)
    mono.now += 5
    assert clock.state().clock == "23:30:05"
    with pytest.raises(ValueError, match="outside the night"):
        NightClock(night, start_at="01:00:00")
    with pytest.raises(ValueError, match="speed"):
        NightClock(night, 0)


def problems_of(data: Any) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, "night.yaml")
    return "\n".join(caught.value.problems)


def test_out_of_order_keyframe_is_named_by_index() -> None:
    data = small_night()
    data["keyframes"][2]["at"] = "23:05:00"
    assert "keyframes[2].at: 23:05:00 is not after keyframes[1].at (23:10:00)" in problems_of(data)


def test_decreasing_orders_are_named_by_index_and_field() -> None:
    data = small_night()
    data["keyframes"][2]["orders_total"] = 150
    assert "keyframes[2].orders_total: 150 is less than 160 at keyframes[1]" in problems_of(data)


def test_unknown_keys_are_named_by_path() -> None:
    data = small_night()
    data["keyframes"][1]["cpu_pc"] = 50
    data["extra"] = True
    text = problems_of(data)
    assert "keyframes[1].cpu_pc: Extra inputs are not permitted" in text
    assert "extra: Extra inputs are not permitted" in text


def test_unquoted_yaml_time_is_explained(tmp_path: Path) -> None:
    text = yaml.safe_dump(small_night()).replace("'23:10:00'", "23:10:00")
    path = tmp_path / "night.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "keyframes[1].at: write times in quotes" in str(caught.value)


@pytest.mark.parametrize(
    ("where", "change", "expected"),
    [
        ("keyframe", {"at": "01:00:00"}, "keyframes[2].at: 01:00:00 is outside the night"),
        ("keyframe", {"cpu_pct": 120}, "keyframes[2].cpu_pct: Input should be less than or equal to 100"),
        ("keyframe", {"orders_total": 200.5}, "keyframes[2].orders_total:"),
        ("night", {"entry_close": "02:00:00"}, "night.entry_close: 02:00:00 is outside the night"),
        ("night", {"timezone": "Mars/Olympus"}, "night.timezone: unknown timezone"),
        ("night", {"end": "23:00:00"}, "night.end: equals night.start"),
        ("jitter", {"orders_total": 1}, "jitter: orders_total never jitters"),
    ],
)
def test_other_problems_name_their_key_path(where: str, change: dict[str, Any], expected: str) -> None:
    data = small_night()
    if where == "keyframe":
        data["keyframes"][2].update(change)
    elif where == "night":
        data["night"].update(change)
    else:
        data["jitter"] = change
    assert expected in problems_of(data)


def test_first_keyframe_must_open_the_night_with_every_series() -> None:
    data = small_night()
    data["keyframes"][0]["at"] = "23:01:00"
    del data["keyframes"][0]["pickup_pct"]
    text = problems_of(data)
    assert "keyframes[0].at: the first keyframe must be at night.start 23:00:00" in text
    assert "keyframes[0]: the first keyframe must give every series; missing pickup_pct" in text


def test_unreadable_or_non_mapping_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="must be a mapping"):
        load_scenario(tmp_path / "list.yaml")
