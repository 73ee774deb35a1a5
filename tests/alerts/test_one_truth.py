"""Issue 7's defects, one test each: stale links, repeated rises, late samples, the ack clock, one snapshot."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from alerts.engine import AlertError
from tests.alerts.conftest import T0, config, notices, push
from warroom.api.read_model import BoardReader
from warroom.api.routes.actions import alert_json
from warroom.config.load import ConfigError, parse_config
from warroom.store.writer import LatestValues
from warroom.values import CampaignWindow, Sample


def link_token(phone, role):
    page = next(p for r, _, _, p in phone.pages if r == role and p.ack_url)
    return page.ack_url.split("token=")[1]


def test_a_stale_yellow_link_does_not_silence_the_general_managers_red(rig):
    make, clock, phone, store = rig
    engine = make(config(repeat_every="1m"))
    push(engine, clock, "cpu", 85)  # yellow → the tech lead's link
    phone.got(n=1)
    yellow_link = link_token(phone, "tech_lead")
    clock.advance(20)
    push(engine, clock, "cpu", 97)  # red → the GM decides now
    phone.got(n=3)
    clock.advance(100)
    with pytest.raises(AlertError) as refused:
        engine.ack_with_token(1, yellow_link)
    assert refused.value.status == 409
    assert "RED" in str(refused.value) and "Wang" in str(refused.value)
    alert = engine.open[("cpu", "level")]
    assert alert.state == "open" and alert.acked_by is None
    assert store.execute("SELECT count(*) FROM alert_events WHERE event = 'ack_refused'").fetchall()[0][0] == 1
    phone.clear()
    before = len(notices(store))
    clock.advance(60)
    engine.tick(clock.now)  # the GM's repeats go on: nobody took it
    assert notices(store)[before:] == [("general_manager", "repeat", "red")]
    assert phone.got(n=1) == [("general_manager", "repeat", "red")]


def test_a_higher_role_may_take_a_lower_level_and_its_ack_holds_until_a_rise(rig):
    make, clock, phone, _ = rig
    engine = make()
    push(engine, clock, "cpu", 85)
    phone.got(n=1)
    assert engine.ack(1, "general_manager", "cli").acked_level.word == "yellow"
    with pytest.raises(AlertError, match="already acknowledged by Wang"):
        engine.ack(1, "tech_lead", "cli")  # a conflicting second ack is refused with who and when
    assert engine.ack(1, "general_manager", "cli").state == "acked"  # the same person again: no change
    clock.advance(10)
    push(engine, clock, "cpu", 92)  # orange: a new decision for the operations lead
    assert engine.open[("cpu", "level")].state == "open"


def test_every_rise_to_the_same_level_pages_again_and_a_restart_pages_none_twice(rig):
    make, clock, phone, store = rig
    engine = make()
    for round_ in range(3):
        push(engine, clock, "cpu", 92)  # orange
        assert phone.got(n=round_ + 1)[-1][0] == "ops_lead"
        clock.advance(5)
        if round_ < 2:
            engine.ack(1, "ops_lead", "cli")
            push(engine, clock, "cpu", 50)  # back to green, not yet resolved
            clock.advance(5)
    alert = engine.open[("cpu", "level")]
    assert alert.state == "open" and alert.acked_by is None and alert.rise == 3
    kinds = [k for r, k, _ in phone.got(n=3) if r == "ops_lead"]
    assert kinds == ["opened", "raised", "raised"]
    engine.stop()
    decided = notices(store)
    assert decided == [("ops_lead", "opened", "orange"), ("ops_lead", "raised", "orange"),
                       ("ops_lead", "raised", "orange")]
    phone.clear()
    restarted = make()
    restarted.tick(clock.now)
    assert notices(store) == decided  # the restart decided nothing again
    # and re-sent nothing: a page queued at start would travel the operations lead's lane (first in, first
    # out) ahead of, or grouped with, this other alert's page
    push(restarted, clock, "db", 90)
    assert phone.got(n=1) == [("ops_lead", "opened", "orange")]
    assert phone.pages[0][3].title.startswith("[ORANGE] DB")


def test_a_late_sample_is_stored_but_never_rewrites_the_present(rig):
    make, clock, phone, store = rig
    engine = make()
    push(engine, clock, "success", 50)  # red
    phone.got(n=1)
    clock.advance(30)
    engine.observe_sample(Sample(clock.now - timedelta(minutes=10), "success", 99.0))
    clock.advance(60)
    engine.tick(clock.now)
    alert = engine.open[("success", "level")]
    assert alert.level.word == "red" and alert.green_since is None
    view = engine.views()["success"]
    assert (view.value, view.level) == (50, "red")
    assert notices(store) == [("general_manager", "opened", "red")]
    assert phone.got(n=1) == [("general_manager", "opened", "red")]


def test_push_accepts_only_metrics_declared_as_pushed(rig, monkeypatch):
    from fastapi.testclient import TestClient

    from warroom.api.app import create_app

    monkeypatch.setenv("WARROOM_TOKEN", "t0ken")
    make, clock, _, store = rig
    raw = config().config.model_dump(by_alias=True, exclude_none=True)
    raw["metrics"]["cpu"]["pushed"] = False
    raw["collectors"] = [{"type": "json", "name": "app", "url": "http://127.0.0.1:9/x", "fields": {"cpu": "cpu"}}]
    loaded = parse_config(raw, env={})
    engine = make(loaded)
    window = CampaignWindow("n", None, T0 + timedelta(hours=1))
    app = create_app(BoardReader(loaded.config, store, window, LatestValues(), engine.views), clock, engine=engine,
                     deliver=engine.observe)
    client = TestClient(app)
    r = client.post("/api/v1/push", json={"samples": [{"metric": "cpu", "value": 20}]},
                    headers={"Authorization": "Bearer t0ken"})
    assert r.status_code == 409 and "polled by collector 'app'" in r.json()["error"]["message"]
    assert r.json()["error"]["field"] == "samples[0].metric"
    assert client.post("/api/v1/push", json={"samples": [{"metric": "db", "value": 20}]},
                       headers={"Authorization": "Bearer t0ken"}).status_code == 202


def test_validate_refuses_a_probe_timeout_below_a_threshold_it_caps():
    raw = config().config.model_dump(by_alias=True, exclude_none=True)
    raw["collectors"] = [{"type": "http", "name": "h5", "timeout": "10s", "metric": "rt",
                          "urls": [{"name": "order", "url": "http://127.0.0.1:9/"}]}]
    raw["metrics"]["rt"] = {"title": "Response", "unit": "s", "yellow": 3, "orange": 8, "red": 15}
    with pytest.raises(ConfigError) as err:
        parse_config(raw, env={})
    (line,) = [p for p in err.value.problems if "timeout" in p]
    assert line.startswith('collectors[0] (http "h5"): timeout: 10s is below metrics.rt.red (15s)')
    raw["collectors"][0]["timeout"] = "15s"
    parse_config(raw, env={})


def test_the_ack_clock_starts_when_the_page_is_sent_not_when_the_sample_was_taken(rig):
    make, clock, phone, _ = rig
    engine = make(config(repeat_every="0s"))
    clock.advance(30)
    engine.observe_sample(Sample(clock.now - timedelta(seconds=9), "cpu", 85))  # a 9 s probe's value
    phone.got(n=1)
    clock.advance(299)
    engine.tick(clock.now)
    assert engine.open[("cpu", "level")].escalated_to is None  # the tech lead still has their full 5 minutes
    clock.advance(1)
    engine.tick(clock.now)
    assert engine.open[("cpu", "level")].escalated_to == "ops_lead"


def test_an_alert_shows_its_current_level_and_decider_and_the_tile_agrees(rig):
    make, clock, phone, store = rig
    engine = make()
    push(engine, clock, "cpu", 97)  # red: the GM
    clock.advance(5)
    push(engine, clock, "cpu", 85)  # yellow: the tech lead decides now
    body = alert_json(engine, engine.open[("cpu", "level")])
    assert (body["level"], body["decider"]["role"], body["peak_level"]) == ("yellow", "tech_lead", "red")
    assert {p["role"] for p in body["paged"]} >= {"general_manager", "tech_lead"}
    tile = {t["metric"]: t for t in BoardReader(engine.cfg, store, CampaignWindow("n", None, clock.now), LatestValues(),
                                                engine.views).board(clock.now)["tiles"]}["cpu"]
    assert (tile["level"], tile["owner"]["role"], tile["value"]) == ("yellow", "tech_lead", 85)
    clock.advance(5)
    push(engine, clock, "cpu", 50)  # recovering: nobody decides, the peak is history
    body = alert_json(engine, engine.open[("cpu", "level")])
    assert body["level"] == "green" and body["recovering"] and body["decider"] is None
    assert body["peak_level"] == "red"


def test_a_tile_never_pairs_an_old_value_with_a_new_level(rig):
    make, clock, _, store = rig
    engine = make()
    reader = BoardReader(engine.cfg, store, CampaignWindow("n", None, clock.now), LatestValues(), engine.views)
    for value, level in ((50, "green"), (92, "orange"), (97, "red"), (70, "green")):
        clock.advance(1)
        push(engine, clock, "cpu", value)  # no writer runs here: the tile is the engine's, not the store's
        tile = {t["metric"]: t for t in reader.board(clock.now)["tiles"]}["cpu"]
        assert (tile["value"], tile["level"]) == (value, level)
    rows = store.execute("SELECT level FROM level_changes WHERE metric = 'cpu' ORDER BY ts").fetchall()
    assert [r[0] for r in rows][-3:] == ["orange", "red", "green"]


def test_no_traffic_is_shown_as_such_and_pages_nobody(rig):
    make, clock, phone, store = rig
    engine = make()
    engine.observe_sample(Sample(clock.now, "success", math.nan))
    view = engine.views()["success"]
    assert (view.value, view.level, view.note, view.stale) == (None, "green", "no_traffic", False)
    clock.advance(10)
    engine.tick(clock.now)
    assert notices(store) == []


def test_a_metric_watched_until_the_end_is_quiet_after_a_planned_close(rig):
    make, clock, phone, _ = rig
    loaded = config(success_stale="30s")
    loaded.config.metrics["success"].until_end = True
    engine = make(loaded)
    engine.campaign_end = clock.now + timedelta(seconds=10)
    push(engine, clock, "success", 50)  # red before the close
    phone.got(n=1)
    clock.advance(11)
    engine.tick(clock.now)  # the close: the alert ends, the tile says the watch ended
    assert ("success", "level") not in engine.open
    clock.advance(600)
    engine.tick(clock.now)  # ten silent minutes after the close: no no-data page
    assert ("success", "no_data") not in engine.open
    assert engine.views()["success"].note == "watch_ended"
    assert [k for _, k, _ in phone.got(n=2)] == ["opened", "resolved"]


def test_the_ack_page_says_what_it_acknowledges_and_why_a_stale_link_no_longer_does(rig, monkeypatch):
    from fastapi.testclient import TestClient

    from warroom.api.app import create_app

    make, clock, phone, store = rig
    engine = make()
    window = CampaignWindow("n", None, T0 + timedelta(hours=1))
    app = create_app(BoardReader(engine.cfg, store, window, LatestValues(), engine.views), clock, engine=engine,
                     deliver=engine.observe)
    client = TestClient(app)
    push(engine, clock, "cpu", 85)
    phone.got(n=1)
    yellow = link_token(phone, "tech_lead")
    page = client.get("/api/v1/alerts/1/ack", params={"token": yellow})
    assert page.status_code == 200 and "<button>" in page.text
    assert "CPU" in page.text and "YELLOW" in page.text and "not acknowledged" in page.text
    push(engine, clock, "cpu", 97)  # red now: the yellow link shows why it no longer applies, and no button
    stale = client.get("/api/v1/alerts/1/ack", params={"token": yellow})
    assert "<button>" not in stale.text and "is now RED" in stale.text and "Wang" in stale.text
    pressed = client.post("/api/v1/alerts/1/ack/form", data={"token": yellow})
    assert pressed.status_code == 409 and pressed.headers["content-type"].startswith("text/html")
    assert "Not acknowledged" in pressed.text and '"error"' not in pressed.text  # words, not JSON
    gm = client.post("/api/v1/alerts/1/ack/form", data={"token": link_token(phone, "general_manager")})
    assert gm.status_code == 200 and "Acknowledged: Wang 3 is on it" in gm.text
