"""The report's numbers from API answers: breach → first page, time to acknowledge, the 5-minute rule."""

from __future__ import annotations

from warroom.archive.report.facts import alert_facts, level_seconds, step_facts

PEOPLE = {"ops_lead": {"name": "Li"}, "general_manager": {"name": "Wang"}, "tech_lead": {"name": "Zhang"}}


def alert(i, opened, events, resolved=None, owner="ops_lead"):
    return {"id": i, "metric": "m", "title": "M", "kind": "level", "peak_level": "red", "level": "red",
            "owner": {"role": owner, "name": PEOPLE[owner]["name"]}, "opened_at": opened, "resolved_at": resolved,
            "events": [{"ts": t, "event": e, "role": r, "person": None, "ok": ok, "detail": d}
                       for t, e, r, ok, d in events]}


T = "2024-11-11T23:{}+08:00"


def test_slowest_first_with_the_rule_met_missed_or_too_young():
    fast = alert(1, T.format("30:00"), [(T.format("30:00"), "notify", "ops_lead", None, "opened"),
                                        (T.format("30:02"), "delivered", "ops_lead", True, None),
                                        (T.format("31:30"), "acked", "ops_lead", None, "via api"),
                                        (T.format("31:40"), "decision", "ops_lead", None, "scale out")])
    slow = alert(2, T.format("30:00"), [(T.format("30:01"), "delivery_failed", "ops_lead", False, "503"),
                                        (T.format("35:00"), "escalated", "general_manager", None, "timeout"),
                                        (T.format("36:00"), "delivered", "general_manager", True, None),
                                        (T.format("37:00"), "acked", "general_manager", None, "via link")])
    never = alert(3, T.format("30:00"), [], resolved=T.format("40:00"))
    young = alert(4, T.format("58:00"), [])
    notes = [{"ts": T.format("37:10"), "author": "Wang", "text": "switch to backup", "alert_id": 2}]
    facts = alert_facts([fast, slow, never, young], notes, PEOPLE, T.format("59:59"))
    assert [f.id for f in facts] == [3, 4, 2, 1]
    by_id = {f.id: f for f in facts}
    assert by_id[1].first_page_s == 2 and by_id[1].ack_s == 90 and by_id[1].rule_met is True
    assert by_id[1].decisions == [(T.format("31:40"), "Li", "scale out")]
    assert by_id[2].first_page_s == 360 and by_id[2].first_page_to == "Wang" and by_id[2].rule_met is False
    assert by_id[2].escalations == [(T.format("35:00"), "Wang", "timeout")] and by_id[2].failed_pages == 1
    assert by_id[2].decisions == [(T.format("37:10"), "Wang", "switch to backup")]
    assert by_id[3].rule_met is False and by_id[3].first_page_s is None
    assert by_id[4].rule_met is None  # opened 2 minutes before the end, not yet acknowledged


def test_time_at_levels_and_run_sheet():
    spans = [{"from": T.format("00:00"), "to": T.format("10:00"), "level": "green"},
             {"from": T.format("10:00"), "to": T.format("12:30"), "level": "red"},
             {"from": T.format("12:30"), "to": T.format("20:00"), "level": "green"}]
    assert level_seconds(spans) == {"green": 1050.0, "red": 150.0}
    steps = [{"action": "close", "owner": {"name": "Li"}, "at": T.format("59:59"), "done_at": T.format("59:50"),
              "done_by": "ops_lead"},
             {"action": "export", "owner": {"name": "Zhang"}, "at": T.format("30:00"), "done_at": None,
              "done_by": None}]
    done, todo = step_facts(steps, PEOPLE)
    assert done.done_by == "Li" and done.late_s == -9 and todo.late_s is None


def test_a_resolved_alert_names_who_it_was_opened_for_and_rose_to():
    a = alert(5, T.format("30:00"), [(T.format("30:00"), "opened", "ops_lead", None, None),
                                     (T.format("31:00"), "raised", "general_manager", None, "orange → red")],
              resolved=T.format("40:00"))
    a["owner"] = None  # the API names no decider once an alert is resolved
    (fact,) = alert_facts([a], [], PEOPLE, T.format("59:59"))
    assert fact.owner == "Li → Wang"
