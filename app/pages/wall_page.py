"""The wall (default page, kiosk with ?kiosk=1, one wall of `walls:` with ?wall=NAME): placeholders only;
the fragments fill them."""

from __future__ import annotations

import streamlit as st

from app import session
from app.viewers import viewer_pace
from app.wall_layout import lay_out_wall
from app.wall_panels import live_panel, run_sheet_panel, sparklines_panel, waiting_panel
from app.wall_view import wall_plan

settings = session.settings()
kiosk = session.kiosk()
session.page_style(wall=True)
hub = session.hub()
snap = session.snapshot()
board = snap.board

if board is None:
    # Nothing to lay out yet: a banner that says why, refreshed until the daemon answers.
    st.fragment(waiting_panel, run_every=2.0)(st.empty())
    st.stop()

loc = session.locale()
plan = wall_plan(hub.config(), board, st.query_params.get("wall"), loc)
pace = viewer_pace(kiosk, hub.load, bool(st.session_state.get("wr_degraded")), settings.tiles_every_s,
                   settings.charts_every_s)
st.session_state["wr_degraded"] = pace.degraded
# The same layout as the replay page's (app/wall_layout.py): a replayed moment fills the same boxes.
wall, side = lay_out_wall(plan, tuple(t["metric"] for t in board["tiles"]), kiosk, pace.degraded)
with side:
    st.fragment(run_sheet_panel, run_every=pace.tiles_every_s)()
st.fragment(live_panel, run_every=pace.tiles_every_s)(wall)
if not wall.compact:
    st.fragment(sparklines_panel, run_every=pace.charts_every_s)(wall)
