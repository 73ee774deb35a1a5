"""The wall's layout, laid out once per page run: the live wall and the replay page both call it.

Same placeholders, keys, columns and CSS sizes on both pages, so a replayed moment is drawn in the very
boxes the wall drew it in; the fragments then fill them (live from the shared snapshot, replay from
GET /frame?at=).
"""

from __future__ import annotations

import math

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app.theme import compact, grid_columns, spark_height, tile_height_css
from app.wall_panels import TileSlot, WallSlots
from app.wall_view import WallPlan


def lay_out_wall(plan: WallPlan, board_metrics: tuple[str, ...], kiosk: bool,
                 degraded: bool = False) -> tuple[WallSlots, DeltaGenerator]:
    """Header, decision banner, strip, tile grid and health row as placeholders; returns them and the side column.

    The side column holds the health row; the caller puts the run sheet under it.
    """
    small = compact(len(plan.metrics))
    cols = grid_columns(len(plan.metrics))
    rows = max(1, math.ceil(len(plan.metrics) / cols))
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
    wall = WallSlots(styles, header, strip, slots, spark_height(rows), decision=decision, health=health, note=note,
                     plan=plan, board_metrics=board_metrics, compact=small, kiosk=kiosk, degraded=degraded)
    return wall, side
