"""board?at= answers what the wall showed: the recorded level (hysteresis kept), decider, stale; the value known."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.warroom.record.kit import T0, at, change, queue_config, recorded_night
from warroom.api.app import create_app
from warroom.api.read_model import BoardReader
from warroom.record.views import RECOMPUTED, views_at
from warroom.values import CampaignWindow, Sample


def board_at(client, seconds):
    tiles = client.get("/api/v1/board", params={"at": at(seconds).isoformat()}).json()["tiles"]
    return {t["metric"]: t for t in tiles}


def test_views_follow_the_recorded_transitions(tmp_path):
    loaded = queue_config()
    store = recorded_night(tmp_path / "n.duckdb", loaded)
    cfg = loaded.config
    try:
        v = views_at(store.reader(), cfg, at(115), T0)["queue"]
        # 47 is under red's 50 but inside its clear band: the engine kept red, and so does the replay
        assert (v.value, v.level, v.stale, v.owner_role, v.owner_name) == \
            (47.0, "red", False, "general_manager", "Wang")
        assert v.ts == at(110) and v.since == at(100)
        assert views_at(store.reader(), cfg, at(99.9), T0)["queue"].level == "green"
        assert views_at(store.reader(), cfg, at(99.9), T0)["queue"].value == 5.0
        gone = views_at(store.reader(), cfg, at(250), T0)["queue"]
        assert gone.stale and gone.value == 4.0 and gone.owner_role == "tech_lead" and gone.note == "no sample for 30s"
        # a metric the engine never judged falls back to its raw value, and says so
        calls = views_at(store.reader(), cfg, at(60), T0)["calls"]
        assert calls.level == "yellow" and calls.note == RECOMPUTED and not calls.stale
    finally:
        store.close()


def test_board_at_serves_the_record(tmp_path):
    loaded = queue_config()
    store = recorded_night(tmp_path / "n.duckdb", loaded)
    cfg = loaded.config
    try:
        reader = BoardReader(cfg, store, CampaignWindow(cfg.campaign.name, T0, at(3600)), None, since=T0)
        client = TestClient(create_app(reader, lambda: at(300)))
        t = board_at(client, 115)["queue"]
        assert (t["value"], t["level"], t["stale"]) == (47.0, "red", False)
        assert t["owner"] == {"role": "general_manager", "name": "Wang", "phone": "3"}
        assert t["age_s"] == 5.0 and t["since"] == at(100).isoformat()
        t = board_at(client, 140)["queue"]
        assert (t["value"], t["level"], t["owner"]) == (3.0, "green", None)
        t = board_at(client, 250)["queue"]
        assert t["stale"] and t["level"] == "stale" and t["value"] == 4.0 and t["owner"]["name"] == "Zhang"
        t = board_at(client, 0.5)["queue"]
        assert t["stale"] and t["value"] is None
    finally:
        store.close()


def test_a_value_older_than_the_first_lookback_is_still_found(tmp_path):
    loaded = queue_config()
    store = recorded_night(tmp_path / "n.duckdb", loaded)
    try:
        v = views_at(store.reader(), loaded.config, at(3 * 3600), T0)["queue"]
        assert v.value == 4.0 and v.stale
    finally:
        store.close()


def test_no_number_after_a_change_that_showed_none(tmp_path):
    loaded = queue_config()
    store = recorded_night(tmp_path / "n.duckdb", loaded)
    try:
        # 0 of 0 orders after the close: the engine shows no number (NaN samples are not stored)
        change(store, 180, "calls", "green", value=None, detail="no_traffic")
        v = views_at(store.reader(), loaded.config, at(190), T0)["calls"]
        assert v.value is None and v.note == "no_traffic" and not v.stale
        store.append([Sample(at(195), "calls", 3.0)])
        change(store, 195, "calls", "green", value=3.0)
        assert views_at(store.reader(), loaded.config, at(196), T0)["calls"].value == 3.0
    finally:
        store.close()


def test_a_sample_the_engine_had_not_applied_yet_is_not_shown(tmp_path):
    loaded = queue_config()
    store = recorded_night(tmp_path / "n.duckdb", loaded)
    try:
        # learned at 300 s, applied (and its transition written) at 300.4 s under load
        store.append([Sample(at(300), "queue", 70.0)])
        change(store, 300.4, "queue", "red", role="general_manager", name="Wang", value=70.0)
        v = views_at(store.reader(), loaded.config, at(300.2), T0)["queue"]
        assert (v.value, v.level, v.stale) == (4.0, "green", True)
        v = views_at(store.reader(), loaded.config, at(300.4), T0)["queue"]
        assert (v.value, v.level, v.stale) == (70.0, "red", False)
    finally:
        store.close()
