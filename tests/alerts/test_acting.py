"""Who must act now (issue 16, defects 1 and 2): computed once in the engine, read by every surface.

The person being paged now (the decider, whoever it was escalated to, a deputy, a stand-in) is the one
named, with how they came to hold it and since their page went out; the one who did not answer is the
small line. Health-group and silenced alerts never take the banner from a business alert, and at one
level the level's own decider comes before a per-metric override.
"""

from __future__ import annotations

from datetime import timedelta

from alerts.acting import acting_now, configured_holder
from tests.alerts.conftest import T0, config, push
from warroom.api.routes.record import alerts_json
from warroom.config.load import parse_config


def with_deputy_and_host(**alerts):
    """The rig's config plus a deputy for the GM and a `host` health metric that never escalates."""
    raw = config(**alerts).config.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["people"]["general_manager"]["deputy"] = "deputy_gm"
    raw["people"]["deputy_gm"] = {"name": "Chen", "phone": "5", "channels": ["json://127.0.0.1:9/deputy_gm"]}
    raw["metrics"]["host_cpu"] = {"title": "This host CPU", "unit": "%", "yellow": 80, "orange": 90, "red": 95,
                                  "pushed": True, "stale_after": "1h", "group": "host", "escalate": False,
                                  "owner": {"yellow": "tech_lead", "orange": "tech_lead", "red": "tech_lead"}}
    return parse_config(raw, env={})


def test_after_an_escalation_the_one_paged_now_is_named_and_the_one_who_did_not_answer_is_the_small_line(rig):
    make, clock, phone, store = rig
    engine = make(config(repeat_every="0s"))
    push(engine, clock, "cpu", 85)  # yellow: the technical lead decides
    phone.got(n=1)
    first = engine.acting()[1]
    assert (first.role, first.name, first.how, first.since, first.missed) == ("tech_lead", "Zhang", "decider", T0,
                                                                                None)
    clock.advance(300)
    engine.tick(clock.now)  # nobody acknowledged within 5 minutes: the operations lead is paged
    phone.got(n=2)
    now = engine.acting()[1]
    assert (now.role, now.name, now.phone, now.how, now.held_as) == ("ops_lead", "Li", "2", "escalated", "config")
    assert now.since == T0 + timedelta(seconds=300) and now.waiting and now.decider_role == "tech_lead"
    assert (now.missed.role, now.missed.name, now.missed.why, now.missed.after_s) == ("tech_lead", "Zhang",
                                                                                      "no_ack", 300.0)
    # The tile names her too, recorded at the moment of the escalation (replay reads it back).
    view = engine.views()["cpu"]
    assert (view.owner_role, view.owner_name) == ("ops_lead", "Li")
    rows = store.execute("SELECT ts, owner_role FROM level_changes WHERE metric = 'cpu' ORDER BY ts").fetchall()
    assert [r[1] for r in rows][-2:] == ["tech_lead", "ops_lead"]
    # The API says the same thing the engine does, and so does the same rule over the alert's trail.
    live = alerts_json(engine, T0, T0, clock.now, "active", None)[0]["acting"]
    assert live["role"] == "ops_lead" and live["missed"]["name"] == "Zhang" and live["rank"] == 1
    past = alerts_json(engine, T0, T0, clock.now, "active", clock.now)[0]["acting"]
    assert {k: past[k] for k in ("role", "name", "how", "since", "missed", "rank")} == \
        {k: live[k] for k in ("role", "name", "how", "since", "missed", "rank")}


def test_the_gms_deputy_is_paged_as_the_one_who_decides_and_the_page_says_so(rig):
    make, clock, phone, _ = rig
    engine = make(with_deputy_and_host(repeat_every="0s"))
    push(engine, clock, "success", 70)  # red: the general manager
    phone.got(n=1)
    clock.advance(300)
    engine.tick(clock.now)
    assert phone.got(n=2)[-1] == ("deputy_gm", "escalated", "red")
    acting = engine.acting()[1]
    assert (acting.role, acting.name, acting.how, acting.missed.name) == ("deputy_gm", "Chen", "deputy", "Wang")
    page = phone.pages[-1][3]
    # Before: "[NOT ACKNOWLEDGED · ESCALATED] Orders OK 70.0% · Wang decides", naming the GM who did not answer.
    assert page.title.endswith("· Chen decides"), page.title
    assert "Decides: Chen 5" in page.body and "You stand in for Wang (general_manager)" in page.body


def test_a_stand_in_is_the_one_named(rig):
    make, clock, phone, _ = rig
    engine = make()
    engine.roster.stand_in("ops_lead", clock.now, "cli", name="Sun", phone="7")
    push(engine, clock, "cpu", 92)  # orange: the operations lead's role, held tonight by a stand-in
    phone.got(n=1)
    acting = engine.acting()[1]
    assert (acting.role, acting.name, acting.phone, acting.how, acting.held_as) == \
        ("ops_lead", "Sun", "7", "decider", "stand-in")
    assert engine.views()["cpu"].owner_name == "Sun"


def test_health_and_silenced_alerts_never_take_the_banner_and_the_levels_own_decider_comes_first(rig):
    make, clock, phone, _ = rig
    engine = make(with_deputy_and_host())
    push(engine, clock, "host_cpu", 97)  # the monitoring box itself goes red first
    clock.advance(5)
    push(engine, clock, "db", 75)  # yellow with a per-metric owner (the DBA)
    clock.advance(5)
    push(engine, clock, "cpu", 85)  # yellow with the level's own decider
    phone.got(n=3)
    order = {a["metric"]: a["acting"] for a in alerts_json(engine, T0, T0, clock.now, "active", None)}
    assert order["host_cpu"]["health"] and not order["host_cpu"]["banner"]
    # The banner's alert (rank 1) is the level's own decider's, before the DBA's older one; the host's red is last.
    assert [m for m, _ in sorted(order.items(), key=lambda kv: kv[1]["rank"])] == ["cpu", "db", "host_cpu"]
    engine.silences.add("cpu", clock.now, clock.now + timedelta(hours=1), "ops", "known", clock.now)
    again = {a["metric"]: a["acting"] for a in alerts_json(engine, T0, T0, clock.now, "active", None)}
    assert again["cpu"]["silenced"] and not again["cpu"]["banner"]
    assert [m for m, _ in sorted(again.items(), key=lambda kv: kv[1]["rank"])] == ["db", "host_cpu", "cpu"]


def test_an_acknowledged_alert_is_held_by_whoever_took_it(rig):
    make, clock, phone, _ = rig
    engine = make()
    push(engine, clock, "cpu", 85)
    phone.got(n=1)
    clock.advance(40)
    engine.ack(1, "general_manager", "cli")  # a higher role takes the yellow alert
    acting = engine.acting()[1]
    assert (acting.role, acting.name, acting.how, acting.waiting, acting.since) == \
        ("general_manager", "Wang", "acked", False, T0 + timedelta(seconds=40))
    assert engine.views()["cpu"].owner_name == "Wang"


def test_a_clock_stamp_from_before_the_escalation_is_not_the_new_persons(rig):
    """The ack clock belongs to whoever it was started for; until the next page goes out, nobody's count runs."""
    make, clock, phone, _ = rig
    engine = make(config(repeat_every="0s"))
    push(engine, clock, "cpu", 85)
    phone.got(n=1)
    alert = engine.open[("cpu", "level")]
    alert.escalated_to, alert.escalated_at = "ops_lead", clock.now + timedelta(seconds=1)
    acting = acting_now(engine.cfg, alert, configured_holder(engine.cfg), False)
    assert acting.role == "ops_lead" and acting.since is None and acting.waiting
