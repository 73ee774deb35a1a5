"""Deputies, shifts and stand-ins: when the decider cannot be found, the one standing in for them is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.escalation import chain
from alerts.roster import Roster
from tests.alerts.conftest import config, notices, push
from warroom.config.load import ConfigError, parse_config
from warroom.config.shifts import Shift, problems
from warroom.store.database import Store
from warroom.values import Level


def with_people(**changes):
    """The rig's config with people changed (validated again, so mistakes are refused)."""
    raw = config(repeat_every="0s").config.model_dump(by_alias=True, exclude_none=True)
    for role, entry in changes.items():
        raw["people"].setdefault(role, {}).update(entry)
    return parse_config(raw, env={})


def shift(start, end, name, phone="", **more):
    return {"from": start, "to": end, "name": name, "phone": phone, **more}


# 02:00 in Shanghai is 18:00 UTC the day before: the boundary is checked in the campaign's timezone.
SHANGHAI = {"campaign": {"name": "night", "end": "+1h", "locale": "en", "timezone": "Asia/Shanghai"}}


def shanghai(loaded):
    raw = loaded.config.model_dump(by_alias=True, exclude_none=True)
    raw.update(SHANGHAI)
    return parse_config(raw, env={})


@pytest.mark.parametrize(("local", "expected"), [
    ("2024-11-11T17:59:59", "Li"), ("2024-11-11T18:00:00", "Zhang"), ("2024-11-11T23:59:59", "Zhang"),
    ("2024-11-12T00:00:00", "Zhang"), ("2024-11-12T01:59:59", "Zhang"), ("2024-11-12T02:00:00", "Li"),
])
def test_who_holds_a_role_at_shift_boundaries_across_midnight(tmp_path, local, expected):
    loaded = shanghai(with_people(tech_lead={"shifts": [shift("18:00", "02:00", "Zhang", "1"),
                                                        shift("02:00", "18:00", "Li", "2")]}))
    roster = Roster(loaded.config, Store(tmp_path / "r.duckdb"))
    at = datetime.fromisoformat(local + "+08:00")
    assert roster.holder("tech_lead", at).name == expected
    assert roster.holder("tech_lead", at).how == "shift"


def test_a_handover_within_the_hour_is_announced(tmp_path):
    loaded = shanghai(with_people(tech_lead={"shifts": [shift("18:00", "02:00", "Zhang"),
                                                        shift("02:00", "18:00", "Li")]}))
    roster = Roster(loaded.config, Store(tmp_path / "r.duckdb"))
    (handover,) = roster.handovers(datetime.fromisoformat("2024-11-12T01:30:00+08:00"))
    assert (handover["role"], handover["from"], handover["to"]) == ("tech_lead", "Zhang", "Li")
    assert datetime.fromisoformat(handover["at"]) == datetime(2024, 11, 11, 18, 0, tzinfo=UTC)
    assert roster.handovers(datetime.fromisoformat("2024-11-12T00:30:00+08:00")) == []


def test_deputies_follow_their_principal_in_the_chain():
    loaded = with_people(deputy_gm={"name": "Chen", "phone": "5", "channels": ["json://127.0.0.1:9/deputy_gm"]},
                         general_manager={"deputy": "deputy_gm"})
    assert chain(loaded.config, "cpu", Level.RED) == ["general_manager", "deputy_gm"]
    assert chain(loaded.config, "cpu", Level.YELLOW) == ["tech_lead", "ops_lead", "general_manager", "deputy_gm"]


def test_an_unacknowledged_red_pages_the_deputy_exactly_at_the_ack_timeout_then_goes_on(rig):
    make, clock, phone, store = rig
    engine = make(with_people(deputy_gm={"name": "Chen", "phone": "5", "channels": ["json://127.0.0.1:9/deputy_gm"]},
                              general_manager={"deputy": "deputy_gm"}))
    push(engine, clock, "cpu", 97)
    assert phone.got(n=1) == [("general_manager", "opened", "red")]
    clock.advance(299.9)
    engine.tick(clock.now)
    assert engine.open[("cpu", "level")].escalated_to is None
    clock.advance(0.1)
    engine.tick(clock.now)
    assert phone.got(n=2)[-1] == ("deputy_gm", "escalated", "red")
    body = phone.pages[-1][3].body
    assert "You stand in for Wang (general_manager)" in body and "Wang did not acknowledge in 5m" in body
    person = store.execute("SELECT person FROM alert_events WHERE event = 'escalated'").fetchall()[0][0]
    assert person == "Chen"  # the record names the person, not only the role
    clock.advance(300)
    engine.tick(clock.now)  # nobody above the deputy at red: the wall is told nobody is left
    assert engine.open[("cpu", "level")].exhausted


def test_a_stand_in_set_at_run_time_receives_the_next_page(rig):
    make, clock, phone, store = rig
    engine = make(with_people(deputy_gm={"name": "Chen", "phone": "5", "channels": ["json://127.0.0.1:9/deputy_gm"]}))
    _, change = engine.roster.stand_in("general_manager", clock.now, "Li (ops)", name="Sun", phone="+86 139")
    assert change == "Sun stands in as general_manager for Wang"  # the API writes it to the decision log
    push(engine, clock, "cpu", 97)
    phone.got(n=1)
    page = phone.pages[0][3]
    assert "Decides: Sun +86 139" in page.body and "Wang" not in page.body
    view = engine.views()["cpu"]
    assert (view.owner_role, view.owner_name) == ("general_manager", "Sun")
    engine.roster.stand_in("general_manager", clock.now, "Li (ops)", person="deputy_gm")
    clock.advance(60)
    push(engine, clock, "db", 96)  # the next red goes to the deputy's own channel
    assert phone.got(n=2)[-1][0] == "deputy_gm"
    ended = engine.roster.end("general_manager", clock.now, "Li (ops)")
    assert ended == "Chen no longer stands in as general_manager; back to Wang"
    assert engine.roster.holder("general_manager", clock.now).name == "Wang"


