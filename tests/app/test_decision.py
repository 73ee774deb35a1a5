"""The decision banner: who the room waits for now, as the engine ranked it (`acting`), waiting since when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.decision import decision_html, decision_view
from app.viewers import viewer_pace

NOW = datetime(2024, 11, 11, 15, 31, tzinfo=UTC)
TECH = {"role": "tech_lead", "name": "张伟 · 技术负责人", "phone": "+86 138 0000 0001"}
OPS = {"role": "ops_lead", "name": "李娜 · 运营负责人", "phone": "+86 138 0000 0002"}
GM = {"role": "general_manager", "name": "王强 · 总经理", "phone": "+86 138 0000 0003"}


def alert(i, level, person, rank, since="2024-11-11T15:30:00+00:00", state="open", **acting):
    """An API alert with the engine's `acting` (alerts/acting.py): who acts, since when, its rank."""
    answer = {**person, "how": "decider", "since": since, "waiting": state == "open", "missed": None,
              "banner": True, "rank": rank, "nobody_left": False, **acting}
    return {"id": i, "level": level, "owner": person, "opened_at": "2024-11-11T15:00:00+00:00", "state": state,
            "acked_by": None if state == "open" else person["role"], "acting": answer}


@pytest.mark.parametrize(("alerts", "level", "name", "unacked", "count"), [
    ([], None, "", None, 0),
    ([alert(1, "yellow", TECH, 1)], "yellow", "张伟 · 技术负责人", 60.0, 1),
    # The engine's first alert is the banner's; the count is of the business alerts at its level.
    ([alert(1, "orange", OPS, 3), alert(2, "red", GM, 1), alert(3, "red", GM, 2, "2024-11-11T15:30:30+00:00")],
     "red", "王强 · 总经理", 60.0, 2),
    # Acknowledged red: still shown, but nothing counts as waiting.
    ([alert(2, "red", GM, 1, state="acked"), alert(1, "orange", OPS, 2)], "red", "王强 · 总经理", None, 1),
    # Since the page to the person named arrived, not since the alert opened.
    ([alert(1, "red", GM, 1, "2024-11-11T15:30:40+00:00")], "red", "王强 · 总经理", 20.0, 1),
    # An alert nobody must act on has no `acting` (recovering, resolved): the quiet banner.
    ([{"id": 1, "level": "green", "state": "open", "acting": None}], None, "", None, 0),
])
def test_the_banner_names_the_engines_first_alert(alerts, level, name, unacked, count):
    view = decision_view(alerts, "zh-CN", NOW)
    assert (view.level, view.name, view.unacked_s, view.count) == (level, name, unacked, count)


def test_after_an_escalation_the_banner_names_who_is_paged_now_and_who_did_not_answer_small():
    # Issue 16, defect 1: at 23:23 the 40 px banner still said 张伟 after the alert went to 李娜.
    missed = {"role": "tech_lead", "name": "张伟 · 技术负责人", "why": "no_ack", "after_s": 60.0}
    view = decision_view([alert(1, "yellow", OPS, 1, how="escalated", missed=missed)], "zh-CN", NOW)
    assert view.name == "李娜 · 运营负责人" and view.phone == "+86 138 0000 0002"
    html = decision_html(view, "zh-CN")
    assert '<span class="wr-decision-name" data-decider="1">李娜 · 运营负责人</span>' in html
    assert '<span class="wr-decision-missed" data-missed="1">张伟 · 技术负责人 1分钟内未确认</span>' in html
    en = decision_html(decision_view([alert(1, "yellow", OPS, 1, how="escalated", missed=missed)], "en", NOW), "en")
    assert "张伟 · 技术负责人 did not answer within 1 min" in en
    # Their page is still on its way: nothing to count yet, and the banner says so.
    paging = decision_view([alert(1, "yellow", OPS, 1, since=None, how="escalated", missed=missed)], "en", NOW)
    assert paging.paging and "being paged now" in decision_html(paging, "en")


def test_health_and_silenced_alerts_never_take_the_banner():
    # Issue 16, defect 2: the host's CPU went red first and the banner named the technical lead.
    host = alert(9, "red", TECH, 1, health=True, banner=False)
    quiet = alert(8, "red", TECH, 2, silenced=True, banner=False)
    business = alert(3, "orange", OPS, 3)
    view = decision_view([host, quiet, business], "zh-CN", NOW)
    assert (view.level, view.name, view.count, view.total, view.aside) == ("orange", "李娜 · 运营负责人", 1, 1, 2)
    alone = decision_view([host, quiet], "zh-CN", NOW)
    assert alone.level is None and alone.aside == 2
    assert "另有 2 条在健康行或已静默" in decision_html(alone, "zh-CN")


def test_a_second_person_at_the_same_level_is_named_too():
    alerts = [alert(1, "red", GM, 1), alert(2, "red", TECH, 2), alert(3, "red", GM, 3)]
    view = decision_view(alerts, "zh-CN", NOW)
    assert view.name == "王强 · 总经理" and view.others == (("张伟 · 技术负责人", 1),)
    assert "另有 张伟 · 技术负责人 (1 条)" in decision_html(view, "zh-CN")


def test_banner_html_loud_when_open_quiet_when_green():
    loud = decision_html(decision_view([alert(2, "red", GM, 1), alert(1, "orange", OPS, 2)], "zh-CN", NOW), "zh-CN")
    assert 'data-decision="red"' in loud and "王强 · 总经理" in loud and "+86 138 0000 0003" in loud
    assert "1分00秒 无人确认" in loud and "此级别 1 条 / 共 2 条告警" in loud and "红色预警" in loud
    quiet = decision_html(decision_view([], "en", NOW), "en")
    assert 'data-decision="none"' in quiet and "nothing to decide" in quiet
    acked = decision_html(decision_view([alert(2, "red", GM, 1, state="acked")], "en", NOW), "en")
    assert "acknowledged by 王强 · 总经理" in acked


@pytest.mark.parametrize(("kiosk", "load", "before", "degraded", "every"), [
    (True, 0.99, False, False, 1.0),   # the wall screen never slows down
    (False, 0.20, False, False, 1.0),
    (False, 0.65, False, True, 3.0),   # busy: secondary viewers go to 3 s
    (False, 0.45, True, True, 3.0),    # and stay there until the board is calm again
    (False, 0.30, True, False, 1.0),
    (False, 0.45, False, False, 1.0),
])
def test_secondary_viewers_degrade_first(kiosk, load, before, degraded, every):
    pace = viewer_pace(kiosk, load, before, 1.0, 10.0)
    assert (pace.degraded, pace.tiles_every_s) == (degraded, every)
