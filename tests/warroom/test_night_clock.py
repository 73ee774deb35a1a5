"""One clock in demo mode: the demo night's clock is the daemon's, for every stamp, duration and timeout.

Issue 16, "One clock in demo mode": before, only the header and the run sheet were mapped onto the night;
the record, the pages' durations, the pace and the ack timeouts ran on real time, so the report and replay
of a demo night spoke 2026, and the README's /replay?at=2024-11-11T23:31:00+08:00 showed an empty wall.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from demo.scenario import load_scenario
from demo.server import DemoNight
from tests.daemon_kit import start_demo, wait_for
from tests.realparts import free_port
from warroom.config.load import parse_config
from warroom.daemon.daemon import Daemon
from warroom.daemon.night_clock import NightClock, NightReading, parse_reading

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2024, 11, 11, 23, 31, tzinfo=SHANGHAI)
END = datetime(2024, 11, 12, 0, 30, tzinfo=SHANGHAI)


def hms(moment: datetime | str) -> str:
    """HH:MM:SS on the night (Asia/Shanghai)."""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return when.astimezone(SHANGHAI).strftime("%H:%M:%S")


def test_a_reading_runs_on_at_the_nights_speed_and_holds_at_its_end():
    reading = NightReading(100.0, NIGHT, 9.0, False, "n", 1860.0, END)
    assert hms(reading.at(110.0)) == "23:32:30"  # ten real seconds are ninety of the night's
    assert reading.at(100.0 + 3600) == END  # the night holds at 00:30, it never runs past it
    assert reading.night_started() == datetime(2024, 11, 11, 23, 0, tzinfo=SHANGHAI)
    ended = NightReading(100.0, END, 9.0, True, "n", 5400.0, END)
    assert ended.at(500.0) == END


def test_a_looping_demo_runs_on_instead_of_going_back_to_23_00():
    body = {"scenario_iso": "2024-11-11T23:10:00+08:00", "scenario_s": 600.0, "run_s": 6000.0, "speed": 9,
            "loop": True, "end_iso": "2024-11-12T00:30:00+08:00"}
    reading = parse_reading(body, 0.0)
    assert hms(reading.night) == "00:40:00" and reading.end is None


@pytest.mark.parametrize("body", [{}, {"scenario_iso": "23:31", "speed": 9},
                                  {"scenario_iso": "2024-11-11T23:31:00", "speed": 9},
                                  {"scenario_iso": "2024-11-11T23:31:00+08:00", "speed": 0}])
def test_answers_that_are_not_a_demo_clock_are_refused(body):
    with pytest.raises(ValueError, match="not a demo clock answer"):
        parse_reading(body, 0.0)


def test_a_reading_keeps_the_fraction_of_a_second_the_iso_time_drops():
    reading = parse_reading({"scenario_iso": "2024-11-11T23:59:58+08:00", "scenario_s": 3598.95, "speed": 9}, 0.0)
    assert reading.night.isoformat() == "2024-11-11T23:59:58.950000+08:00"


def test_the_clock_never_runs_backwards_when_the_demo_does():
    mono = [0.0]
    clock = NightClock("http://127.0.0.1:9/api/clock", monotonic=lambda: mono[0])
    clock._reading = NightReading(0.0, NIGHT, 9.0, False, "n", 1860.0, END)
    mono[0] = 10.0
    ahead = clock.now()
    clock._reading = NightReading(10.0, NIGHT, 9.0, False, "n", 1860.0, END)  # the demo restarted: 90 s behind
    assert clock.now() == ahead  # held until the night catches up
    mono[0] = 30.0
    assert clock.now() > ahead
    clock.stop()


def night_raw(tmp_path: Path, demo: DemoNight, **campaign) -> dict:
    """A daemon on the demo's clock with one pushed metric; relative times count from the night's 23:00."""
    return {"campaign": {"name": "n", "end": "+59m59s", "timezone": "Asia/Shanghai",
                         "run_sheet": [{"at": "+65m", "action": "close payment", "owner": "tech_lead"}], **campaign},
            # Pages go to the demo's own inbox, so they arrive (and start an ack clock) as in `make run`.
            "people": {role: {"name": name, "channels": [f"json://{demo.url.removeprefix('http://')}/im/{role}"]}
                       for role, name in (("tech_lead", "T"), ("ops_lead", "O"), ("general_manager", "G"))},
            "collectors": [], "metrics": {"x": {"title": "X", "yellow": 1, "pushed": True, "stale_after": "5m"}},
            "server": {"port": 0, "database": str(tmp_path / "n.duckdb"), "tick": "100ms"},
            "demo": {"port": int(demo.url.rsplit(":", 1)[1])}}


def test_the_daemon_stamps_everything_on_the_nights_clock(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", "night-clock-token-0123456789")
    night = start_demo("23:31:00")
    daemon = Daemon(parse_config(night_raw(tmp_path, night), env={"WARROOM_TOKEN": "night-clock-token-0123456789"}))
    daemon.start()
    base = f"http://127.0.0.1:{daemon.api.port}/api/v1"
    auth = {"Authorization": "Bearer night-clock-token-0123456789"}
    try:
        board = requests.get(f"{base}/board", timeout=5).json()
        # The board's own time is the night's: no second clock to map between.
        assert "23:31:00" <= hms(board["at"]) <= "23:33:00" and board["at"].startswith("2024-11-1")
        clock = board["campaign"]["clock"]
        assert clock["demo"] and clock["rate"] == 9.0 and not clock["ended"]
        # "+..." counts from the night's 23:00 even though the daemon started after the demo, in night seconds.
        assert hms(board["campaign"]["end"]) == "23:59:59"
        step = requests.get(f"{base}/runsheet", timeout=5).json()["steps"][0]
        assert hms(step["at"]) == "00:05:00"
        # A push and a decision are stamped on the night's clock, so the record speaks 2024-11-11 23:3x.
        assert requests.post(f"{base}/push", json={"samples": [{"metric": "x", "value": 3}]}, headers=auth,
                             timeout=5).ok
        assert requests.post(f"{base}/annotations", json={"author": "ops", "text": "switch to backup servers"},
                             headers=auth, timeout=5).status_code in (200, 201)
        row = wait_for(lambda: daemon.store.execute("SELECT max(ts) FROM samples WHERE metric = 'x'").fetchall()[0][0],
                       10, "the pushed sample committed")
        assert row.year == 2024
        notes = requests.get(f"{base}/annotations", params={"from": "2024-11-11T23:00:00+08:00",
                                                            "to": "2024-11-12T00:30:00+08:00"}, timeout=5).json()
        assert [hms(n["ts"])[:4] for n in notes["annotations"]] == ["23:3"]
        # The README's replay link: the board at a moment of the night is that moment, not an empty grey wall.
        at = datetime.fromisoformat(requests.get(f"{base}/board", timeout=5).json()["at"])
        past = requests.get(f"{base}/board", params={"at": at.isoformat()}, timeout=5).json()
        tile = past["tiles"][0]
        assert tile["value"] == 3 and tile["level"] == "yellow" and past["campaign"]["clock"]["rate"] == 0.0
        # A yellow alert was opened at the night's time too, and its page arrived on the night's clock.
        alert = wait_for(lambda: (a := requests.get(f"{base}/alerts", timeout=5).json()["alerts"][0])["acting"]["since"]
                         and a, 10, "the page to the technical lead arrived")
        assert hms(alert["opened_at"])[:4] == "23:3" and hms(alert["acting"]["since"])[:4] == "23:3"
        assert alert["acting"]["name"] == "T" and alert["acting"]["how"] == "decider"
        # The demo goes away: the night runs on at its speed (collectors go stale), never back to 2026.
        night.shutdown()
        before = datetime.fromisoformat(requests.get(f"{base}/board", timeout=5).json()["at"])
        later = wait_for(lambda: (t := datetime.fromisoformat(requests.get(f"{base}/board", timeout=5).json()["at"]))
                         > before + timedelta(seconds=9) and t, 20, "the night running on")
        assert later.year == 2024
    finally:
        daemon.stop()
        night.shutdown()


def test_when_the_night_holds_at_its_end_time_holds_and_the_board_says_the_demo_ended(tmp_path):
    night = start_demo("00:29:57")  # the night's last three seconds: a third of a real second at 9x
    daemon = Daemon(parse_config(night_raw(tmp_path, night), env={}))
    daemon.start()
    base = f"http://127.0.0.1:{daemon.api.port}/api/v1/board"
    try:
        ended = wait_for(lambda: (b := requests.get(base, timeout=5).json())["campaign"]["clock"]["ended"] and b, 15,
                         "the demo night to end")
        assert hms(ended["at"]) == "00:30:00" and ended["campaign"]["clock"]["rate"] == 0.0
        assert ended["campaign"]["seconds_remaining"] == pytest.approx(-(30 * 60 + 1), abs=0.01)
        # Held: the next answers are at the same moment (time does not run while the demo stands still).
        seen = {requests.get(base, timeout=5).json()["at"] for _ in range(3)}
        assert seen == {ended["at"]}
    finally:
        daemon.stop()
        night.shutdown()


def test_a_second_play_of_the_same_night_starts_a_fresh_file_and_archives_the_first(tmp_path):
    first = start_demo("23:40:00")
    raw = night_raw(tmp_path, first)
    daemon = Daemon(parse_config(raw, env={}))
    daemon.start()
    daemon.stop()
    first.shutdown()
    again = start_demo("23:00:00")  # `make run` again: the night starts over at 23:00
    raw["demo"]["port"] = int(again.url.rsplit(":", 1)[1])
    daemon = Daemon(parse_config(raw, env={}))
    try:
        daemon.start()
        archived = list((tmp_path / "campaigns").glob("n-*.duckdb"))
        assert len(archived) == 1  # the 23:40 play, kept for replay; tonight's file starts at 23:00
        starts = daemon.store.execute("SELECT count(*) FROM daemon_starts").fetchall()[0][0]
        assert starts == 1
    finally:
        daemon.stop()
        again.shutdown()


def test_the_first_reading_waits_for_a_demo_that_is_still_starting():
    port = free_port()
    started: list[DemoNight] = []
    late = threading.Timer(0.7, lambda: started.append(
        DemoNight(load_scenario(), "127.0.0.1", port, speed=9, start_at="23:31:00").start()))
    clock = NightClock(f"http://127.0.0.1:{port}/api/clock")
    late.start()
    try:
        assert clock.first_reading(5.0)
        assert "23:31" <= hms(clock.now()) <= "23:32"
        nobody = NightClock("http://127.0.0.1:9/api/clock")
        assert not nobody.first_reading(0.3)
        nobody.stop()
    finally:
        late.join()
        clock.stop()
        for demo in started:
            demo.shutdown()


def test_without_a_demo_answering_the_run_keeps_the_real_clock(tmp_path, monkeypatch):
    monkeypatch.setattr("warroom.daemon.daemon.DEMO_CLOCK_WAIT_S", 0.3)
    raw = night_raw(tmp_path, start_demo("23:00:00"))
    raw["demo"]["port"] = free_port()  # nobody listens there
    daemon = Daemon(parse_config(raw, env={}))
    daemon.start()
    try:
        board = requests.get(f"http://127.0.0.1:{daemon.api.port}/api/v1/board", timeout=5).json()
        assert not board["campaign"]["clock"]["demo"] and board["campaign"]["clock"]["rate"] == 1.0
        assert datetime.fromisoformat(board["at"]).year >= 2025
    finally:
        daemon.stop()