def test_a_restart_in_the_middle_of_an_escalation_through_a_deputy_pages_nobody_twice(rig):
    make, clock, phone, store = rig
    loaded = with_people(deputy_gm={"name": "Chen", "phone": "5", "channels": ["json://127.0.0.1:9/deputy_gm"]},
                         general_manager={"deputy": "deputy_gm"})
    first = make(loaded)
    push(first, clock, "cpu", 97)
    phone.got(n=1)  # the GM's time to acknowledge starts when his page arrived
    clock.advance(300)
    first.tick(clock.now)
    assert phone.got(n=2)[-1] == ("deputy_gm", "escalated", "red")
    first.stop()
    decided = notices(store)
    assert decided == [("general_manager", "opened", "red"), ("deputy_gm", "escalated", "red")]
    phone.clear()
    second = make(loaded)
    for _ in range(5):
        clock.advance(10)
        second.tick(clock.now)
    assert notices(store) == decided  # the restart decided nothing again
    assert second.open[("cpu", "level")].escalated_to == "deputy_gm"
    # and re-sent nothing: a page queued at start would travel a lane (first in, first out) ahead of, or
    # grouped with, another alert's pages to the same two people
    push(second, clock, "success", 70)
    phone.got(n=1)
    clock.advance(300)
    second.tick(clock.now)
    assert phone.got(n=2) == [("general_manager", "opened", "red"), ("deputy_gm", "escalated", "red")]
    assert all("Orders OK" in page.title and "alerts ·" not in page.title for *_, page in phone.pages)


@pytest.mark.parametrize(("people", "expected"), [
    ({"general_manager": {"deputy": "nobody_here"}}, "people.general_manager.deputy: 'nobody_here' is not in people"),
    ({"general_manager": {"deputy": "ops_lead"}, "ops_lead": {"deputy": "general_manager"}},
     "people.general_manager.deputy: the deputies go round in a circle: general_manager → ops_lead → general_manager"),
    ({"tech_lead": {"shifts": [shift("18:00", "02:00", "Zhang"), shift("03:00", "18:00", "Li")]}},
     "people.tech_lead.shifts: nobody holds the role from 02:00 to 03:00"),
    ({"tech_lead": {"shifts": [shift("18:00", "02:00", "Zhang"), shift("01:00", "18:00", "Li")]}},
     "people.tech_lead.shifts: Zhang and Li both hold the role from 01:00 to 02:00"),
    ({"tech_lead": {"shifts": [shift("18:00", "2:00", "Zhang")]}}, "expected a time of day like 02:00"),
])
def test_validate_refuses_bad_deputies_and_shifts(people, expected):
    with pytest.raises(ConfigError) as err:
        with_people(**people)
    assert any(expected in p for p in err.value.problems), err.value.problems


def test_shifts_that_tile_the_day_are_accepted():
    three = [Shift(**shift("00:00", "08:00", "A")), Shift(**shift("08:00", "16:00", "B")),
             Shift(**shift("16:00", "00:00", "C"))]
    assert problems("x", three) == []
    assert problems("x", [Shift(**shift("06:00", "06:00", "All day"))]) == []


def test_the_duty_api_lists_and_stands_in_with_the_board_token(rig, monkeypatch):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from warroom.api.app import create_app
    from warroom.api.read_model import BoardReader
    from warroom.store.writer import LatestValues
    from warroom.values import CampaignWindow

    monkeypatch.setenv("WARROOM_TOKEN", "t0ken")
    make, clock, _, store = rig
    engine = make()
    app: FastAPI = create_app(BoardReader(engine.cfg, store, CampaignWindow("n", None, clock.now + timedelta(hours=1)),
                                          LatestValues(), engine.views), clock, engine=engine, deliver=engine.observe)
    client = TestClient(app)
    assert client.get("/api/v1/duty").json()["roles"]["general_manager"]["name"] == "Wang"
    body = {"role": "general_manager", "name": "Sun", "phone": "+86 139", "until": "+2h", "by": "Li"}
    assert client.post("/api/v1/duty", json=body).status_code == 403
    r = client.post("/api/v1/duty", json=body, headers={"Authorization": "Bearer t0ken"})
    assert r.status_code == 201 and r.json()["how"] == "stand-in"
    roles = client.get("/api/v1/duty").json()
    assert roles["roles"]["general_manager"]["name"] == "Sun"
    assert [h["to"] for h in roles["handovers"]] == []  # the stand-in ends in 2 h, beyond the hour
    ended = client.delete("/api/v1/duty/general_manager", params={"by": "Li"},
                          headers={"Authorization": "Bearer t0ken"})
    assert ended.status_code == 200 and ended.json()["name"] == "Wang"
    logged = store.execute("SELECT author, role, kind, text, ref FROM annotations ORDER BY ts, rowid").fetchall()
    assert logged == [("Li", "general_manager", "duty", "Sun stands in as general_manager for Wang until "
                       + logged[0][3].rsplit(" until ", 1)[1], "duty:general_manager"),
                      ("Li", "general_manager", "duty", "Sun no longer stands in as general_manager; back to Wang",
                       "duty:general_manager")]
    bad = client.post("/api/v1/duty", json={**body, "role": "ceo"}, headers={"Authorization": "Bearer t0ken"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "role"
