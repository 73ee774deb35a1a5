"""What a person reads: distinct words per step, local time, the question for the person paged, grouping."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from tests.alerts.conftest import config, push


def zh(**alerts):
    loaded = config(**alerts)
    cfg = loaded.config
    cfg.campaign.locale, cfg.campaign.timezone = "zh-CN", "Asia/Shanghai"
    cfg.people["dba"].decision = "请 DBA 决策: 扩连接池 / 杀慢查询?"
    return loaded


def pages_to(phone, role):
    return [p for r, _, _, p in phone.pages if r == role]


def test_rise_escalation_and_fall_read_differently_in_chinese_and_local_time(rig):
    make, clock, phone, _ = rig
    engine = make(zh(repeat_every="0s"))
    push(engine, clock, "cpu", 85)  # 15:20 UTC is 23:20 in Shanghai
    opened = phone.got(n=1) and pages_to(phone, "tech_lead")[0]
    assert opened.title.startswith("[黄色预警] CPU 85.0% · Zhang 决策")
    assert "23:20:00 起" in opened.body and "(Asia/Shanghai)" in opened.body and "15:20" not in opened.body
    clock.advance(300)
    engine.tick(clock.now)  # nobody acknowledged: escalated
    escalated = phone.got(n=2) and pages_to(phone, "ops_lead")[0]
    assert escalated.title.startswith("[无人确认 · 已上报]") and "Zhang 5分内未确认, 现请你决策" in escalated.body
    clock.advance(10)
    push(engine, clock, "cpu", 97)  # the level rose: a different word
    phone.got(n=5)
    raised = pages_to(phone, "general_manager")[0]
    assert raised.title.startswith("[升至红色]") and "已上报" not in raised.title
    handed = next(p for p in pages_to(phone, "tech_lead") if p.kind == "handed_over")
    assert "级别升至红色, 现由 Wang 3 决策" in handed.body
    # the operations lead, escalated to at yellow, is told too: nothing more is asked of him
    told = next(p for p in pages_to(phone, "ops_lead") if p.kind == "handed_over")
    assert "级别升至红色, 现由 Wang 3 决策, 你无需再处理" in told.body
    clock.advance(10)
    push(engine, clock, "cpu", 92)  # the level fell: never called an escalation
    phone.got(n=7)
    fell = [p for r, k, _, p in phone.pages if k in ("lowered", "stood_down")]
    assert fell and all("升" not in p.title and "上报" not in p.title for p in fell)
    assert fell[0].title.startswith("[降至橙色]")


def test_a_resolved_page_says_the_value_is_back_not_the_old_comparison(rig):
    make, clock, phone, _ = rig
    engine = make(zh())
    push(engine, clock, "success", 93)
    clock.advance(5)
    push(engine, clock, "success", 98)
    clock.advance(31)
    push(engine, clock, "success", 98)
    engine.tick(clock.now)
    resolved = next(p for r, k, _, p in phone.got(n=2) and phone.pages if k == "resolved")
    assert resolved.title.startswith("[已恢复] Orders OK 98.0%")
    assert "当前 98.0%, 已回到 95.0% 线以内 · 峰值 黄色预警" in resolved.body
    assert "≤" not in resolved.body and "≥" not in resolved.body


def test_a_no_data_page_says_why(rig):
    make, clock, phone, _ = rig
    engine = make(config(success_stale="30s"))
    engine.cfg.feeders()["success"] = type("Feeder", (), {"name": "orders"})()
    engine.collector_errors["orders"] = "GET http://shop/api: HTTP 502 Bad Gateway"
    clock.advance(31)
    engine.tick(clock.now)
    page = phone.got(n=1) and phone.pages[0][3]
    assert page.title.startswith("[NO DATA]")
    assert "Why: no sample for 31s; collector orders: GET http://shop/api: HTTP 502 Bad Gateway" in page.body


def test_the_question_follows_the_person_paged(rig):
    make, clock, phone, _ = rig
    engine = make(zh())
    push(engine, clock, "db", 72)  # yellow, owned by the DBA through the metric's override
    page = phone.got(n=1) and pages_to(phone, "dba")[0]
    assert "请 DBA 决策: 扩连接池 / 杀慢查询?" in page.body and "扩容 / 限流 / 降级" not in page.body


def test_a_repeat_says_how_old_a_stale_value_is(rig):
    make, clock, phone, _ = rig
    engine = make(config(repeat_every="1m"))
    push(engine, clock, "cpu", 85)
    phone.got(n=1)
    clock.advance(60)
    engine.tick(clock.now)  # no new sample for a minute: the repeat must not pass 85 off as current
    repeat = phone.got(n=2) and phone.pages[-1][3]
    assert repeat.kind == "repeat" and "now 85.0% (data from 1m ago)" in repeat.body


def test_pages_for_one_person_within_the_window_go_out_as_one_worst_first(rig):
    make, clock, phone, _ = rig
    engine = make(config(group_window="1s"))
    t0 = time.monotonic()
    push(engine, clock, "cpu", 97)  # red: the GM, sent at once
    phone.got(n=1)
    assert time.monotonic() - t0 < 0.5
    push(engine, clock, "db", 96)  # red too, 1 ms later
    push(engine, clock, "success", 70)  # red
    phone.got(n=2, timeout=3)
    assert len(phone.pages) == 2
    grouped = phone.pages[1][3]
    assert grouped.title.startswith("[2 alerts · worst RED]")
    assert grouped.body.startswith("1. RED · DB (db)") and "\n\n2. RED · Orders OK (success)" in grouped.body


def test_when_someone_acknowledges_everyone_else_paged_is_told_who_took_it(rig):
    make, clock, phone, _ = rig
    engine = make(config(repeat_every="0s"))
    push(engine, clock, "cpu", 85)
    phone.got(n=1)  # the time to acknowledge starts when the page arrived
    clock.advance(300)
    engine.tick(clock.now)  # escalated to the operations lead
    phone.got(n=2)
    engine.ack(1, "ops_lead", "link")
    taken = phone.got(n=3)[-1]
    assert taken[:2] == ("tech_lead", "taken")
    assert "Li acknowledged at 15:25:00 and is on it" in phone.pages[-1][3].body
    assert phone.pages[-1][3].ack_url is None


def test_resolution_after_the_alert_ended_is_told_with_the_peak(rig):
    make, clock, phone, _ = rig
    engine = make(zh())
    push(engine, clock, "cpu", 97)
    clock.advance(5)
    push(engine, clock, "cpu", 10)
    clock.advance(timedelta(seconds=31).total_seconds())
    engine.tick(clock.now)
    resolved = next(p for r, k, _, p in phone.got(n=2) and phone.pages if k == "resolved")
    assert "峰值 红色预警" in resolved.body


def test_a_grouped_page_carries_only_each_alerts_newest_step(rig):
    make, clock, phone, _ = rig
    engine = make(config(group_window="1s"))
    push(engine, clock, "cpu", 97)  # red: the GM at once
    phone.got(n=1)
    clock.advance(2)
    push(engine, clock, "cpu", 85)  # fell to yellow: the GM is told it went to the tech lead...
    clock.advance(2)
    push(engine, clock, "cpu", 97)  # ...and it rose again before that page left: only the rise is news
    push(engine, clock, "success", 70)  # another red for the GM in the same window
    # each lane sends its first page at once and the rest as one page when the window closes
    pages = phone.got(n=4)
    assert sorted(role for role, _, _ in pages) == ["general_manager"] * 2 + ["tech_lead"] * 2
    to_gm = [p for r, _, _, p in phone.pages if r == "general_manager"]
    assert len(to_gm) == 2
    grouped = to_gm[1]
    assert grouped.title.startswith("[2 alerts · worst RED] [RISEN TO RED] CPU 97.0%")
    assert "FELL TO" not in grouped.title and grouped.body.count("RED · CPU (cpu)") == 1
    assert grouped.body.rstrip().endswith(grouped.tail) or not grouped.tail


def test_in_demo_mode_pages_speak_the_nights_time_and_minutes(rig):
    make, clock, phone, _ = rig
    engine = make(zh(repeat_every="0s"))
    night = datetime.fromisoformat("2024-11-11T23:31:00+08:00")
    real = clock.now
    engine.writer.night = lambda: (real, night, 9.0)  # the demo plays the night at 9x
    push(engine, clock, "cpu", 85)
    clock.advance(60)  # one real minute is nine of the night's
    push(engine, clock, "cpu", 92)
    # opened to the tech lead, raised to the operations lead, and the tech lead told it moved on
    raised = next(p for r, k, _, p in phone.got(n=3) and phone.pages if k == "raised")
    assert "23:40:00 起" in raised.body and "演示之夜的时间" in raised.body
    assert "15:2" not in raised.body


def test_a_level_held_by_the_clear_band_says_what_ends_it_not_that_the_line_is_passed(rig):
    make, clock, phone, _ = rig
    engine = make(config(repeat_every="0s"))
    push(engine, clock, "cpu", 92)  # orange (cpu clears 2 below each line)
    phone.got(n=1)
    clock.advance(300)
    push(engine, clock, "cpu", 89)  # under 90 but inside the band: still orange
    engine.tick(clock.now)  # nobody acknowledged: the escalation page reads the held level
    body = phone.got(n=2) and phone.pages[-1][3].body
    assert "still orange until below 88.0%" in body and "past the orange line" not in body
