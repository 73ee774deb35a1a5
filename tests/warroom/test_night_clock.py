"""The demo night's clock in the live board: read from a real demo, extrapolated, dropped when the demo goes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from demo.scenario import load_scenario
from demo.server import DemoNight
from tests.daemon_kit import start_demo, wait_for
from tests.realparts import free_port
from warroom.config.load import parse_config
from warroom.daemon.daemon import Daemon
from warroom.daemon.night_clock import FORGET_AFTER_S, NightClock, night_clock_json, parse_reading

REAL = datetime(2026, 11, 30, 7, 40, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_reading_runs_on_at_the_night_speed_and_holds_once_the_night_ended():
    reading = parse_reading({"scenario_iso": "2024-11-11T23:31:00+08:00", "speed": 9, "ended": False,
                             "night": "n"}, REAL)
    later = night_clock_json(reading, REAL + timedelta(seconds=10))
    assert datetime.fromisoformat(later["at"]).astimezone(SHANGHAI).strftime("%H:%M:%S") == "23:32:30"
    assert later["speed"] == 9.0
    ended = parse_reading({"scenario_iso": "2024-11-12T00:30:00+08:00", "speed": 9, "ended": True}, REAL)
    held = night_clock_json(ended, REAL + timedelta(seconds=10))
    assert held["at"] == "2024-11-12T00:30:00+08:00" and held["speed"] == 0.0 and held["night_speed"] == 9.0
    assert night_clock_json(reading, REAL + timedelta(seconds=FORGET_AFTER_S + 1)) is None
    assert night_clock_json(None, REAL) is None


@pytest.mark.parametrize("body", [{}, {"scenario_iso": "23:31", "speed": 9},
                                  {"scenario_iso": "2024-11-11T23:31:00", "speed": 9},
                                  {"scenario_iso": "2024-11-11T23:31:00+08:00", "speed": 0}])
def test_answers_that_are_not_a_demo_clock_are_refused(body):
    with pytest.raises(ValueError, match="not a demo clock answer"):
        parse_reading(body, REAL)


def test_the_live_board_carries_the_nights_time_from_the_demo(tmp_path):
    night = start_demo("23:31:00")
    raw = {"campaign": {"name": "n", "end": "+6m39.889s", "timezone": "Asia/Shanghai",
                        "run_sheet": [{"at": "+7m13.334s", "action": "close payment", "owner": "tech_lead"}]},
           "people": {"tech_lead": {"name": "T"}, "ops_lead": {"name": "O"}, "general_manager": {"name": "G"}},
           "collectors": [], "metrics": {"x": {"title": "X", "yellow": 1, "pushed": True}},
           "server": {"port": 0, "database": str(tmp_path / "n.duckdb"), "tick": "100ms"},
           "demo": {"port": int(night.url.rsplit(":", 1)[1])}}
    daemon = Daemon(parse_config(raw, env={}))
    daemon.start()
    base = f"http://127.0.0.1:{daemon.api.port}/api/v1/board"
    try:
        clock = wait_for(lambda: requests.get(base, timeout=5).json()["campaign"]["night_clock"], 10,
                         "the night's clock on the board")
        shown = datetime.fromisoformat(clock["at"]).astimezone(SHANGHAI).strftime("%H:%M")
        assert "23:31" <= shown <= "23:33" and clock["speed"] == 9.0
        # The daemon started after the demo: "+..." still counts from the night's 23:00, not from the daemon.
        board = requests.get(base, timeout=5).json()
        real_at = datetime.fromisoformat(board["at"])
        night_at = datetime.fromisoformat(board["campaign"]["night_clock"]["at"])

        def off_by(real: str, night_time: str) -> float:
            """Night seconds between where `real` lands on the night and `night_time` (a loaded box adds some)."""
            moment = night_at + (datetime.fromisoformat(real) - real_at) * 9
            expected = datetime.fromisoformat(night_time)
            return abs((moment - expected).total_seconds())

        assert off_by(board["campaign"]["end"], "2024-11-11T23:59:59+08:00") < 2.0
        step = requests.get(base.replace("/board", "/runsheet"), timeout=5).json()["steps"][0]
        assert off_by(step["at"], "2024-11-12T00:05:00+08:00") < 2.0
        past = requests.get(base, params={"at": "-1s"}, timeout=5).json()
        assert past["campaign"]["night_clock"] is None  # a replayed moment has no live demo clock
        night.shutdown()
        # The demo gone: after a while the wall goes back to the real clock rather than freezing at 23:3x.
        wait_for(lambda: requests.get(base, timeout=5).json()["campaign"]["night_clock"] is None,
                 FORGET_AFTER_S + 10, "the night's clock to be dropped")
    finally:
        daemon.stop()
        night.shutdown()


def test_a_reading_keeps_the_fraction_of_a_second_the_iso_time_drops():
    reading = parse_reading({"scenario_iso": "2024-11-11T23:59:58+08:00", "scenario_s": 3598.95, "speed": 9}, REAL)
    assert reading.night.isoformat() == "2024-11-11T23:59:58.950000+08:00"
    assert reading.night_started() == REAL - timedelta(seconds=3598.95 / 9)


def test_the_first_reading_waits_for_a_demo_that_is_still_starting():
    port = free_port()
    started: list[DemoNight] = []
    late = threading.Timer(0.7, lambda: started.append(
        DemoNight(load_scenario(), "127.0.0.1", port, speed=9, start_at="23:31:00").start()))
    clock = NightClock(f"http://127.0.0.1:{port}/api/clock", lambda: datetime.now(UTC))
    late.start()
    try:
        assert clock.first_reading(5.0)
        night = clock.json(datetime.now(UTC))
        assert "23:31" <= datetime.fromisoformat(night["at"]).astimezone(SHANGHAI).strftime("%H:%M") <= "23:32"
        nobody = NightClock("http://127.0.0.1:9/api/clock", lambda: datetime.now(UTC))
        assert not nobody.first_reading(0.3)
        nobody.stop()
    finally:
        late.join()
        clock.stop()
        for demo in started:
            demo.shutdown()
