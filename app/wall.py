"""Entry script of the Streamlit board (`warroom board`): page config and navigation only.

The board reads the daemon's HTTP API and never opens the database; see app/api_client.py.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import people, session
from app.labels import text

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="warroom", page_icon="🚨", layout="wide", initial_sidebar_state="collapsed")
loc = session.locale()
pages = [
    st.Page(HERE / "pages" / "wall_page.py", title=text(loc, "page.wall"), url_path="wall", default=True),
    st.Page(HERE / "pages" / "metric_detail.py", title=text(loc, "page.detail"), url_path="detail"),
    st.Page(HERE / "pages" / "alerts_decisions.py", title=text(loc, "page.alerts"), url_path="alerts"),
    st.Page(HERE / "pages" / "phone.py", title=text(loc, "page.phone"), url_path="phone"),
    st.Page(HERE / "pages" / "replay.py", title=text(loc, "page.replay"), url_path="replay"),
]
page = st.navigation(pages, position="hidden" if session.kiosk() else "sidebar")
people.person_bar(loc)  # who is signed in on this browser, on every page but the kiosk wall
page.run()
