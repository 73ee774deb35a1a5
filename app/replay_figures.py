"""Pure: the replay timeline, one row per metric with its level bands and markers for what people did.

Built from one /api/v1/timeline answer (fetched once per window): bands as thick horizontal segments
in level colours, alert events / decisions / run-sheet steps as markers whose hover says who, what,
when. Clicking a marker selects it; the page jumps the replay there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go

from app.tiles import ACCENT, parse_ts

# Marker per kind of event: symbol and colour (alerts in the colour of their level).
MARKERS = {"opened": "triangle-up", "raised": "triangle-up", "lowered": "triangle-down", "resolved": "circle",
           "notify": "square-open", "delivered": "square", "undelivered": "x", "delivery_failed": "x",
           "acked": "star", "escalated": "diamond-tall", "escalation_exhausted": "x-thin",
           "decision": "diamond", "runsheet": "hexagram", "silence": "hourglass", "note": "diamond-open"}
PEOPLE_ROW = "—"
ROW_HEIGHT = 26


def _local(ts: str | None, zone: ZoneInfo) -> str | None:
    moment = parse_ts(ts)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else None


def timeline_figure(answer: dict[str, Any], titles: dict[str, str], zone: str, at: datetime | None = None,
                    people_row: str = "decisions") -> go.Figure:
    """The whole window: level bands per metric, event markers (customdata = ISO time to jump to)."""
    tz = ZoneInfo(zone)
    rows = [titles.get(m, m) for m in answer.get("bands", {})] + [people_row]
    fig = go.Figure()
    for metric, spans in answer.get("bands", {}).items():
        for level in ("green", "yellow", "orange", "red", "stale"):
            xs: list[str | None] = []
            ys: list[str | None] = []
            for span in spans:
                if span["level"] != level:
                    continue
                xs += [_local(span["from"], tz), _local(span["to"], tz), None]
                ys += [titles.get(metric, metric)] * 2 + [None]
            if xs:
                fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": ACCENT[level], "width": 14},
                                         hoverinfo="skip", showlegend=False))
    by_kind: dict[tuple[str, str], dict[str, list[Any]]] = {}
    for event in answer.get("events", []):
        if event.get("source") == "level":
            continue  # already drawn as bands
        kind = event.get("kind") or ""
        row = titles.get(event.get("metric") or "", event.get("metric")) if event.get("metric") else people_row
        colour = ACCENT.get(event.get("level") or "", "#7cc4ff") if event.get("source") == "alert" else "#7cc4ff"
        group = by_kind.setdefault((kind, colour), {"x": [], "y": [], "text": [], "at": []})
        when = _local(event["ts"], tz)
        who = event.get("who") or event.get("role") or ""
        ident = f"#{event['alert_id']} " if event.get("alert_id") else ""
        group["x"].append(when)
        group["y"].append(row)
        group["text"].append(f"{when}<br><b>{ident}{kind}</b> · {who}<br>{event.get('what') or ''}")
        group["at"].append(event["ts"])
    for (kind, colour), group in by_kind.items():
        fig.add_trace(go.Scatter(x=group["x"], y=group["y"], mode="markers", name=kind, customdata=group["at"],
                                 text=group["text"], hovertemplate="%{text}<extra></extra>",
                                 marker={"symbol": MARKERS.get(kind, "circle"), "size": 11, "color": colour,
                                         "line": {"color": "#0e1117", "width": 1}}))
    shapes = []
    if at is not None:
        x = at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        shapes.append({"type": "line", "xref": "x", "x0": x, "x1": x, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": "#c792ea", "width": 2}})
    fig.update_layout(
        template="none", height=ROW_HEIGHT * len(rows) + 70, margin={"l": 170, "r": 12, "t": 10, "b": 30},
        paper_bgcolor="#0e1117", plot_bgcolor="#0e1117", font={"color": "#d5dbe3", "size": 12}, showlegend=False,
        xaxis={"type": "date", "gridcolor": "#222a35"},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": list(reversed(rows)),
               "gridcolor": "#222a35"},
        shapes=shapes, hovermode="closest", dragmode=False, clickmode="event+select",
    )
    return fig
