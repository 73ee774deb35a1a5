"""A step of the wall clock hides no open alert and stretches no time to acknowledge (issue 18 item 3).

After the system clock stepped back 10 minutes, an alert opened in the skewed minutes was missing from
`/api/v1/alerts?state=active` (the strip, the banner and the phone read it) while its tile was red, and
every ack timeout waited for the clock to catch up. The clocks here are injected: a wall clock that
steps on demand, read raw (open alerts must not depend on any clock) or through warroom.clock.SteadyClock
(the daemon's default), which counts time by the monotonic clock and logs the step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.harness.receiver import Receiver
from tests.harness.rig import TOKEN, push, pushed_config
from warroom.clock import SteadyClock
from warroom.config.load import parse_config
from warroom.daemon.daemon import Daemon

STEP = timedelta(minutes=10)


class SteppingWall:
    """The system clock as a test wants it: real time plus an offset the test changes."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def phones() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def _config(tmp_path, phones: Receiver, **yellow: Any) -> dict:
    raw = pushed_config(tmp_path / "night.duckdb", {r: [phones.url(r)] for r in ("tech_lead", "ops_lead",
                                                                                   "general_manager")},
                        group_window="0s")
    raw["levels"]["yellow"].update(yellow)
    raw["metrics"]["failures"]["stale_after"] = "5m"
    return raw


@contextmanager
def _daemon(raw: dict, clock: Callable[[], datetime]) -> Iterator[tuple[Daemon, str]]:
    daemon = Daemon(parse_config(raw, env={}), clock=clock)
    daemon.start()
    try:
        yield daemon, f"http://127.0.0.1:{daemon.api.port}"
    finally:
        daemon.stop()


def _wait(what: Callable[[], Any], named: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := what()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g}s for {named}")
        time.sleep(0.05)
    return found


def _active(base: str) -> list[dict]:
    return requests.get(f"{base}/api/v1/alerts", params={"state": "active"}, timeout=5).json()["alerts"]


def _tile(base: str, metric: str) -> dict:
    return next(t for t in requests.get(f"{base}/api/v1/board", timeout=5).json()["tiles"] if t["metric"] == metric)


def test_open_alerts_are_whatever_the_engine_holds_whatever_the_clock_says(tmp_path, phones, monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    wall = SteppingWall()
    with _daemon(_config(tmp_path, phones), wall) as (_, base):  # the raw clock: no steadying at all
        assert push(base, [{"metric": "failures", "value": 80.0}]).status_code == 202
        opened = _wait(lambda: [a for a in _active(base) if a["metric"] == "failures"], "the red alert")
        wall.offset -= STEP
        assert _tile(base, "failures")["level"] == "red"
        for state in ("active", "open", "all"):
            listed = requests.get(f"{base}/api/v1/alerts", params={"state": state}, timeout=5).json()["alerts"]
            assert [a["id"] for a in listed if a["metric"] == "failures"] == [opened[0]["id"]], state


def test_a_step_back_neither_delays_an_escalation_nor_hides_the_alert_and_is_logged(tmp_path, phones, monkeypatch,
                                                                                      caplog):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    caplog.set_level(logging.WARNING, logger="warroom.clock")
    wall = SteppingWall()
    with _daemon(_config(tmp_path, phones, ack_timeout="2s"), SteadyClock(wall)) as (daemon, base):
        assert push(base, [{"metric": "failures", "value": 8.0}]).status_code == 202
        _wait(lambda: phones.to("tech_lead"), "the technical lead's page")
        wall.offset -= STEP  # during the technical lead's 2 s to acknowledge
        assert push(base, [{"metric": "failures", "value": 9.0}]).status_code == 202
        # Nobody acknowledges: the operations lead is paged 2 s later, not 10 minutes and 2 s later.
        escalated = _wait(lambda: phones.to("ops_lead"), "the escalation to the operations lead", timeout=20)
        assert "ESCALATED" in escalated[0]["title"]
        alert = next(a for a in _active(base) if a["metric"] == "failures")
        assert alert["escalated_to"]["role"] == "ops_lead" and alert["value"] == 9.0
        assert _tile(base, "failures")["value"] == 9.0  # the sample after the step is the present
        clock = requests.get(f"{base}/api/v1/health", timeout=5).json()["clock"]
        assert clock["steady"] and [round(s["seconds"]) for s in clock["steps"]] == [-600]
        assert abs(clock["offset_s"] + 600) < 2
        assert daemon.clock() > datetime.fromisoformat(alert["opened_at"])  # warroom's time never ran back
    assert any("WALL CLOCK STEPPED back 600" in r.getMessage() for r in caplog.records)


def test_a_step_forward_escalates_nothing_early_and_stales_nothing(tmp_path, phones, monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    wall = SteppingWall()
    with _daemon(_config(tmp_path, phones, ack_timeout="5m"), SteadyClock(wall)) as (daemon, base):
        assert push(base, [{"metric": "failures", "value": 8.0}]).status_code == 202
        _wait(lambda: phones.to("tech_lead"), "the technical lead's page")
        wall.offset += STEP
        daemon.engine.tick(daemon.clock())  # the timer's own work, run here so nothing is waited for
        alert = daemon.engine.open[("failures", "level")]
        assert alert.escalated_to is None and not alert.exhausted
        assert ("failures", "no_data") not in daemon.engine.open
        assert not _tile(base, "failures")["stale"]


def test_a_restart_after_a_step_back_continues_the_nights_time(tmp_path, phones, monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    raw = _config(tmp_path, phones, ack_timeout="5m")
    wall = SteppingWall()
    with _daemon(raw, SteadyClock(wall)) as (_, base):
        assert push(base, [{"metric": "failures", "value": 8.0}]).status_code == 202
        _wait(lambda: phones.to("tech_lead"), "the technical lead's page")
    wall.offset -= STEP  # stepped back while the daemon was down
    with _daemon(raw, SteadyClock(wall)) as (daemon, base):
        assert push(base, [{"metric": "failures", "value": 9.0}]).status_code == 202
        assert _wait(lambda: _tile(base, "failures")["value"] == 9.0, "the new value on the tile")
        alert = next(a for a in _active(base) if a["metric"] == "failures")
        assert daemon.clock() >= datetime.fromisoformat(alert["opened_at"])
