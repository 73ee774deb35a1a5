"""Plotly figures: level bands, value range, sparkline size, detail chart marks (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go
import pytest

from app.figures import GL_POINTS, bands, detail_figure, sparkline, value_range

T = {"yellow": 80.0, "orange": 90.0, "red": 95.0}
B = {"yellow": 95.0, "orange": 90.0, "red": 80.0}
NOW = datetime(2024, 11, 11, 15, 35, tzinfo=UTC)


def points(n: int, start: float = 50.0, step: float = 0.1) -> list[list]:
    return [[(NOW - timedelta(seconds=(n - i) * 2)).isoformat().replace("+00:00", "Z"), start + i * step]
            for i in range(n)]


def test_bands_above_run_from_each_threshold_to_the_next():
    assert bands(T, "above", 0, 100) == [("yellow", 80, 90), ("orange", 90, 95), ("red", 95, 100)]
    assert bands(T, "above", 85, 92) == [("yellow", 85, 90), ("orange", 90, 92)]
    assert bands(T, "above", 0, 70) == []


def test_bands_below_run_downwards():
    assert bands(B, "below", 60, 100) == [("yellow", 90, 95), ("orange", 80, 90), ("red", 60, 80)]


def test_bands_skip_missing_levels():
    assert bands({"yellow": None, "orange": 8.0, "red": 15.0}, "above", 0, 20) == [("orange", 8, 15), ("red", 15, 20)]
    assert bands({}, "above", 0, 1) == []


def test_value_range_keeps_the_first_warning_line_in_view():
    lo, hi = value_range([30.0, 40.0], T, "above")
    assert lo < 30 and 80 < hi < 95
    lo, hi = value_range([30.0, 40.0], T, "above", all_thresholds=True)
    assert hi > 95
    assert value_range([], {}, "above") == (0.0, 1.0)
    lo, hi = value_range([5.0], {}, "above")
    assert lo < 5 < hi


def test_sparkline_is_small_and_has_bands():
    tile = {"metric": "server_cpu", "decimals": 1, "thresholds": T, "direction": "above", "level": "yellow"}
    fig = sparkline(points(120, 75.0, 0.12), tile, NOW)
    spec = fig.to_json()
    # The empty template: Plotly's default would add ~6 KB to every sparkline of every refresh.
    assert len(spec) < 6000, len(spec)
    layout = json.loads(spec)["layout"]
    assert layout["template"] == {} or "layout" not in layout["template"]
    rects = [s for s in layout["shapes"] if s["type"] == "rect"]
    assert {s["fillcolor"] for s in rects} == {"#f5c518", "#ff8c1a"}  # 75..89.3 padded past 90
    assert isinstance(fig.data[0], go.Scatter)
    xs = fig.data[0].x
    assert -4.1 < xs[0] < -3.9 and xs[-1] < 0


def test_long_series_are_drawn_with_webgl():
    tile = {"metric": "m", "decimals": 1, "thresholds": T}
    assert isinstance(sparkline(points(GL_POINTS + 1), tile, NOW).data[0], go.Scattergl)


def test_stale_sparkline_is_grey():
    tile = {"metric": "m", "decimals": 1, "thresholds": T, "stale": True, "level": "stale"}
    assert sparkline(points(10), tile, NOW).data[0].line.color == "#8b95a3"


def test_detail_figure_marks_bands_alert_spans_and_decisions():
    meta = {"metric": "order_success", "title": "Order success", "unit": "%", "decimals": 1, "direction": "below",
            "thresholds": B}
    start, end = NOW - timedelta(minutes=30), NOW
    alerts = [{"id": 3, "opened_at": (NOW - timedelta(minutes=10)).isoformat(), "resolved_at": None,
               "peak_level": "red", "level": "red"},
              {"id": 1, "opened_at": (NOW - timedelta(hours=2)).isoformat(),
               "resolved_at": (NOW - timedelta(hours=1)).isoformat(), "peak_level": "yellow"}]
    decisions = [{"ts": (NOW - timedelta(minutes=5)).isoformat(), "author": "李娜", "role": "ops_lead",
                  "kind": "decision", "text": "切换备用服务器", "alert_id": 3},
                 {"ts": (NOW - timedelta(hours=3)).isoformat(), "kind": "note", "text": "outside"}]
    fig = detail_figure(points(600, 98.0, -0.05), meta, start, end, "Asia/Shanghai", alerts, decisions, "zh-CN")
    shapes = fig.layout.shapes
    spans = [s for s in shapes if s.type == "rect" and s.xref == "x"]
    assert len(spans) == 1 and spans[0].x0.startswith("2024-11-11 23:25") and spans[0].fillcolor == "#ff3b3b"
    assert [a.text for a in fig.layout.annotations] == ["#3 红色预警"]
    marks = [t for t in fig.data if t.name == "decisions"]
    assert len(marks) == 1 and list(marks[0].x) == ["2024-11-11 23:30:00.000"]
    assert "切换备用服务器" in marks[0].text[0]
    assert fig.layout.xaxis.range == ("2024-11-11 23:05:00.000", "2024-11-11 23:35:00.000")
    band_colours = {s.fillcolor for s in shapes if s.type == "rect" and s.xref == "paper"}
    assert band_colours == {"#f5c518", "#ff8c1a", "#ff3b3b"}


@pytest.mark.parametrize("n", [0, 1])
def test_detail_figure_with_little_or_no_data(n):
    meta = {"metric": "m", "decimals": 0, "thresholds": T}
    fig = detail_figure(points(n), meta, NOW - timedelta(minutes=15), NOW, "UTC")
    assert len(fig.data[0].x) == n


def test_an_alert_label_near_the_right_edge_is_anchored_inside_the_chart():
    meta = {"metric": "m", "title": "M", "decimals": 0, "thresholds": T}
    start, end = NOW - timedelta(minutes=30), NOW
    alerts = [{"id": 1, "opened_at": (NOW - timedelta(minutes=29)).isoformat(), "peak_level": "red"},
              {"id": 9, "opened_at": (NOW - timedelta(minutes=1)).isoformat(), "peak_level": "red"}]
    fig = detail_figure(points(60), meta, start, end, "UTC", alerts, [], "en")
    assert [(a.text, a.xanchor) for a in fig.layout.annotations] == [("#1 RED", "left"), ("#9 RED", "right")]
