"""The phone view (`/phone?role=ops_lead`): the decision banner and that person's alerts, no sparklines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import session
from app.alert_panels import phone_ack_panel
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.hub import SnapshotHub
from app.phone_view import phone_html, role_links_html
from app.viewers import viewer_pace
from app.wall_view import ha_words


def holders(hub: SnapshotHub, seq: int) -> dict[str, dict[str, Any]]:
    """Who holds each role now (a stand-in, a shift), fetched once per snapshot for every phone; else the config."""
    def fetch() -> dict[str, dict[str, Any]] | None:
        try:
            return hub.client.get("/api/v1/duty").get("roles") or {}
        except (DaemonUnreachable, ApiRefused, EndpointMissing):
            return None  # an archive or an older daemon: the people as configured
    people = {r: dict(p) for r, p in ((hub.config() or {}).get("people") or {}).items()}
    for role, held in (hub.memo(("duty", seq), fetch) or {}).items():
        people[role] = {**people.get(role, {}), "name": held.get("name"), "phone": held.get("phone")}
    return people


def phone_panel(slot: DeltaGenerator, role: str | None) -> None:
    """Refill the phone view from the shared snapshot (the same one every wall ships)."""
    hub = session.hub()
    snap = session.snapshot()
    loc = session.locale()
    now = datetime.fromtimestamp(snap.daemon_now(), UTC)
    alerts_state = "unknown" if snap.error is not None else snap.alerts_state
    who = (holders(hub, snap.seq).get(role or "") or {}).get("name") or role or ""
    tiles = {t["metric"]: t for t in (snap.board or {}).get("tiles", [])}
    zone = ((snap.board or {}).get("campaign") or {}).get("timezone") or "UTC"
    ha = ha_words((snap.board or {}).get("ha"), zone, loc)
    html = hub.memo(("phone", snap.seq, loc, role),
                    lambda: phone_html(snap.alerts, alerts_state, role, who, loc, now, tiles, ha))
    slot.html(html)
    hub.seen(session.session_id(), False)


def role_links_panel(role: str | None) -> None:
    """Links to each person's view, named by who holds the role now (a stand-in's name, not the config's)."""
    snap = session.snapshot()
    st.html(role_links_html(holders(session.hub(), snap.seq), role, session.locale()))


session.page_style(phone=True)
settings = session.settings()
hub = session.hub()
loc = session.locale()
role = st.query_params.get("role") or None
pace = viewer_pace(False, hub.load, bool(st.session_state.get("wr_degraded")), settings.tiles_every_s,
                   settings.charts_every_s)
st.session_state["wr_degraded"] = pace.degraded
# Phones are secondary viewers: 2 s at least, slower when the board is busy.
st.fragment(phone_panel, run_every=max(2.0, pace.tiles_every_s))(st.empty(), role)
# Signed in with their link, the person acknowledges their own alerts here; nobody else sees a button.
st.fragment(phone_ack_panel, run_every=max(2.0, pace.tiles_every_s))()
st.fragment(role_links_panel, run_every=max(2.0, pace.tiles_every_s))(role)
