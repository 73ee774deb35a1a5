"""Replay at T is the live wall at T, second by second, for what the record used to tell crooked (issue 17).

The real alert engine runs on an injected clock and writes its record; the daemon's writer stores the
samples (NaN, a ratio over no traffic, is not stored). At every moment the live board (the engine's
snapshot) and the board at that moment rebuilt from the record must show the same tiles, and the alerts
then must name who held each role then.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from alerts.engine import AlertEngine
from tests.alerts.conftest import Clock, Phone, config
from warroom.api.read_model import BoardReader
from warroom.store.database import Store
from warroom.store.writer import LatestValues
from warroom.values import CampaignWindow, Sample


@pytest.fixture
def rig(tmp_path, monkeypatch):
    """tests/alerts' rig: the engine on an injected clock, a phone that records pages, the store."""
    monkeypatch.setenv("WARROOM_ACK_SECRET", "s3cret-for-tests")
    clock, store, engines = Clock(), Store(tmp_path / "night.duckdb"), []

    def make(loaded=None):
        engine = AlertEngine(loaded or config(), store, clock, send=Phone(), tick=3600)
        engine.start({m: (clock.now, None) for m in ("cpu", "db", "success")})
        engines.append(engine)
        return engine

    yield make, clock, None, store
    for engine in engines:
        engine.stop()
    store.close()


def shown(tile: dict) -> tuple:
    owner = tile.get("owner") or {}
    return tile["value"], tile["level"], tile["stale"], tile["note"], owner.get("name"), owner.get("phone")


class Night:
    """The engine and the record side by side: every sample stored as the writer stores it, then applied."""

    def __init__(self, engine, clock, store):
        self.engine, self.clock, self.store = engine, clock, store
        window = CampaignWindow("night", clock.now, clock.now + timedelta(hours=1))
        self.live = BoardReader(engine.cfg, store, window, LatestValues(), engine.views, engine.phone_of)
        self.past = BoardReader(engine.cfg, store, window, None, since=clock.now - timedelta(seconds=1))
        self.moments: list[tuple] = []
        clock.advance(1)  # the engine seeded every tile at its start; the night begins a second later

    def sample(self, metric: str, value: float) -> None:
        self.clock.advance(0.5)  # between two looks: a look and a sample never share an instant
        sample = Sample(self.clock.now, metric, value)
        if not math.isnan(value):
            self.store.append([sample])
        self.engine.observe_sample(sample)

    def second(self, seconds: int = 1) -> None:
        """Let time pass a second at a time, the timer running as the daemon's does, and look at the wall."""
        for _ in range(seconds):
            self.clock.advance(1)
            self.engine.tick(self.clock.now)
            self.look()

    def look(self) -> None:
        live = self.live.board(self.clock.now)
        self.moments.append((live["at"], {t["metric"]: shown(t) for t in live["tiles"]}))

    def differences(self) -> list[tuple]:
        """Every (moment, metric, live, replayed) that replay draws differently from the live wall."""
        out = []
        for moment, live in self.moments:
            past = self.past.board(self.clock.now, datetime.fromisoformat(moment))
            then = {t["metric"]: shown(t) for t in past["tiles"]}
            out += [(moment, m, live[m], then[m]) for m in live if live[m] != then[m]]
        return out


def test_the_seconds_before_a_tile_goes_stale_show_the_last_value(rig):
    make, clock, _, store = rig
    loaded = config()
    loaded.config.metrics["cpu"].stale_after = 20.0
    night = Night(make(loaded), clock, store)
    for value in (40, 45, 50, 55):  # green all along: applying them writes no transition
        night.sample("cpu", value)
        night.look()
        night.second()
    night.second(30)  # 55 stays on the wall until it goes grey after 20 s; then the stale tile keeps it
    live = [tiles["cpu"] for _, tiles in night.moments]
    assert live[-1][:3] == (55, "stale", True) and (55, "green", False, None, None, None) in live
    assert night.differences() == []


def test_after_the_close_a_ratio_over_no_traffic_is_no_number_in_replay_too(rig):
    make, clock, _, store = rig
    loaded = config()
    loaded.config.metrics["success"].until_end = True
    engine = make(loaded)
    engine.campaign_end = clock.now + timedelta(seconds=5)
    night = Night(engine, clock, store)
    night.sample("success", 98.2)
    night.second(8)  # the close: the watch ends, the tile keeps its last number for now
    night.sample("success", math.nan)  # 0 of 0 orders after the close: the wall shows no number
    night.look()
    night.second(10)
    live = [tiles["success"] for _, tiles in night.moments]
    assert live[-1][:4] == (None, "green", False, "watch_ended"), live[-1]
    assert night.differences() == []
