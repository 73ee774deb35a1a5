"""The alerts and decisions page's pieces: alert cards with event trails, and the write forms.

Lists refresh in fragments; the forms sit outside them so a refresh never eats what someone is typing.
Every write goes through the API with the board's token (WARROOM_TOKEN); without one the forms
are shown disabled with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

import pandas as pd
import streamlit as st

from app import session
from app.alert_lines import alert_line, strip_order, value_text
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.decision_log import decision_rows
from app.labels import level_word, role_word, text, word
from app.tiles import local_time
from app.wall_html import chip_html

RECENT_WINDOW = "-6h"
DURATIONS = ("15m", "30m", "1h", "2h")
SEED_ROLES = ("tech_lead", "ops_lead", "general_manager")


def _zone() -> str:
    return (st.session_state.get("wr_board") or {}).get("campaign", {}).get("timezone") or "UTC"


def fetch_alerts(state: str, start: str | None = None) -> list[dict[str, Any]] | None:
    """Alerts in `state`, or None (with the reason shown) when the API cannot give them."""
    loc = session.locale()
    try:
        return session.client().alerts(state, start)
    except (EndpointMissing, ApiRefused):
        st.info(text(loc, "alerts.unavailable"))
    except DaemonUnreachable as err:
        st.error(text(loc, "write.unreachable", message=err.reason))
    return None


def roles() -> list[str]:
    """Roles from the daemon's people list, else the seed's three decision roles."""
    try:
        people = session.client().config().get("people", {})
    except (EndpointMissing, ApiRefused, DaemonUnreachable):
        people = {}
    return list(people) or list(SEED_ROLES)


def trail_frame(alert: dict[str, Any], zone: str, loc: str) -> pd.DataFrame:
    """An alert's event trail (opened, notified, acked, escalated, resolved...) as a table in the page's language."""
    return pd.DataFrame([{
        text(loc, "col.time"): local_time(e.get("ts"), zone),
        text(loc, "col.event"): word(loc, "event", e.get("event")),
        text(loc, "col.level"): level_word(loc, e["level"]) if e.get("level") else "",
        text(loc, "col.role"): role_word(loc, e.get("role")), text(loc, "col.person"): e.get("person") or "",
        text(loc, "col.channel"): e.get("channel") or "",
        text(loc, "col.ok"): "" if e.get("ok") is None else ("✓" if e.get("ok") else "✗"),
        text(loc, "col.detail"): e.get("detail") or "",
    } for e in alert.get("events") or []])


def alert_card_html(alert: dict[str, Any], loc: str, now: datetime, tile: dict[str, Any] | None = None) -> str:
    """One alert's headline card (the wall's chip with its id) and its value against the threshold."""
    value = f'<div class="wr-alert-value" data-value="1">{escape(value_text(alert, tile, loc))}</div>'
    return chip_html(alert_line(alert, loc, now), loc, show_id=True).removesuffix("</div>") + value + "</div>"


def _ack(alert_id: Any, loc: str) -> None:
    client = session.client()
    by = st.session_state.get(f"wr-ack-by-{alert_id}") or ""
    session.write(lambda: client.ack(alert_id, by, ""), loc)


def ack_row(alert: dict[str, Any], role_list: list[str], loc: str, where: Any) -> None:
    """The acknowledge action on the alert's own row: as whom (the decider now first), then the button."""
    if alert.get("state") == "resolved" or alert.get("acked_by"):
        return
    client = session.client()
    owner = (alert.get("escalated_to") or alert.get("owner") or {}).get("role")
    who, button = where.columns([3, 2])
    who.selectbox(text(loc, "alerts.ack_as"), role_list, key=f"wr-ack-by-{alert['id']}",
                  index=role_list.index(owner) if owner in role_list else 0,
                  format_func=lambda r: role_word(loc, r), label_visibility="collapsed")
    button.button(f"✓ {text(loc, 'alerts.ack')}", key=f"wr-ack-{alert['id']}", type="primary", width="stretch",
                  disabled=not client.can_write, on_click=_ack, args=(alert["id"], loc))


def open_alerts_panel() -> None:
    """Open and acknowledged alerts, worst first: value and threshold, acknowledge on the row, event trail."""
    loc = session.locale()
    st.subheader(text(loc, "alerts.open_title"))
    alerts = fetch_alerts("active")
    if alerts is None:
        return
    if not alerts:
        st.success(text(loc, "alerts.none_open"))
    now = datetime.fromtimestamp(session.daemon_now(), UTC)
    zone = _zone()
    tiles = {t["metric"]: t for t in (st.session_state.get("wr_board") or {}).get("tiles", [])}
    role_list = roles()
    for alert in strip_order(alerts):
        card, action = st.columns([5, 2], vertical_alignment="center")
        card.html(alert_card_html(alert, loc, now, tiles.get(alert.get("metric"))))
        ack_row(alert, role_list, loc, action)
        with st.expander(text(loc, "alerts.trail") + f" #{alert.get('id')}"):
            st.dataframe(trail_frame(alert, zone, loc), hide_index=True, width="stretch")


