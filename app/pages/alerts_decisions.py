"""Alerts and decisions: open alerts with their trails; acknowledge, silence and record decisions via the API."""

from __future__ import annotations

import streamlit as st

from app import session
from app.alert_panels import decision_form, fetch_alerts, open_alerts_panel, recent_panel, silence_form
from app.api_client import DaemonUnreachable
from app.labels import text

session.page_style()
loc = session.locale()
st.title(text(loc, "page.alerts"))
try:
    session.remember_board(session.client().board())
except DaemonUnreachable as err:
    st.error(text(loc, "write.unreachable", message=err.reason))
    st.stop()
note = session.token_note(loc)
if note:
    st.warning(note)  # a board without the board token: nobody can act here, signed in or not
metrics = {t["metric"]: t["title"] for t in st.session_state["wr_board"]["tiles"]}
st.fragment(open_alerts_panel, run_every=5.0)()
alerts = fetch_alerts("active") or []
# Acknowledging sits on each alert's row above; these are the night's other writes.
decision_tab, silence_tab = st.tabs([text(loc, "alerts.decision_title"), text(loc, "alerts.silence_title")])
with silence_tab:
    silence_form(metrics, loc)
with decision_tab:
    decision_form(alerts, loc)
st.fragment(recent_panel, run_every=10.0)()
