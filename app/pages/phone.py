"""The phone view (`/phone?role=ops_lead`): the decision banner and that person's alerts, no sparklines."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import session
from app.alert_panels import phone_ack_panel
from app.phone_view import phone_html, role_links_html
from app.viewers import viewer_pace


def phone_panel(slot: DeltaGenerator, role: str | None, who: str) -> None:
    """Refill the phone view from the shared snapshot (the same one every wall ships)."""
    hub = session.hub()
    snap = session.snapshot()
    loc = session.locale()
    now = datetime.fromtimestamp(snap.daemon_now(), UTC)
    alerts_state = "unknown" if snap.error is not None else snap.alerts_state
    html = hub.memo(("phone", snap.seq, loc, role), lambda: phone_html(snap.alerts, alerts_state, role, who, loc, now))
    slot.html(html)
    hub.seen(session.session_id(), False)


session.page_style(phone=True)
settings = session.settings()
hub = session.hub()
loc = session.locale()
people = (hub.config() or {}).get("people", {})
role = st.query_params.get("role") or None
who = (people.get(role) or {}).get("name") or role or ""
pace = viewer_pace(False, hub.load, bool(st.session_state.get("wr_degraded")), settings.tiles_every_s,
                   settings.charts_every_s)
st.session_state["wr_degraded"] = pace.degraded
# Phones are secondary viewers: 2 s at least, slower when the board is busy.
st.fragment(phone_panel, run_every=max(2.0, pace.tiles_every_s))(st.empty(), role, who)
# Signed in with their link, the person acknowledges their own alerts here; nobody else sees a button.
st.fragment(phone_ack_panel, run_every=max(2.0, pace.tiles_every_s))()
st.html(role_links_html(people, role, loc))
