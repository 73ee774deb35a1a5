"""The metric detail page's pieces: the time window, and the chart with bands, alert spans and decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from app import session
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.figures import detail_figure
from app.labels import text
from app.tiles import local_time, parse_ts

WINDOWS: dict[str, timedelta | None] = {
    "15m": timedelta(minutes=15), "30m": timedelta(minutes=30), "1h": timedelta(hours=1),
    "2h": timedelta(hours=2), "6h": timedelta(hours=6), "campaign": None,
}
# A 1,600-pixel chart shows no more than this; the API keeps each bucket's min and max (≤ 2×).
DETAIL_POINTS = 800


def window_bounds(choice: str, campaign: dict[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """Start and end of a window choice; 'campaign' runs from the campaign's start (or 2 h back) to now."""
    span = WINDOWS.get(choice)
    if span is not None:
        return now - span, now
    start = parse_ts(campaign.get("start")) or now - timedelta(hours=2)
    return min(start, now - timedelta(minutes=1)), now


def _optional(call: Any) -> tuple[list[dict[str, Any]], bool]:
    """A read from an endpoint that may not exist yet: (rows, available)."""
    try:
        return call(), True
    except (EndpointMissing, ApiRefused, DaemonUnreachable):
        return [], False


def detail_chart_panel(tile: dict[str, Any], choice: str) -> None:
    """The chart of one metric over the chosen window, with the decisions of that window below it."""
    board = st.session_state.get("wr_board") or {}
    campaign = board.get("campaign", {})
    zone = campaign.get("timezone") or "UTC"
    loc = session.locale()
    client = session.client()
    now = datetime.fromtimestamp(session.daemon_now(), UTC)
    start, end = window_bounds(choice, campaign, now)
    try:
        points = client.series([tile["metric"]], start.isoformat(), end.isoformat(), DETAIL_POINTS)
    except DaemonUnreachable as err:
        st.error(text(loc, "write.unreachable", message=err.reason))
        return
    data = points.get(tile["metric"], [])
    alerts, have_alerts = _optional(lambda: client.alerts("all", start.isoformat(), end.isoformat()))
    alerts = [a for a in alerts if a.get("metric") == tile["metric"]]
    notes, have_notes = _optional(lambda: client.annotations(start.isoformat(), end.isoformat()))
    related = {a.get("id") for a in alerts}
    # Decisions about this metric's alerts, plus general ones (no alert) that belong on every timeline.
    marks = [n for n in notes if n.get("alert_id") in related or n.get("alert_id") is None]
    fig = detail_figure(data, tile, start, end, zone, alerts, marks, loc)
    # No modebar: it sits over the alert labels; drag to zoom and double-click to reset still work.
    st.plotly_chart(fig, theme=None, key="wr-detail-chart", config={"displayModeBar": False})
    if not data:
        st.info(text(loc, "detail.no_data"))
    if not have_alerts:
        st.caption(text(loc, "alerts.unavailable"))
    if have_notes and marks:
        st.subheader(text(loc, "detail.decisions"))
        st.dataframe(pd.DataFrame([{"time": local_time(n.get("ts"), zone), "kind": n.get("kind"),
                                    "author": n.get("author"), "role": n.get("role"), "level": n.get("level"),
                                    "alert": n.get("alert_id"), "text": n.get("text")} for n in marks]),
                     hide_index=True, width="stretch")
