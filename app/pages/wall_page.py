"""The wall (default page, kiosk with ?kiosk=1, one wall of `walls:` with ?wall=NAME): placeholders only;
the fragments fill them."""

from __future__ import annotations

import math

import streamlit as st

from app import session
from app.theme import compact, grid_columns, spark_height, tile_height_css
from app.viewers import viewer_pace
from app.wall_panels import TileSlot, WallSlots, live_panel, run_sheet_panel, sparklines_panel, waiting_panel
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
small = compact(len(plan.metrics))
cols = grid_columns(len(plan.metrics))
rows = max(1, math.ceil(len(plan.metrics) / cols))
pace = viewer_pace(kiosk, hub.load, bool(st.session_state.get("wr_degraded")), settings.tiles_every_s,
                   settings.charts_every_s)
st.session_state["wr_degraded"] = pace.degraded
st.html(tile_height_css(rows))
styles, header, decision, strip = st.empty(), st.empty(), st.empty(), st.empty()
# Only secondary viewers can be slowed down, so only they have a place for the note.
note = None if kiosk else st.empty()
if plan.note:
    st.warning(plan.note)
grid, side = st.columns([5, 1.3], gap="small")
slots: list[TileSlot] = []
with grid:
    for r in range(rows):
        for c, column in enumerate(st.columns(cols, gap="small")):
            i = r * cols + c
            if i >= len(plan.metrics):
                break
            with column, st.container(key=f"wr-tile-{i}"):
                slots.append(TileSlot(plan.metrics[i], st.empty(), None if small else st.empty()))
with side:
    health = st.empty() if plan.health else None
    st.fragment(run_sheet_panel, run_every=pace.tiles_every_s)()
wall = WallSlots(styles, header, strip, slots, spark_height(rows), decision=decision, health=health, note=note,
                 plan=plan, board_metrics=tuple(t["metric"] for t in board["tiles"]), compact=small, kiosk=kiosk,
                 degraded=pace.degraded)
st.fragment(live_panel, run_every=pace.tiles_every_s)(wall)
if not small:
    st.fragment(sparklines_panel, run_every=pace.charts_every_s)(wall)
