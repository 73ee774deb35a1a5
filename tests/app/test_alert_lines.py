"""Alerts and run sheet steps as printed lines (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.alert_lines import alert_line, next_steps, person_text, step_line, strip_order
from app.night_time import header_times, rate_of
from app.wall_html import step_html

NOW = datetime(2024, 11, 11, 15, 35, tzinfo=UTC)  # 23:35 in Shanghai
GM = {"role": "general_manager", "name": "王强 · 总经理", "phone": "+86 138 0000 0003"}
OPS = {"role": "ops_lead", "name": "李娜 · 运营负责人", "phone": "+86 138 0000 0002"}


def alert(**over):
    base = {"id": 7, "metric": "response_time", "title": "系统响应时间 / Response time", "kind": "level",
            "level": "orange", "peak_level": "orange", "state": "open", "opened_at": "2024-11-11T15:30:00+00:00",
            "owner": OPS, "acked_by": None, "escalated_to": None, "delivery_failed": False, "silenced": False}
    return {**base, **over}


def test_open_alert_names_owner_and_age():
    line = alert_line(alert(), "zh-CN", NOW)
    assert line.word == "橙色预警" and line.owner == "李娜 · 运营负责人 · +86 138 0000 0002"
    assert line.age_text == "5分00秒" and line.status == "未确认" and not line.acked


def acting(person, rank=1, **over):
    """The engine's `acting` of an alert (alerts/acting.py) as the API gives it."""
    return {**person, "how": "decider", "since": "2024-11-11T15:30:00+00:00", "waiting": True, "missed": None,
            "banner": True, "rank": rank, "nobody_left": False, **over}


def test_escalated_alert_points_at_who_is_paged_now_and_names_who_did_not_answer_small():
    # Issue 16, defect 1: the arrow pointed at the operations lead who did not answer, the GM only in grey.
    missed = {"role": "ops_lead", "name": "李娜 · 运营负责人", "why": "no_ack", "after_s": 300.0}
    line = alert_line(alert(escalated_to=GM, acting=acting(GM, how="escalated", missed=missed)), "en", NOW)
    assert line.owner.startswith("王强 · 总经理") and line.escalated
    assert line.status == "OPEN — not acknowledged · 李娜 · 运营负责人 did not answer within 5 min"
    zh = alert_line(alert(escalated_to=GM, acting=acting(GM, how="escalated", missed=missed)), "zh-CN", NOW)
    assert zh.status == "未确认 · 李娜 · 运营负责人 5分钟内未确认"


def test_a_recovering_alert_shows_green_with_its_peak_and_nobody_deciding():
    # the strip said "yellow → general manager" while the tile said green: now both say green
    line = alert_line(alert(level="green", peak_level="red", recovering=True, decider=None, owner=None), "zh-CN", NOW)
    assert line.level == "green" and line.owner == "—"
    assert line.status == "已回到正常 · 峰值 红色预警"


def test_the_strip_names_the_decider_at_the_current_level_not_the_peak():
    line = alert_line(alert(level="yellow", peak_level="red", decider={"role": "tech_lead", "name": "张伟"}), "en", NOW)
    assert line.level == "yellow" and line.owner.startswith("张伟")


def test_acked_alert_and_failed_delivery():
    line = alert_line(alert(acked_by="ops_lead", state="acked", delivery_failed=True), "zh-CN", NOW)
    assert line.status == "已由 运营负责人 确认" and line.delivery_failed and line.acked
    named = alert(acked_by="ops_lead", state="acked",
                  acked_by_person={"role": "ops_lead", "name": "李娜", "phone": "2"})
    assert alert_line(named, "zh-CN", NOW).status == "已由 李娜 · 运营负责人 确认"


def test_no_data_alert_and_resolved():
    line = alert_line(alert(kind="no_data", level="yellow", state="resolved"), "en", NOW)
    assert line.word == "YELLOW · no data" and line.status == "resolved"


def test_the_strip_keeps_the_engines_order_and_never_re_derives_it():
    # The engine ranks (alerts/acting.py): the board only sorts by that rank; nobody to act on goes last.
    alerts = [alert(id=1, level="yellow", acting=acting(OPS, rank=3)), alert(id=2, level="red", acting=acting(GM, 2)),
              alert(id=3, level="red", acting=acting(GM, rank=1)), alert(id=4, level="green", acting=None)]
    assert [a["id"] for a in strip_order(alerts)] == [3, 2, 1, 4]


