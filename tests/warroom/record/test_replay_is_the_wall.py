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
from fastapi.testclient import TestClient

from alerts.engine import AlertEngine
from tests.alerts.conftest import Clock, Phone, config
from warroom.api.app import create_app
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


def person(who: dict | None) -> tuple | None:
    return (who.get("role"), who.get("name"), who.get("phone")) if who else None


def alert_shown(alert: dict) -> tuple:
    """What the strip, the banner and the phone view print of an alert."""
    return (alert["id"], alert["level"], alert["state"], person(alert["owner"]), person(alert["escalated_to"]),
            alert["acked_by"], person(alert["acked_by_person"]))


class Night:
    """The engine and the record side by side: every sample stored as the writer stores it, then applied.

    The live API is the daemon's (the engine's snapshot and roster); the replay API is `warroom replay`'s
    (the same store read back, no engine). Each look reads the live board and active alerts.
    """

    def __init__(self, engine, clock, store):
        self.engine, self.clock, self.store = engine, clock, store
        window = CampaignWindow("night", clock.now, clock.now + timedelta(hours=1))
        self.live = BoardReader(engine.cfg, store, window, LatestValues(), engine.views, engine.phone_of)
        self.past = BoardReader(engine.cfg, store, window, None, since=clock.now - timedelta(seconds=1))
        self.live_api = TestClient(create_app(self.live, clock, engine=engine, deliver=engine.observe))
        self.past_api = TestClient(create_app(self.past, clock))
        self.moments: list[tuple] = []
        self.alerts: list[tuple] = []
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

    def look_at_alerts(self) -> None:
        """The live board and alerts through the daemon's API, for the frame at the same moment to match."""
        board = self.live_api.get("/api/v1/board").json()
        alerts = self.live_api.get("/api/v1/alerts", params={"state": "active"}).json()["alerts"]
        self.alerts.append((board["at"], {t["metric"]: shown(t) for t in board["tiles"]},
                            sorted(alert_shown(a) for a in alerts)))

    def frame_differences(self) -> list[tuple]:
        """Every (moment, what, live, replayed) where GET /frame?at= differs from what the daemon answered."""
        out = []
        for moment, tiles, alerts in self.alerts:
            frame = self.past_api.get("/api/v1/frame", params={"at": moment}).json()
            then = {t["metric"]: shown(t) for t in frame["board"]["tiles"]}
            out += [(moment, m, tiles[m], then[m]) for m in tiles if tiles[m] != then[m]]
            replayed = sorted(alert_shown(a) for a in frame["alerts"])
            if replayed != alerts:
                out.append((moment, "alerts", alerts, replayed))
        return out

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
    differences = night.differences()
    assert differences == [], "\n".join(map(str, differences))


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
    differences = night.differences()
    assert differences == [], "\n".join(map(str, differences))


def test_replay_names_who_held_the_role_then(rig):
    make, clock, _, store = rig
    engine = make()
    night = Night(engine, clock, store)
    night.sample("cpu", 50)
    night.look_at_alerts()
    clock.advance(1)
    engine.roster.stand_in("general_manager", clock.now, "Li", name="Sun Lei", phone="139")
    night.look_at_alerts()
    clock.advance(1)
    night.sample("cpu", 97)  # red: the stand-in decides
    night.look_at_alerts()
    clock.advance(1)
    engine.ack(1, "general_manager", "cli")
    night.look_at_alerts()
    clock.advance(1)
    engine.roster.end("general_manager", clock.now, "Li")  # Wang is back: the wall names him from now on
    engine.tick(clock.now)
    night.look_at_alerts()
    clock.advance(1)
    engine.roster.stand_in("general_manager", clock.now, "Li", person="ops_lead")  # an entry of people
    engine.tick(clock.now)
    night.look_at_alerts()
    named = {a[3][1] for _, _, alerts in night.alerts for a in alerts}
    assert {"Sun Lei", "Wang", "Li"} <= named, named
    differences = night.frame_differences()
    assert differences == [], "\n".join(map(str, differences))
