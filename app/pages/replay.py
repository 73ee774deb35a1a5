"""Replay: the wall as it was at any moment of the night (/replay?at=…), with a timeline of who did what.

Layout only: the REPLAY band with its controls on top, then the wall's own layout (app/wall_layout.py,
the same as the live wall's), then the timeline; app/replay_panels.py fills them. Against
`warroom replay --db FILE` this replays an archive; against the live daemon it replays tonight so far.
"""

from __future__ import annotations

import streamlit as st

from app import session
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.labels import text
from app.replay_moment import asked_moment
from app.replay_panels import AT, BAND_CSS, SPEEDS, ReplaySlots, replay_panel, set_moment, timeline_panel, window_of
from app.wall_layout import lay_out_wall
from app.wall_view import wall_plan

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
    st.info(text(loc, "replay.empty"))
    st.stop()
window = window_of(campaign)
if AT not in st.session_state:
    # ?at= as people write it (an ISO time, 23:31, now, -2h); anything else is a plain note, never a traceback.
    asked = asked_moment(st.query_params.get("at"), window.start, window.end, window.zone, loc)
    st.session_state["wr_rp_problem"] = asked.problem
    set_moment(asked.epoch, window)
    st.session_state.setdefault("wr_rp_speed", SPEEDS[2])

st.html(BAND_CSS)
band = st.container(key="wr-replay-band")
plan = wall_plan(session.hub().config(), board, st.query_params.get("wall"), loc)
wall, side = lay_out_wall(plan, tuple(t["metric"] for t in board["tiles"]), session.kiosk())
with side:
    sheet = st.empty()
with band:
    st.fragment(replay_panel, run_every=1.0)(ReplaySlots(wall, sheet), window)
timeline_panel(window, {t["metric"]: t["title"] for t in board["tiles"]}, loc)
