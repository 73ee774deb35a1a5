"""Plotly figures: the tile sparkline and the metric detail chart, both with the level bands.

Figures carry the empty template and rounded numbers: a tile refresh ships every sparkline to
the browser, and Plotly's default template alone is ~6 KB per figure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go

from app.labels import level_word
from app.tiles import ACCENT, parse_ts

# Above this many points a line is drawn with WebGL (Scattergl): SVG slows down past a few thousand.
GL_POINTS = 1000
BAND_OPACITY = 0.22


def bands(thresholds: dict[str, float | None], direction: str, lo: float, hi: float) -> list[tuple[str, float, float]]:
    """(level, y0, y1) for each level's band clipped to [lo, hi]; worse levels lie further along `direction`."""
    given = [(lvl, thresholds.get(lvl)) for lvl in ("yellow", "orange", "red") if thresholds.get(lvl) is not None]
    out: list[tuple[str, float, float]] = []
    for i, (lvl, start) in enumerate(given):
        nxt = given[i + 1][1] if i + 1 < len(given) else None
        if direction == "below":
            y0, y1 = (nxt if nxt is not None else lo), start
        else:
            y0, y1 = start, (nxt if nxt is not None else hi)
        y0, y1 = max(y0, lo), min(y1, hi)
        if y1 > y0:
            out.append((lvl, y0, y1))
    return out


def value_range(values: list[float], thresholds: dict[str, float | None], direction: str,
                all_thresholds: bool = False) -> tuple[float, float]:
    """The y range: the data plus the first warning line (all lines with `all_thresholds`), padded 8 %."""
    lines = [thresholds.get(lvl) for lvl in ("yellow", "orange", "red") if thresholds.get(lvl) is not None]
    # The first warning line is always in view so the wall shows how far a number is from trouble.
    wanted = list(values) + (lines if all_thresholds else lines[:1])
    if not wanted:
        return 0.0, 1.0
    lo, hi = min(wanted), max(wanted)
    pad = (hi - lo) * 0.08 or max(abs(hi) * 0.05, 1.0)
    return lo - pad, hi + pad


def _band_shapes(thresholds: dict[str, float | None], direction: str, lo: float, hi: float) -> list[dict[str, Any]]:
    shapes: list[dict[str, Any]] = []
    for lvl, y0, y1 in bands(thresholds, direction, lo, hi):
        shapes.append({"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y0, "y1": y1,
                       "fillcolor": ACCENT[lvl], "opacity": BAND_OPACITY, "line": {"width": 0}, "layer": "below"})
    # A solid line where each level starts: faint fills alone are hard to tell apart on a dark wall.
    for lvl in ("yellow", "orange", "red"):
        y = thresholds.get(lvl)
        if y is not None and lo < y < hi:
            shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
                           "line": {"color": ACCENT[lvl], "width": 1.5}, "layer": "below"})
    return shapes


def _rounding(decimals: int) -> int:
    # One digit beyond what the tile prints keeps the line's shape without shipping float noise.
    return max(0, min(6, decimals + 1))


def sparkline(points: list[list[Any]], tile: dict[str, Any], now: datetime, height: int = 78) -> go.Figure:
    """The last minutes of one metric as a small line over its bands; x is minutes before `now`."""
    xs: list[float] = []
    ys: list[float] = []
    digits = _rounding(int(tile.get("decimals", 1)))
    for ts, value in points:
        moment = parse_ts(ts)
        if moment is None or value is None:
            continue
        xs.append(round((moment - now).total_seconds() / 60.0, 3))
        ys.append(round(float(value), digits))
    thresholds = tile.get("thresholds") or {}
    direction = tile.get("direction", "above")
    lo, hi = value_range(ys, thresholds, direction)
    level = tile.get("level") if tile.get("level") in ACCENT and not tile.get("stale") else "stale"
    # A neutral line: the sparkline refreshes less often than the tile, so a level colour here could lag it.
    line_colour = "#8b95a3" if level == "stale" else "#e8edf2"
    # A single sample draws no line: show it as a dot until there are a few.
    mode = "lines" if len(xs) > 2 else "lines+markers"
    trace = {"type": "scattergl" if len(xs) > GL_POINTS else "scatter", "x": xs, "y": ys, "mode": mode,
             "line": {"color": line_colour, "width": 2}, "marker": {"color": line_colour, "size": 6},
             "hoverinfo": "skip", "showlegend": False}
    layout = {
        "template": {}, "height": height, "margin": {"l": 0, "r": 0, "t": 2, "b": 2},
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "showlegend": False,
        "xaxis": {"visible": False, "range": [min(xs), max(0.0, max(xs))] if xs else [-30, 0], "fixedrange": True},
        "yaxis": {"visible": False, "range": [lo, hi], "fixedrange": True},
        "shapes": _band_shapes(thresholds, direction, lo, hi),
    }
    # Built from a spec without Plotly's property validation: the spec is this function's own, and validating it
    # was 9 in 10 parts of a sparkline's cost (a replay frame draws a wall's worth every second).
    return go.Figure({"data": [trace], "layout": layout}, _validate=False)


