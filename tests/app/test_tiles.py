"""Tile state → colours, words and text; countdown and KPI formatting (pure)."""

from __future__ import annotations

import pytest

from app.labels import level_word, normal_locale, role_word, text
from app.tiles import (
    ACCENT,
    BACKGROUND,
    format_countdown,
    format_duration,
    format_value,
    kpi_view,
    local_time,
    parse_ts,
    seconds_remaining,
    tile_view,
)

OWNER = {"role": "general_manager", "name": "王强 · 总经理", "phone": "+86 138 0000 0003"}


def tile(**over):
    base = {"metric": "order_success", "title": "订单提交成功率 / Order success", "unit": "%", "decimals": 1,
            "value": 70.64, "age_s": 1.2, "stale": False, "level": "red", "owner": OWNER, "error": None}
    return {**base, **over}


@pytest.mark.parametrize(("level", "zh", "en"), [
    ("green", "正常", "OK"), ("yellow", "黄色预警", "YELLOW"), ("orange", "橙色预警", "ORANGE"),
    ("red", "红色预警", "RED"), ("stale", "无数据", "NO DATA"),
])
def test_level_words_in_both_languages(level, zh, en):
    assert level_word("zh-CN", level) == zh
    assert level_word("en", level) == en


def test_red_tile_shows_colour_word_and_the_owner_who_decides():
    view = tile_view(tile(), "zh-CN")
    assert (view.level, view.word, view.accent, view.background) == ("red", "红色预警", ACCENT["red"],
                                                                    BACKGROUND["red"])
    assert view.value_text == "70.6" and view.unit == "%"
    assert view.owner is not None and view.owner.name == "王强 · 总经理" and view.owner.phone == "+86 138 0000 0003"
    assert view.owner.role == "总经理"
    assert view.age_text == "1秒前" and not view.stale


def test_green_tile_names_nobody():
    view = tile_view(tile(level="green", owner=None, value=99.2), "en")
    assert view.owner is None and view.word == "OK" and view.accent == ACCENT["green"]


def test_stale_tile_is_grey_says_for_how_long_and_never_green():
    view = tile_view(tile(level="stale", stale=True, age_s=95.0, error="GET /h5/order: timed out after 3s"), "en")
    assert view.level == "stale" and view.accent == ACCENT["stale"] and view.word == "NO DATA"
    assert view.age_text == "no data for 1m 35s"
    assert view.reason == "GET /h5/order: timed out after 3s"
    # A green level with stale=True (or any unknown level) is still grey.
    assert tile_view(tile(level="green", stale=True), "en").level == "stale"
    assert tile_view(tile(level="purple"), "en").level == "stale"


def test_tile_without_any_value_says_so():
    view = tile_view(tile(value=None, age_s=None, level="stale", stale=True), "zh-CN")
    assert view.value_text == "—" and view.age_text == "尚无数据"


def test_unreachable_daemon_turns_every_tile_grey_and_ages_it():
    view = tile_view(tile(level="green", age_s=2.0), "zh-CN", down_for_s=60.0)
    assert view.stale and view.level == "stale"
    assert view.age_text == "已 1分02秒 无数据"


def test_long_collector_errors_are_cut():
    view = tile_view(tile(stale=True, error="x" * 300), "en")
    assert view.reason is not None and len(view.reason) == 118 and view.reason.endswith("…")


@pytest.mark.parametrize(("value", "decimals", "shown"), [
    (7950.0, 0, "7,950"), (3.0, 2, "3.00"), (88.69103, 1, "88.7"), (None, 1, "—"), (float("nan"), 1, "—"),
    (12345.678, 1, "12,345.7"), (-4.25, 1, "-4.2"),
])
def test_format_value(value, decimals, shown):
    assert format_value(value, decimals) == shown


@pytest.mark.parametrize(("seconds", "en", "zh"), [
    (0, "0s", "0秒"), (45.9, "45s", "45秒"), (65, "1m 05s", "1分05秒"), (3600 + 600, "1h 10m", "1小时10分"),
    (None, "—", "—"), (-3, "0s", "0秒"),
])
def test_format_duration(seconds, en, zh):
    assert format_duration(seconds, "en") == en
    assert format_duration(seconds, "zh-CN") == zh


@pytest.mark.parametrize(("remaining", "shown"), [
    (3 * 3600 + 2 * 60 + 1, "T-03:02:01"), (0.2, "T-00:00:01"), (59.0, "T-00:00:59"), (0, "T+00:00:00"),
    (-0.4, "T+00:00:00"), (-61.5, "T+00:01:01"), (-(26 * 3600), "T+26:00:00"),
])
def test_countdown_counts_down_then_up(remaining, shown):
    assert format_countdown(remaining) == shown


