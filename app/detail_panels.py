"""The metric detail page's pieces: the time window, and the chart with bands, alert spans and decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

import pandas as pd
import streamlit as st

from app import session
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.decision_log import decision_rows, own_marks
from app.figures import detail_figure
from app.labels import text
from app.tiles import TileView, parse_ts, tile_view

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


def headline_html(view: TileView, loc: str) -> str:
    """The metric now: value with unit, level by colour and word, and who decides at that level."""
    owner = text(loc, "detail.nobody") if view.owner is None else " · ".join(
        p for p in (view.owner.name, view.owner.role if view.owner.role not in view.owner.name else "",
                    view.owner.phone) if p)
    return (
        f'<div data-headline="{escape(view.metric)}" data-level="{view.level}" style="display:flex;gap:24px;'
        f'align-items:center;flex-wrap:wrap;padding:12px 18px;border-radius:8px;background:{view.background};'
        f'border-left:8px solid {view.accent}">'
        f'<span style="font-size:44px;font-weight:700;line-height:1.1">{escape(view.value_text)}'
        f'<span style="font-size:22px;margin-left:4px">{escape(view.unit)}</span></span>'
        f'<span style="font-size:22px;font-weight:700;padding:4px 12px;border-radius:6px;background:{view.accent};'
        f'color:{view.on_accent}">{escape(view.word)}</span>'
        f'<span style="font-size:22px">{escape(text(loc, "decides"))}: <b>{escape(owner)}</b></span>'
        f'<span style="font-size:15px;opacity:0.8">{escape(view.age_text)}</span></div>'
    )


def _optional(call: Any) -> tuple[list[dict[str, Any]], bool]:
    """A read from an endpoint that may not exist yet: (rows, available)."""
    try:
        return call(), True
    except (EndpointMissing, ApiRefused, DaemonUnreachable):
        return [], False


def detail_chart_panel(tile: dict[str, Any], choice: str) -> None:
    """The chart of one metric over the chosen window, with the decisions of that window below it."""
    loc = session.locale()
    client = session.client()
    try:
        session.remember_board(client.board())
    except (DaemonUnreachable, EndpointMissing, ApiRefused):
        pass  # the last board answer still names the campaign; the chart says what is missing
    board = st.session_state.get("wr_board") or {}
    campaign = board.get("campaign", {})
    zone = campaign.get("timezone") or "UTC"
    tile = next((t for t in board.get("tiles", []) if t["metric"] == tile["metric"]), tile)
    st.html(headline_html(tile_view(tile, loc), loc))
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
    silences, _ = _optional(lambda: client.silences(active=False))
    # Only this metric's own marks: decisions about its alerts and silences of it (not a stand-in, not another
    # metric's silence: those are the night's, in the decision log and on the replay's timeline).
    marks = own_marks(notes, {a.get("id") for a in alerts}, tile["metric"], silences)
    fig = detail_figure(data, tile, start, end, zone, alerts, marks, loc)
    # No modebar: it sits over the alert labels; drag to zoom and double-click to reset still work.
    st.plotly_chart(fig, theme=None, key="wr-detail-chart", config={"displayModeBar": False})
    if not data:
        st.info(text(loc, "detail.no_data"))
    if not have_alerts:
        st.caption(text(loc, "alerts.unavailable"))
    if have_notes and marks:
        st.subheader(text(loc, "detail.decisions"))
        st.dataframe(pd.DataFrame(decision_rows(marks, loc, zone)), hide_index=True, width="stretch")
