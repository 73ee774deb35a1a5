"""The wall (default page, kiosk with ?kiosk=1): lays out the placeholders; the fragments fill them."""

from __future__ import annotations

import math

import streamlit as st

from app import session
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.theme import grid_columns, spark_height, tile_height_css
from app.wall_panels import TileSlot, WallSlots, live_panel, run_sheet_panel, sparklines_panel, waiting_panel

settings = session.settings()
session.page_style(wall=True)
board = st.session_state.get("wr_board")
try:
    board = session.client().board()
    session.remember_board(board)
except (DaemonUnreachable, ApiRefused, EndpointMissing):
    pass  # the last good board (if any) is drawn grey by live_panel, with the banner

if board is None:
    # Nothing to lay out yet: a banner that says why, refreshed until the daemon answers.
    st.fragment(waiting_panel, run_every=2.0)(st.empty())
    st.stop()

metrics = [t["metric"] for t in board["tiles"]]
cols = grid_columns(len(metrics))
rows = max(1, math.ceil(len(metrics) / cols))
st.html(tile_height_css(rows))
styles, header, strip = st.empty(), st.empty(), st.empty()
grid, side = st.columns([5, 1.3], gap="small")
slots: list[TileSlot] = []
with grid:
    for r in range(rows):
        for c, column in enumerate(st.columns(cols, gap="small")):
            i = r * cols + c
            if i >= len(metrics):
                break
            with column, st.container(key=f"wr-tile-{i}"):
                slots.append(TileSlot(metrics[i], st.empty(), st.empty()))
wall = WallSlots(styles, header, strip, slots, spark_height(rows))
with side:
    st.fragment(run_sheet_panel, run_every=settings.tiles_every_s)()
st.fragment(live_panel, run_every=settings.tiles_every_s)(wall)
st.fragment(sparklines_panel, run_every=settings.charts_every_s)(wall)
