"""The wall's HTML panels: escaping, data attributes the browser test reads, the strip's states."""

from __future__ import annotations

from datetime import UTC, datetime

from app.alert_lines import alert_line
from app.tiles import kpi_view, tile_view
from app.wall_html import banner_html, handover_html, header_html, strip_html, styles_html, tile_html, tile_style

OWNER = {"role": "ops_lead", "name": "李娜 <ops>", "phone": "+86 138 0000 0002"}


def test_tile_html_escapes_and_carries_metric_level_and_owner():
    view = tile_view({"metric": "db_connections", "title": "DB <conn>", "unit": "%", "decimals": 1, "value": 92.5,
                      "age_s": 0.4, "level": "orange", "owner": OWNER}, "zh-CN")
    html = tile_html(view, "zh-CN")
    assert 'data-metric="db_connections"' in html and 'data-level="orange"' in html
    assert "DB &lt;conn&gt;" in html and "李娜 &lt;ops&gt;" in html and "<conn>" not in html
    assert "92.5" in html and "橙色预警" in html and "决策人" in html
    assert tile_style(view, 3) == ".st-key-wr-tile-3{background:#44250a;border-color:#ff8c1a}"
    assert styles_html(["a{}", "b{}"]) == "<style>a{}b{}</style>"


def test_header_has_countdown_and_kpi_bar():
    kpi = kpi_view({"title": "订单 / KPI", "value": 7950.0, "target": 8000.0, "progress": 0.99375,
                    "projected": 8127.0, "pace_per_min": 12.0}, "zh-CN")
    html = header_html("春季 <demo>", "T-00:30:59", "距结束 23:59:59", "23:29:00", kpi, "zh-CN")
    assert "春季 &lt;demo&gt;" in html and "T-00:30:59" in html and "width:99.4%" in html and "8,127" in html
    assert "data-demo" not in html
    marked = header_html("n", "T-00:28:59", "距结束 23:59:59", "23:31:00  Asia/Shanghai", None, "zh-CN", mark="演示")
    assert 'data-demo="1"' in marked and "演示</span>" in marked


def test_strip_states():
    now = datetime(2024, 11, 11, 15, 35, tzinfo=UTC)
    line = alert_line({"id": 4, "title": "CPU", "level": "red", "opened_at": "2024-11-11T15:34:00+00:00",
                       "owner": OWNER, "delivery_failed": True}, "zh-CN", now)
    html = strip_html([line], "zh-CN")
    assert 'data-alerts="1"' in html and "通知发送失败" in html and "wr-chip-fail" in html
    many = strip_html([line] * 9, "en")
    assert many.count('data-alert="4"') == 5 and "+4 more" in many
    assert 'data-alerts="none"' in strip_html([], "en")
    assert 'data-alerts="unavailable"' in strip_html([], "en", unavailable=True)
    banner = banner_html("Daemon unreachable", "connection refused", "en")
    assert 'data-banner="down"' in strip_html([], "en", banner=banner) and "connection refused" in banner


def test_a_shift_handover_is_said_under_the_run_sheet():
    handover = {"at": "2024-11-11T18:00:00+00:00", "role": "tech_lead", "from": "张伟", "to": "李娜"}
    html = handover_html(handover, "zh-CN", "Asia/Shanghai")
    assert "02:00 李娜 接替 张伟 任技术负责人" in html and 'data-handover="tech_lead"' in html
    assert "02:00 李娜 takes over as Tech lead from 张伟" in handover_html(handover, "en", "Asia/Shanghai")
