"""Metric detail: one metric's chart with level bands, alert spans and decisions, over a chosen window."""

from __future__ import annotations

import streamlit as st

from app import session
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.detail_panels import WINDOWS, detail_chart_panel
from app.labels import text

session.page_style()
loc = session.locale()
st.title(text(loc, "page.detail"))
try:
    board = session.client().board()
    session.remember_board(board)
except DaemonUnreachable as err:
    st.error(text(loc, "write.unreachable", message=err.reason))
    st.stop()
tiles = {t["metric"]: t for t in board["tiles"]}
wanted = st.query_params.get("metric")
names = list(tiles)
left, right = st.columns([2, 3])
metric = left.selectbox(text(loc, "detail.metric"), names, index=names.index(wanted) if wanted in tiles else 0,
                        format_func=lambda m: tiles[m]["title"], key="wr-detail-metric")
# The campaign so far by default: a compressed demo night fills a quarter of a 30-minute chart otherwise.
choice = right.radio(text(loc, "detail.window"), list(WINDOWS), index=list(WINDOWS).index("campaign"),
                     horizontal=True, key="wr-detail-window",
                     format_func=lambda w: text(loc, "detail.campaign") if w == "campaign" else w)
st.query_params["metric"] = metric
st.fragment(detail_chart_panel, run_every=session.settings().charts_every_s)(tiles[metric], choice)
try:
    meta = session.client().config().get("metrics", {}).get(metric, {})
except (EndpointMissing, ApiRefused, DaemonUnreachable):
    meta = {}
if meta.get("description"):
    st.markdown(f"**{text(loc, 'detail.description')}**: {meta['description']}")
if meta.get("runbook"):
    st.markdown(f"**{text(loc, 'detail.runbook')}**: {meta['runbook']}")
