"""The alert state machine with an injected clock: routing, escalation, acks, silences, restarts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.ack import AckRejected
from alerts.engine import AlertError
from tests.alerts.conftest import T0, config, notices, push
from warroom.config.load import ConfigError, parse_config


def test_breach_pages_the_owner_of_the_level(rig):
    make, clock, phone, store = rig
    engine = make()
    push(engine, clock, "cpu", 85)
    assert notices(store) == [("tech_lead", "opened", "yellow")]
    assert phone.got(n=1) == [("tech_lead", "opened", "yellow")]
    page = phone.pages[0][3]
    assert "CPU 85.0%" in page.title and "YELLOW" in page.title
    assert "Decides: Zhang 1" in page.body and "https://wiki/cpu" in page.body
    assert "/api/v1/alerts/1/ack?token=tech_lead." in page.body


def test_rise_reroutes_to_the_new_owner_and_tells_the_previous_one(rig):
    make, clock, phone, store = rig
    engine = make()
    push(engine, clock, "cpu", 85)
    phone.got(n=1)
    clock.advance(10)
    push(engine, clock, "cpu", 97)
    rise = [("general_manager", "raised", "red"), ("tech_lead", "handed_over", "red")]
    assert notices(store) == [("tech_lead", "opened", "yellow"), *rise]
    pages = phone.got(n=3)
    assert pages[0] == ("tech_lead", "opened", "yellow") and sorted(pages[1:]) == sorted(rise)
    alert = engine.open[("cpu", "level")]
    assert alert.owner_role == "general_manager" and alert.peak_level.word == "red"


def test_per_metric_owner_override(rig):
    make, clock, phone, store = rig
    engine = make()
    push(engine, clock, "db", 72)
    assert notices(store) == [("dba", "opened", "yellow")]
    assert phone.got(n=1) == [("dba", "opened", "yellow")]


def test_one_alert_per_episode_and_resolution_after_green_time(rig):
    make, clock, phone, store = rig
    engine = make()
    push(engine, clock, "cpu", 92)
    clock.advance(5)
    push(engine, clock, "cpu", 85)  # orange → yellow: same alert follows the level down
    assert engine.open[("cpu", "level")].level.word == "yellow"
    clock.advance(5)
    push(engine, clock, "cpu", 50)
    clock.advance(29)
    engine.tick(clock.now)
    assert ("cpu", "level") in engine.open
    clock.advance(1)
    engine.tick(clock.now)
    assert ("cpu", "level") not in engine.open
    # orange → yellow hands the decision to the tech lead; both hear when it resolves
    pages = phone.got(n=5)
    assert pages[:3] == [("ops_lead", "opened", "orange"), ("tech_lead", "lowered", "yellow"),
                         ("ops_lead", "stood_down", "yellow")]
    assert sorted(pages[3:]) == [("ops_lead", "resolved", "green"), ("tech_lead", "resolved", "green")]
    assert store.execute("SELECT count(*) FROM alerts").fetchall()[0][0] == 1


def test_hysteresis_keeps_the_alert_inside_the_clear_band(rig):
    make, clock, phone, _ = rig
    engine = make()
    push(engine, clock, "cpu", 81)
    push(engine, clock, "cpu", 79)  # 80 - 2: not cleared
    assert engine.open[("cpu", "level")].green_since is None


def test_escalation_exactly_at_the_ack_timeout(rig):
    make, clock, phone, _ = rig
    engine = make(config(repeat_every="0s"))
    push(engine, clock, "cpu", 85)
    phone.got(n=1)
    clock.advance(299.9)
    engine.tick(clock.now)
    assert engine.open[("cpu", "level")].escalated_to is None
    clock.advance(0.1)
    engine.tick(clock.now)
    assert engine.open[("cpu", "level")].escalated_to == "ops_lead"
    assert phone.got(n=2)[-1] == ("ops_lead", "escalated", "yellow")
    body = phone.pages[-1][3].body
    # The one being paged now decides (issue 16): the page names Li, and says who did not answer.
    assert "Zhang did not acknowledge in 5m; you decide now" in body and "Decides: Li 2" in body
    assert phone.pages[-1][3].title.endswith("· Li decides") and "To: Li" not in body


def test_unacknowledged_alerts_repeat_and_an_ack_stops_them_until_the_level_rises(rig):
    make, clock, phone, store = rig
    engine = make(config(repeat_every="1m"))
    push(engine, clock, "success", 93)  # below 95: yellow
    phone.got(n=1)
    clock.advance(60)
    engine.tick(clock.now)
    assert phone.got(n=2)[-1] == ("tech_lead", "repeat", "yellow")
    alert_id = engine.open[("success", "level")].id
    engine.ack(alert_id, "tech_lead", "cli")
    decided = notices(store)
    assert decided == [("tech_lead", "opened", "yellow"), ("tech_lead", "repeat", "yellow")]
    phone.clear()
    for _ in range(10):  # ten minutes acknowledged: no repeat, no escalation
        clock.advance(60)
        engine.tick(clock.now)
    assert notices(store) == decided
    push(engine, clock, "success", 70)  # red: the ack is for yellow, the GM must now decide
    rise = [("general_manager", "raised", "red"), ("tech_lead", "handed_over", "red")]
    assert notices(store)[len(decided):] == rise
    assert sorted(phone.got(n=2)) == sorted(rise)
    assert engine.open[("success", "level")].state == "open"


def test_silenced_metric_is_recorded_not_paged(rig):
    make, clock, phone, store = rig
    engine = make()
    engine.silences.add("cpu", clock.now, clock.now + timedelta(minutes=30), "Li", "planned scale-out", clock.now)
    push(engine, clock, "cpu", 97)
    assert ("cpu", "level") in engine.open
    assert notices(store) == []
    events = store.execute("SELECT event, detail FROM alert_events WHERE event = 'silenced'").fetchall()
    assert events and "planned scale-out" in events[0][1]
    push(engine, clock, "db", 90)  # another metric is still paged
    assert notices(store) == [("ops_lead", "opened", "orange")]
    assert phone.got(n=1) == [("ops_lead", "opened", "orange")]


def test_a_silenced_alert_does_not_climb_the_chain_and_its_decider_hears_when_the_silence_ends(rig):
    make, clock, phone, store = rig
    engine = make()
    push(engine, clock, "cpu", 85)
    phone.got(n=1)  # asked, and the page arrived: the ack clock runs; then the room silences the metric
    engine.silences.add("cpu", clock.now, clock.now + timedelta(minutes=30), "Li", "planned scale-out", clock.now)
    for _ in range(5):  # 25 minutes of 5 min ack timeouts under the silence
        clock.advance(300)
        engine.tick(clock.now)
    climbed = store.execute("SELECT count(*) FROM alert_events WHERE event LIKE 'escalat%'").fetchone()[0]
    assert climbed == 0, "a silenced alert escalated: the people above were asked about what the room silenced"
    assert notices(store) == [("tech_lead", "opened", "yellow")]
    clock.advance(360)  # the silence is over: the alert's own decider is asked, not the next one up
    engine.tick(clock.now)
    assert notices(store)[1:] == [("tech_lead", "repeat", "yellow")]
    assert phone.got(n=2)[1] == ("tech_lead", "repeat", "yellow")
    clock.advance(60)  # a minute into their fresh 5 minutes: still theirs, not the next one's
    engine.tick(clock.now)
    alert = engine.open[("cpu", "level")]
    assert alert.escalated_to is None and not alert.exhausted and alert.ack_clock_at is not None


def test_ack_tokens_are_personal_and_checked(rig):
    make, clock, phone, store = rig
    engine = make()
    push(engine, clock, "cpu", 85)
    phone.got(n=1)
    token = phone.pages[0][3].ack_url.split("token=")[1]
    with pytest.raises(AckRejected, match="signature"):
        engine.ack_with_token(1, token[:-2] + "xx")
    with pytest.raises(AckRejected, match="signature"):
        engine.ack_with_token(1, token.replace("tech_lead", "general_manager", 1))
    assert engine.open[("cpu", "level")].state == "open"
    rejected = store.execute("SELECT count(*) FROM alert_events WHERE event = 'ack_rejected'").fetchall()[0][0]
    assert rejected == 0  # forged links are counted by warroom/api/gate.py, never written to the trail
    clock.advance(13 * 3600)
    with pytest.raises(AckRejected, match="expired"):
        engine.ack_with_token(1, token)
    clock.now = T0 + timedelta(minutes=1)
    assert engine.ack_with_token(1, token).acked_by == "tech_lead"


def test_ack_errors(rig):
    make, clock, _, _ = rig
    engine = make()
    with pytest.raises(AlertError) as err:
        engine.ack(42, "tech_lead", "cli")
    assert err.value.status == 404
    with pytest.raises(AlertError, match="not in people"):
        engine.ack(1, "ceo", "cli")


def test_failed_delivery_is_retried_then_pages_the_next_tier(rig):
    make, clock, phone, store = rig
    phone.fail.add("tech_lead")
    engine = make()
    push(engine, clock, "cpu", 85)
    pages = phone.got(n=4)  # 3 attempts to the tech lead, then the operations lead
    assert pages.count(("tech_lead", "opened", "yellow")) == 3
    assert pages[3] == ("ops_lead", "escalated", "yellow")
    alert = engine.open[("cpu", "level")]
    assert alert.delivery_failed and alert.escalated_to == "ops_lead"
    rows = store.execute("SELECT event, ok, detail FROM alert_events WHERE role = 'tech_lead' "
                         "AND event IN ('delivery_failed', 'undelivered') ORDER BY ts").fetchall()
    assert [r[0] for r in rows] == ["delivery_failed", "delivery_failed", "undelivered"]
    assert all("HTTP 500 from the bot" in r[2] for r in rows)


def test_no_data_opens_an_alert_owned_by_the_tech_lead_and_data_resolves_it(rig):
    make, clock, phone, store = rig
    engine = make(config(success_stale="30s"))
    clock.advance(31)
    engine.tick(clock.now)
    assert ("success", "no_data") in engine.open
    assert notices(store) == [("tech_lead", "opened", "yellow")]
    assert phone.got(n=1) == [("tech_lead", "opened", "yellow")]
    push(engine, clock, "success", 99)
    assert ("success", "no_data") not in engine.open


def test_restart_reloads_state_without_repeating_or_missing_a_step(rig):
    make, clock, phone, store = rig
    first = make()
    push(first, clock, "cpu", 92)  # orange → operations lead
    phone.got(n=1)
    first.stop()
    # down for 6 minutes: the 5-minute ack timeout fell due while nobody was watching
    clock.advance(360)
    phone.clear()
    second = make()
    alert = second.open[("cpu", "level")]
    assert alert.level.word == "orange" and alert.owner_role == "ops_lead"
    second.tick(clock.now)
    pages = phone.got(n=1)
    assert pages == [("general_manager", "escalated", "orange")]  # escalated at once, opened not re-sent
    decided = [("ops_lead", "opened", "orange"), ("general_manager", "escalated", "orange")]
    assert notices(store) == decided
    push(second, clock, "cpu", 92)  # same level: nothing new
    assert notices(store) == decided


def test_a_notice_decided_before_a_crash_is_delivered_after_restart(rig, tmp_path):
    make, clock, phone, store = rig
    first = make()
    first.pager.stop()  # the pager is dead: the decision is logged, the page never leaves
    push(first, clock, "db", 90)
    first.stop()
    assert phone.pages == [] and notices(store) == [("ops_lead", "opened", "orange")]
    second = make()
    assert phone.got(n=1) == [("ops_lead", "opened", "orange")]
    second.stop()
    phone.clear()
    third = make()
    # A page queued at start would travel the operations lead's lane ahead of this one (a lane is first in,
    # first out): the CPU page arriving alone, as itself, shows the third start re-sent nothing.
    push(third, clock, "cpu", 92)
    assert phone.got(n=1) == [("ops_lead", "opened", "orange")]
    assert phone.pages[0][3].title.startswith("[ORANGE] CPU")
    assert notices(store) == [("ops_lead", "opened", "orange")] * 2


def test_a_pushed_metric_without_its_own_stale_after_never_opens_no_data(rig):
    make, clock, phone, _ = rig
    loaded = config()
    loaded.config.metrics["cpu"].stale_after = None
    engine = make(loaded)
    clock.advance(3600)
    engine.tick(clock.now)
    assert ("cpu", "no_data") not in engine.open


def host_config():
    """The shipped config's host_cpu rule: the technical lead at every level, never escalated."""
    loaded = config()
    raw = loaded.config.model_dump(by_alias=True, exclude_none=True)
    raw["metrics"]["host_cpu"] = {"title": "This host CPU", "unit": "%", "yellow": 80, "orange": 90, "red": 95,
                                  "pushed": True, "stale_after": "1h", "escalate": False, "group": "host",
                                  "owner": {"yellow": "tech_lead", "orange": "tech_lead", "red": "tech_lead"}}
    return parse_config(raw, env={})


def test_the_monitoring_box_pages_the_tech_lead_and_never_anyone_above(rig):
    make, clock, phone, store = rig
    engine = make(host_config())
    push(engine, clock, "host_cpu", 85)
    assert phone.got(n=1) == [("tech_lead", "opened", "yellow")]
    clock.advance(301)  # past the yellow ack timeout: an ordinary metric now pages the ops lead
    engine.tick(clock.now)
    push(engine, clock, "host_cpu", 100)
    clock.advance(301)
    engine.tick(clock.now)
    decided = [("tech_lead", "opened", "yellow"), ("tech_lead", "raised", "red")]
    assert notices(store) == decided
    assert phone.got(n=2) == decided
    alert = engine.open[("host_cpu", "level")]
    assert alert.escalated_to is None


def test_escalate_false_needs_one_owner_for_every_level():
    raw = host_config().config.model_dump(by_alias=True, exclude_none=True)
    del raw["metrics"]["host_cpu"]["owner"]["red"]
    with pytest.raises(ConfigError, match="metrics.host_cpu.escalate: false keeps pages with the metric's one "
                                          "owner, but its levels go to general_manager, tech_lead"):
        parse_config(raw, env={})
