"""Replay: the wall as it was at any moment of the night (/replay?at=…), with a timeline of who did what.

Layout only; app/replay_panels.py fills it. Against `warroom replay --db FILE` this replays an
archive; against the live daemon it replays tonight so far.
"""

from __future__ import annotations

import math

import streamlit as st

from app import session
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.labels import text
from app.replay_panels import AT, SPEEDS, ReplaySlots, replay_panel, set_moment, timeline_panel, window_of, word
from app.theme import grid_columns, tile_height_css
from app.tiles import parse_ts

session.page_style(wall=True)
loc = session.locale()
client = session.client()
try:
    campaign = client.get("/api/v1/campaign")
    board = client.board()
    session.remember_board(board)
except (DaemonUnreachable, ApiRefused, EndpointMissing) as err:
    st.error(text(loc, "write.unreachable", message=str(err)))
    st.stop()
if not campaign.get("first_sample"):
    st.info(word(loc, "empty"))
    st.stop()
window = window_of(campaign)
if AT not in st.session_state:
    asked = parse_ts(st.query_params.get("at"))
    set_moment(asked.timestamp() if asked else window.start, window)
    st.session_state.setdefault("wr_rp_speed", SPEEDS[2])

banner, styles = st.empty(), st.empty()
panel = st.container()
header, strip = st.empty(), st.empty()
tiles = board["tiles"]
cols = grid_columns(len(tiles))
rows = max(1, math.ceil(len(tiles) / cols))
# The replay page has the banner and the controls above the header: the tiles get the rest.
st.html(tile_height_css(rows, reserved_px=380))
grid, side = st.columns([5, 1.3], gap="small")
slots = []
with grid:
    for r in range(rows):
        for c, column in enumerate(st.columns(cols, gap="small")):
            i = r * cols + c
            if i >= len(tiles):
                break
            with column, st.container(key=f"wr-tile-{i}"):
                slots.append(st.empty())
with side:
    sheet = st.empty()
with panel:
    st.fragment(replay_panel, run_every=1.0)(ReplaySlots(banner, styles, header, strip, slots, sheet), window)
timeline_panel(window, {t["metric"]: t["title"] for t in tiles}, loc)