def recent_panel() -> None:
    """Every alert of the last hours (resolved too) and the decision log."""
    loc = session.locale()
    zone = _zone()
    st.subheader(text(loc, "alerts.recent_title", window=RECENT_WINDOW.lstrip("-")))
    alerts = fetch_alerts("all", RECENT_WINDOW)
    if alerts:
        st.dataframe(pd.DataFrame([{
            text(loc, "col.id"): a.get("id"), text(loc, "col.metric"): a.get("title") or a.get("metric"),
            text(loc, "col.peak"): level_word(loc, a.get("peak_level") or a.get("level") or "yellow"),
            text(loc, "col.state"): word(loc, "state", a.get("state")),
            text(loc, "col.opened"): local_time(a.get("opened_at"), zone),
            text(loc, "col.resolved"): local_time(a.get("resolved_at"), zone),
            text(loc, "col.acked_by"): role_word(loc, a.get("acked_by")),
            text(loc, "col.escalated_to"): (a.get("escalated_to") or {}).get("name", ""),
            text(loc, "col.delivery_failed"): "⚠" if a.get("delivery_failed") else "",
        } for a in alerts]), hide_index=True, width="stretch")
    st.subheader(text(loc, "alerts.decision_log"))
    try:
        notes = session.client().annotations(RECENT_WINDOW, "now")
    except (EndpointMissing, ApiRefused, DaemonUnreachable):
        st.caption(text(loc, "write.missing", path="/api/v1/annotations"))
        return
    if notes:
        st.dataframe(pd.DataFrame(decision_rows(notes, loc, zone)), hide_index=True, width="stretch")


def silence_form(metrics: dict[str, str], loc: str) -> None:
    """Silence one metric (or all) for a while, and lift silences in force."""
    client = session.client()
    with st.form("wr-silence"):
        names = ["", *metrics]
        metric = st.selectbox(text(loc, "alerts.silence_metric"), names, format_func=lambda m: metrics.get(m, "*"),
                              key="wr-sil-metric")
        duration = st.selectbox(text(loc, "alerts.silence_duration"), DURATIONS, index=1, key="wr-sil-duration")
        author = st.text_input(text(loc, "alerts.author"), key="wr-sil-author")
        reason = st.text_input(text(loc, "alerts.silence_reason"), key="wr-sil-reason")
        if st.form_submit_button(text(loc, "alerts.silence_submit"), disabled=not client.can_write):
            session.write(lambda: client.silence(metric or None, duration, author, reason), loc)
    try:
        silences = client.silences(active=True)
    except (EndpointMissing, ApiRefused, DaemonUnreachable):
        return
    if silences:
        st.caption(text(loc, "alerts.silences_active"))
    for s in silences:
        left, right = st.columns([5, 1])
        left.write(f"{metrics.get(s.get('metric') or '', '*')} · {s.get('author', '')} · {s.get('reason', '')} · "
                   f"→ {local_time(s.get('ends_at') or s.get('until'), _zone())}")
        if right.button(text(loc, "alerts.unsilence"), key=f"wr-unsil-{s.get('id')}", disabled=not client.can_write):
            session.write(lambda sid=s.get("id"): client.unsilence(sid), loc)


def decision_form(alerts: list[dict[str, Any]], role_list: list[str], loc: str) -> None:
    """Write a decision (who, what, at which level, about which alert) into the decision log."""
    client = session.client()
    with st.form("wr-decision", clear_on_submit=False):
        author = st.text_input(text(loc, "alerts.decision_author"), key="wr-dec-author")
        role = st.selectbox(text(loc, "alerts.decision_role"), role_list, format_func=lambda r: role_word(loc, r),
                            key="wr-dec-role")
        level = st.selectbox(text(loc, "alerts.decision_level"), ["", "yellow", "orange", "red"],
                             format_func=lambda lv: level_word(loc, lv) if lv else "—", key="wr-dec-level")
        ids = ["", *[a["id"] for a in alerts]]
        titles = {a["id"]: f"#{a['id']} {a.get('title') or a.get('metric')}" for a in alerts}
        alert_id = st.selectbox(text(loc, "alerts.decision_alert"), ids, format_func=lambda i: titles.get(i, "—"),
                                key="wr-dec-alert")
        kind = st.radio(text(loc, "alerts.decision_kind"), ["decision", "note"], horizontal=True, key="wr-dec-kind",
                        format_func=lambda k: word(loc, "kind", k))
        body = st.text_area(text(loc, "alerts.decision_text"), key="wr-dec-text")
        if st.form_submit_button(text(loc, "alerts.decision_submit"), disabled=not client.can_write):
            session.write(lambda: client.annotate(author, role, body, kind, level or None, alert_id or None), loc)