def test_countdown_keeps_running_while_the_daemon_is_away():
    assert seconds_remaining({"seconds_remaining": 100.0}, None) == 100.0
    assert seconds_remaining({"seconds_remaining": 100.0}, 30.0) == 70.0


def test_kpi_with_pace_projects_the_total():
    kpi = {"metric": "orders_total", "title": "订单 / KPI", "value": 7950.0, "target": 8000.0, "progress": 0.99375,
           "pace_per_min": 12.5, "projected": 8127.0}
    view = kpi_view(kpi, "zh-CN")
    assert view is not None
    assert (view.value_text, view.target_text, view.percent_text) == ("7,950", "8,000", "99.4%")
    assert view.projection_text == "按当前速度预计 8,127 (12.5/分钟)" and view.on_track
    assert view.gap_text == "还差 50 单"
    behind = kpi_view({**kpi, "projected": 7950.0, "pace_per_min": None}, "en")
    assert behind is not None and behind.projection_text == "measuring the pace: projection after 1 minute"
    assert not behind.on_track
    assert kpi_view(None, "en") is None
    over = kpi_view({**kpi, "value": 8127.0, "progress": 1.016}, "en")
    assert over is not None and over.progress == 1.0 and over.percent_text == "101.6%"


def test_kpi_gap_in_words_rough_projection_never_negative():
    kpi = {"title": "订单 / KPI", "value": 7954.0, "target": 8000.0, "progress": 0.99425, "pace_per_min": 9.5,
           "pace_window_s": 90.0, "projected": 8073.0}
    view = kpi_view(kpi, "zh-CN")
    assert view is not None
    assert f"{view.gap_text} · {view.projection_text}".startswith("还差 46 单 · 按当前速度预计 8,073")
    assert view.projection_text.endswith("依据 1分30秒 数据, 粗略")
    sure = kpi_view({**kpi, "pace_window_s": 300.0}, "en")
    assert sure is not None and "rough" not in sure.projection_text
    falling = kpi_view({**kpi, "pace_per_min": -3.0, "projected": 7900.0}, "en")
    assert falling is not None and "-" not in falling.projection_text and "7,954" in falling.projection_text
    done = kpi_view({**kpi, "value": 8127.0}, "zh-CN")
    assert done is not None and done.gap_text == "已达成, 超出 127 单"
    # After the close the header says the count is final, never a pace (issue 16, defect 6).
    closed = kpi_view({**kpi, "value": 8127.0, "projected": 8127.0, "pace_per_min": None, "closed": True}, "zh-CN")
    assert closed is not None and closed.projection_text == "活动已结束, 最终 8,127 单"


def test_local_time_in_the_campaign_zone():
    assert local_time("2024-11-11T15:30:00Z", "Asia/Shanghai") == "23:30:00"
    assert local_time("2024-11-11T15:30:00+00:00", "Asia/Shanghai", seconds=False) == "23:30"
    assert local_time(None, "UTC") == "—"


def test_labels_fall_back_to_english_and_roles_to_their_key():
    assert normal_locale("zh") == "zh-CN" and normal_locale("en-US") == "en" and normal_locale(None) == "en"
    assert text("zh-CN", "no.such.key") == "no.such.key"
    assert role_word("zh-CN", "ops_lead") == "运营负责人"
    assert role_word("en", "night_dba") == "night dba"
    assert role_word("en", None) == ""


def test_no_traffic_is_said_in_words_not_greyed_out():
    tile = {"metric": "order_success", "title": "Order success", "value": None, "level": "green", "stale": False,
            "age_s": 2.0, "note": "no_traffic", "decimals": 1, "unit": "%"}
    view = tile_view(tile, "zh-CN")
    assert not view.stale and view.level == "green" and view.age_text.startswith("无流量")


def test_a_metric_no_longer_watched_after_the_close_is_not_called_ok():
    tile = {"metric": "order_success", "title": "Order success", "value": None, "level": "green", "stale": False,
            "age_s": 14.0, "note": "watch_ended", "decimals": 1, "unit": "%"}
    zh, en = tile_view(tile, "zh-CN"), tile_view(tile, "en")
    # before: a green 正常 badge above "活动已结束, 不再监控"
    assert (zh.word, en.word) == ("已停止监控", "NOT WATCHED")
    assert zh.age_text.startswith("活动已结束, 不再监控") and zh.level == "green"


def test_an_address_typed_with_a_plus_offset_still_parses():
    # The README's /replay?at=2024-11-11T23:31:00+08:00: a + in a query string reaches the page as a space.
    assert parse_ts("2024-11-11T23:31:00 08:00") == parse_ts("2024-11-11T15:31:00Z")
