"""A whole wall from one board and one alerts answer: which tiles go on which wall, compact tiles, outage."""

from __future__ import annotations

from datetime import UTC, datetime

from app.phone_view import phone_html
from app.tiles import tile_view
from app.wall_html import tile_html
from app.wall_view import Outage, build_wall, ha_words, wall_plan

NOW = datetime(2024, 11, 11, 15, 31, tzinfo=UTC)
GM = {"role": "general_manager", "name": "王强 · 总经理", "phone": "+86 138 0000 0003"}
BOARD = {"at": NOW.isoformat(), "campaign": {"name": "收官之夜", "timezone": "Asia/Shanghai", "seconds_remaining": 60,
                                            "end": "2024-11-11T15:59:59+00:00"},
         "tiles": [{"metric": m, "title": m, "value": 97.0, "level": "red", "owner": GM, "age_s": 1}
                   for m in ("cpu", "orders", "host_cpu")]}
CONFIG = {"walls": {"tech": {"title": "Tech", "metrics": ["cpu", "orders"], "health": ["host_cpu"]},
                    "business": {"title": "Business", "metrics": ["orders", "gone"]}}}


def test_wall_plan_picks_the_named_wall_else_the_first():
    assert wall_plan(CONFIG, BOARD, "business", "en").metrics == ("orders",)  # unknown to the daemon: left out
    tech = wall_plan(CONFIG, BOARD, None, "en")
    assert (tech.name, tech.metrics, tech.health, tech.note) == ("tech", ("cpu", "orders"), ("host_cpu",), "")
    assert "nope" in wall_plan(CONFIG, BOARD, "nope", "en").note
    assert wall_plan({}, BOARD, "tech", "en").metrics == ("cpu", "orders", "host_cpu")  # no walls: one wall


def test_build_wall_has_banner_strip_tiles_and_health_row():
    acting = {**GM, "how": "decider", "since": "2024-11-11T15:30:00+00:00", "waiting": True, "banner": True,
              "rank": 1}
    alerts = [{"id": 1, "level": "red", "owner": GM, "opened_at": "2024-11-11T15:30:00+00:00", "state": "open",
               "title": "cpu", "acting": acting}]
    html = build_wall(BOARD, alerts, "ok", wall_plan(CONFIG, BOARD, "tech", "zh-CN"), "zh-CN", NOW)
    assert 'data-decision="red"' in html.decision and "王强 · 总经理" in html.decision
    assert len(html.tiles) == 2 and 'data-health="host_cpu"' in html.health and 'data-alerts="1"' in html.strip
    assert "收官之夜 · Tech" in html.header and "T-00:01:00" in html.header


def test_outage_greys_tiles_and_says_who_decides_is_unknown():
    plan = wall_plan(CONFIG, BOARD, "tech", "en")
    html = build_wall(BOARD, None, "unknown", plan, "en", NOW, outage=Outage("Daemon unreachable", "refused", 30))
    assert all('data-level="stale"' in t for t in html.tiles) and 'data-banner="down"' in html.strip
    assert 'data-decision="unknown"' in html.decision and "T-00:00:30" in html.header


def test_compact_tile_keeps_the_name_whole_and_moves_the_role_down():
    view = tile_view(BOARD["tiles"][0], "zh-CN")
    html = tile_html(view, "zh-CN", compact=True)
    assert 'data-owner="1">王强</div>' in html and "总经理 · 1秒前" in html and "wr-compact" in html


DEGRADED = {"node": "node-a", "role": "leader", "leader": "node-a", "epoch": 3,
            "degraded": "HA degraded: lease store unreachable since 2024-11-11T15:31:05+00:00",
            "degraded_cause": "lease_store", "degraded_since": "2024-11-11T15:31:05+00:00"}


def test_ha_degraded_is_worded_in_the_campaigns_language_and_zone_in_the_header_not_the_banner():
    acting = {**GM, "how": "decider", "since": "2024-11-11T15:30:00+00:00", "waiting": True, "banner": True,
              "rank": 1}
    alerts = [{"id": 1, "level": "red", "owner": GM, "opened_at": "2024-11-11T15:30:00+00:00", "state": "open",
               "title": "cpu", "acting": acting}]
    board = {**BOARD, "ha": DEGRADED}
    zh = build_wall(board, alerts, "ok", wall_plan(CONFIG, board, "tech", "zh-CN"), "zh-CN", NOW)
    assert 'data-ha="degraded"' in zh.header and "HA 降级：租约库自 23:31:05 起无法连接" in zh.header
    assert "data-ha" not in zh.decision and 'data-decision="red"' in zh.decision  # the banner stays the decision's
    en = build_wall(board, alerts, "ok", wall_plan(CONFIG, board, "tech", "en"), "en", NOW)
    assert "HA degraded: lease store unreachable since 23:31:05" in en.header
    log = {**DEGRADED, "degraded_cause": "shared_log"}
    assert ha_words(log, "Asia/Shanghai", "en") == "HA degraded: shared alert log unreachable since 23:31:05"
    assert ha_words(log, "Asia/Shanghai", "zh-CN") == "HA 降级：共享告警日志自 23:31:05 起无法连接"


def test_ha_sound_or_absent_adds_nothing_and_a_since_missing_still_says_degraded():
    sound = {**DEGRADED, "degraded": None, "degraded_cause": None, "degraded_since": None}
    assert ha_words(sound, "UTC", "en") == "" and ha_words(None, "UTC", "en") == ""
    assert "data-ha" not in build_wall({**BOARD, "ha": sound}, [], "ok", wall_plan(CONFIG, BOARD, "tech", "en"),
                                       "en", NOW).header
    older = {"degraded": "HA degraded: lease store unreachable since …"}  # a node without degraded_since
    assert ha_words(older, "UTC", "en") == "HA degraded: lease store unreachable since ?"


def test_the_phone_views_header_line_says_ha_degraded():
    html = phone_html([], "ok", "general_manager", "王强", "zh-CN", NOW,
                      ha=ha_words(DEGRADED, "Asia/Shanghai", "zh-CN"))
    head = html.split('class="wr-phone-head">', 1)[1].split("</div>", 1)[0]
    assert 'data-ha="degraded"' in head and "HA 降级：租约库自 23:31:05 起无法连接" in head
