"""The decision banner: the highest open level names its decider (from the API's alert), how long unacked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.decision import decision_html, decision_view
from app.viewers import viewer_pace

NOW = datetime(2024, 11, 11, 15, 31, tzinfo=UTC)
TECH = {"role": "tech_lead", "name": "张伟 · 技术负责人", "phone": "+86 138 0000 0001"}
OPS = {"role": "ops_lead", "name": "李娜 · 运营负责人", "phone": "+86 138 0000 0002"}
GM = {"role": "general_manager", "name": "王强 · 总经理", "phone": "+86 138 0000 0003"}


def alert(i, level, owner, opened="2024-11-11T15:30:00+00:00", **extra):
    return {"id": i, "level": level, "owner": owner, "opened_at": opened, "state": "open", "acked_by": None, **extra}


@pytest.mark.parametrize(("alerts", "level", "name", "unacked", "count"), [
    ([], None, "", None, 0),
    ([alert(1, "yellow", TECH)], "yellow", "张伟 · 技术负责人", 60.0, 1),
    # The red alert wins over older orange ones; its decider is the one the API names for red now.
    ([alert(1, "orange", OPS, "2024-11-11T15:20:00+00:00"), alert(2, "red", GM), alert(3, "red", GM,
      "2024-11-11T15:30:30+00:00")], "red", "王强 · 总经理", 60.0, 2),
    # Acknowledged red: still shown, but nothing counts as waiting.
    ([alert(2, "red", GM, acked_by="general_manager"), alert(1, "orange", OPS)], "red", "王强 · 总经理", None, 1),
    # Among equals, the oldest one still waiting is the one whose clock is shown.
    ([alert(1, "orange", OPS, "2024-11-11T15:25:00+00:00", acked_by="ops_lead"), alert(2, "orange", OPS)],
     "orange", "李娜 · 运营负责人", 60.0, 2),
    # An alert back to green (resolving), recovering or resolved asks nobody to decide.
    ([alert(1, "green", TECH), alert(2, "red", GM, state="resolved"), alert(3, "orange", None, recovering=True)],
     None, "", None, 0),
    # Risen to red 20 s ago after being opened at orange: unacknowledged at red for 20 s, not since opening.
    ([alert(1, "red", GM, "2024-11-11T15:20:00+00:00", level_since="2024-11-11T15:30:40+00:00")],
     "red", "王强 · 总经理", 20.0, 1),
])
def test_highest_open_level_names_its_decider(alerts, level, name, unacked, count):
    view = decision_view(alerts, "zh-CN", NOW)
    assert (view.level, view.name, view.unacked_s, view.count) == (level, name, unacked, count)


def test_a_second_decider_at_the_same_level_is_named_too():
    alerts = [alert(1, "red", GM, "2024-11-11T15:29:00+00:00"), alert(2, "red", TECH), alert(3, "red", GM)]
    view = decision_view(alerts, "zh-CN", NOW)
    assert view.name == "王强 · 总经理" and view.others == (("张伟 · 技术负责人", 1),)
    assert "另有 张伟 · 技术负责人 (1 条)" in decision_html(view, "zh-CN")


def test_banner_html_loud_when_open_quiet_when_green():
    loud = decision_html(decision_view([alert(2, "red", GM), alert(1, "orange", OPS)], "zh-CN", NOW), "zh-CN")
    assert 'data-decision="red"' in loud and "王强 · 总经理" in loud and "+86 138 0000 0003" in loud
    assert "1分00秒 无人确认" in loud and "此级别 1 条 / 共 2 条告警" in loud and "红色预警" in loud
    quiet = decision_html(decision_view([], "en", NOW), "en")
    assert 'data-decision="none"' in quiet and "nothing to decide" in quiet
    acked = decision_html(decision_view([alert(2, "red", GM, acked_by="general_manager")], "en", NOW), "en")
    assert "acknowledged by General manager" in acked


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