def test_person_text_does_not_repeat_the_role_in_the_name():
    assert person_text(GM, "zh-CN") == "王强 · 总经理 · +86 138 0000 0003"
    assert person_text({"role": "dba", "name": "Zhao"}, "en") == "Zhao · DBA"
    assert person_text(None, "en") == "—"


def test_run_sheet_step_counts_down_then_shows_overdue_and_done():
    step = {"index": 1, "at": "2024-11-11T16:05:00+00:00", "action": "close payment", "owner": OPS,
            "done": False, "done_by": None, "done_at": None}
    line = step_line(step, "en", NOW, "Asia/Shanghai")
    assert line.at_text == "00:05:00" and line.due_text == "in 30m 00s" and not line.overdue
    late = step_line(step, "zh-CN", datetime(2024, 11, 11, 16, 6, 5, tzinfo=UTC), "Asia/Shanghai")
    assert late.overdue and late.due_text == "已超时 1分05秒"
    done = step_line({**step, "done": True, "done_by": "ops_lead", "done_at": "2024-11-11T16:05:30+00:00"},
                     "zh-CN", NOW, "Asia/Shanghai")
    assert done.done and done.done_text == "运营负责人 于 00:05:30 完成" and not done.overdue


def test_next_steps_lists_todo_in_time_order_then_recent_done():
    steps = [{"index": 0, "at": "2024-11-11T15:59:59+00:00", "done": True, "done_at": "2024-11-11T16:00:01+00:00"},
             {"index": 2, "at": "2024-11-11T16:30:00+00:00", "done": False},
             {"index": 1, "at": "2024-11-11T16:05:00+00:00", "done": False}]
    assert [s["index"] for s in next_steps(steps)] == [1, 2, 0]
    assert [s["index"] for s in next_steps(steps, limit=1)] == [1]


def test_in_demo_mode_a_run_sheet_step_is_marked_and_its_times_are_as_stamped():
    # One clock: the daemon's stamps already are the night's; the board converts nothing, only marks them.
    step = {"index": 0, "at": "2024-11-11T15:59:59+00:00", "action": "close the entry", "owner": OPS,
            "done": False}
    now = datetime(2024, 11, 11, 15, 33, 8, tzinfo=UTC)  # 23:33:08 on the night
    line = step_line(step, "en", now, "Asia/Shanghai", demo=True)
    assert line.at_text == "23:59:59" and line.due_text == "in 26m 51s" and line.night
    assert "data-demo" in step_html(line, "en") and "demo night" in step_html(line, "en")
    real = step_line(step, "en", now, "Asia/Shanghai")
    assert real.at_text == "23:59:59" and not real.night and "data-demo" not in step_html(real, "en")


def test_the_header_reads_the_daemons_clock_and_marks_the_demo_and_its_end():
    end = datetime(2024, 11, 11, 15, 59, 59, tzinfo=UTC)
    now = datetime(2024, 11, 11, 15, 31, tzinfo=UTC)
    remaining = (end - now).total_seconds()
    demo = {"at": now.isoformat(), "campaign": {"end": end.isoformat(), "clock": {"demo": True, "rate": 9.0}}}
    assert header_times(demo, now, remaining, "Asia/Shanghai", "zh-CN") == \
        ("T-00:28:59", "距结束 23:59:59", "23:31:00  Asia/Shanghai", "演示")
    held = {"at": now.isoformat(), "campaign": {"end": end.isoformat(),
                                                "clock": {"demo": True, "rate": 0.0, "ended": True}}}
    assert header_times(held, now, remaining, "Asia/Shanghai", "en")[3] == "demo night ended"
    assert rate_of(held) == 0.0 and rate_of(demo) == 9.0
    real = {"at": now.isoformat(), "campaign": {"end": end.isoformat(), "clock": {"demo": False, "rate": 1.0}}}
    assert header_times(real, now, remaining, "Asia/Shanghai", "en") == \
        ("T-00:28:59", "to the end 23:59:59", "23:31:00  Asia/Shanghai", "")
    assert rate_of({"campaign": {}}) == 1.0  # a daemon that does not say runs on real time