def _local(ts: str | datetime | None, zone: ZoneInfo) -> str | None:
    """An API time as a naive local time string, so Plotly's axis reads in the campaign's timezone."""
    moment = parse_ts(ts) if isinstance(ts, str) or ts is None else ts
    if moment is None:
        return None
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def detail_figure(points: list[list[Any]], meta: dict[str, Any], start: datetime, end: datetime, zone: str,
                  alerts: list[dict[str, Any]] | None = None, decisions: list[dict[str, Any]] | None = None,
                  locale: str = "en", height: int = 460) -> go.Figure:
    """One metric over a window: the line, its level bands, alert spans and decision marks."""
    tz = ZoneInfo(zone)
    digits = _rounding(int(meta.get("decimals", 1)))
    xs = [_local(ts, tz) for ts, v in points if v is not None]
    ys = [round(float(v), digits) for _, v in points if v is not None]
    thresholds = {lvl: meta.get("thresholds", meta).get(lvl) for lvl in ("yellow", "orange", "red")}
    direction = meta.get("direction", "above")
    lo, hi = value_range(ys, thresholds, direction, all_thresholds=True)
    trace_cls = go.Scattergl if len(xs) > GL_POINTS else go.Scatter
    unit = meta.get("unit") or ""
    fig = go.Figure(trace_cls(x=xs, y=ys, mode="lines", name=meta.get("title", ""),
                              line={"color": "#e8edf2", "width": 1.6},
                              hovertemplate=f"%{{x}}<br>%{{y}} {unit}<extra></extra>"))
    shapes = _band_shapes(thresholds, direction, lo, hi)
    annotations: list[dict[str, Any]] = []
    x_start, x_end = _local(start, tz), _local(end, tz)
    # Labels closer than this would print over each other (alerts flap in a spike); the span still shows.
    label_gap = (end - start) * 0.04
    last_label: datetime | None = None
    for alert in sorted(alerts or [], key=lambda a: a.get("opened_at") or ""):
        opened = parse_ts(alert.get("opened_at"))
        if opened is None or opened > end:
            continue
        closed = parse_ts(alert.get("resolved_at")) or end
        if closed < start:
            continue
        lvl = alert.get("peak_level") or alert.get("level") or "yellow"
        colour = ACCENT.get(lvl, ACCENT["stale"])
        x0, x1 = _local(max(opened, start), tz), _local(min(closed, end), tz)
        shapes.append({"type": "rect", "xref": "x", "x0": x0, "x1": x1, "yref": "paper", "y0": 0, "y1": 1,
                       "fillcolor": colour, "opacity": 0.12, "line": {"color": colour, "width": 1}, "layer": "below"})
        if last_label is None or opened - last_label >= label_gap:
            last_label = opened
            # A label opened near the right edge would run past the plot and be cut: anchor it on its right.
            late = (max(opened, start) - start) > (end - start) * 0.85
            annotations.append({"x": x0, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom",
                                "xanchor": "right" if late else "left",
                                "text": f"#{alert.get('id')} {level_word(locale, lvl)}",
                                "showarrow": False, "font": {"color": colour, "size": 12}})
    marks_x, marks_text = [], []
    for note in decisions or []:
        moment = parse_ts(note.get("ts"))
        if moment is None or not (start <= moment <= end):
            continue
        x = _local(moment, tz)
        shapes.append({"type": "line", "xref": "x", "x0": x, "x1": x, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": "#7cc4ff", "width": 1.5, "dash": "dot"}})
        marks_x.append(x)
        who = " · ".join(p for p in (note.get("author"), note.get("role")) if p)
        marks_text.append(f"{note.get('kind', 'decision')}: {note.get('text', '')}<br>{who}")
    if marks_x:
        fig.add_trace(go.Scatter(x=marks_x, y=[hi] * len(marks_x), mode="markers", name="decisions",
                                 marker={"symbol": "diamond", "size": 12, "color": "#7cc4ff"},
                                 hovertemplate="%{text}<extra></extra>", text=marks_text))
    fig.update_layout(
        template="none", height=height, margin={"l": 56, "r": 16, "t": 28, "b": 40},
        paper_bgcolor="#0e1117", plot_bgcolor="#0e1117", font={"color": "#d5dbe3"}, showlegend=False,
        xaxis={"range": [x_start, x_end], "type": "date", "gridcolor": "#222a35"},
        yaxis={"range": [lo, hi], "gridcolor": "#222a35", "ticksuffix": f" {unit}" if unit else ""},
        shapes=shapes, annotations=annotations, hovermode="x unified" if not marks_x else "closest",
    )
    return fig
