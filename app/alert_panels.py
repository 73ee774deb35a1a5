"""The alerts and decisions page's pieces: alert cards with event trails, and the write forms.

Lists refresh in fragments; the forms sit outside them so a refresh never eats what someone is typing.
Every write goes through the API as the person signed in on this browser (app/people.py): nobody picks
whom they act as. Signed out, every control is shown disabled with how to sign in; a control the
person has no right to is disabled with who may.
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
from app.decision_log import decision_rows, where
from app.labels import level_word, role_word, text, word
from app.people import Person, signed_in
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
        text(loc, "col.channel"): where(e.get("channel"), loc),
        text(loc, "col.ok"): "" if e.get("ok") is None else ("✓" if e.get("ok") else "✗"),
        text(loc, "col.detail"): e.get("detail") or "",
    } for e in alert.get("events") or []])


def alert_card_html(alert: dict[str, Any], loc: str, now: datetime, tile: dict[str, Any] | None = None) -> str:
    """One alert's headline card (the wall's chip with its id) and its value against the threshold."""
    value = f'<div class="wr-alert-value" data-value="1">{escape(value_text(alert, tile, loc))}</div>'
    return chip_html(alert_line(alert, loc, now), loc, show_id=True).removesuffix("</div>") + value + "</div>"


def _ack(alert_id: Any, person: Person, loc: str) -> None:
    client = session.client()
    # A fragment's button: its callback must display nothing (open_alerts_panel says how it went).
    session.write_in_callback(lambda: client.ack(alert_id, person.actor()), loc)


def ack_row(alert: dict[str, Any], person: Person | None, loc: str, where: Any) -> None:
    """The acknowledge action on the alert's own row, as the person signed in (the daemon checks they may)."""
    if alert.get("state") == "resolved" or alert.get("acked_by"):
        return
    label = text(loc, "people.ack_as", name=person.name) if person else text(loc, "alerts.ack")
    where.button(f"✓ {label}", key=f"wr-ack-{alert['id']}", type="primary", width="stretch",
                 disabled=person is None, help=None if person else text(loc, "people.read_only"),
                 on_click=_ack, args=(alert["id"], person, loc))


def may_not_note(person: Person | None, action: str, loc: str) -> str | None:
    """Why `action` is disabled for this browser (signed out, or not this person's right: who may), else None."""
    if person is None:
        return text(loc, "people.read_only")
    if person.may(action):
        return None
    return text(loc, "people.may_not", action=text(loc, f"people.action.{action}"),
                who=", ".join(person.who_may(action)), name=person.name)


def open_alerts_panel() -> None:
    """Open and acknowledged alerts, worst first: value and threshold, acknowledge on the row, event trail."""
    loc = session.locale()
    st.subheader(text(loc, "alerts.open_title"))
    session.show_outcome()
    alerts = fetch_alerts("active")
    if alerts is None:
        return
    if not alerts:
        st.success(text(loc, "alerts.none_open"))
    now = datetime.fromtimestamp(session.daemon_now(), UTC)
    zone = _zone()
    tiles = {t["metric"]: t for t in (st.session_state.get("wr_board") or {}).get("tiles", [])}
    person = signed_in()
    st.html(f'<span hidden data-alert-actions="{escape(person.role) if person else "none"}"></span>')
    for alert in strip_order(alerts):
        card, action = st.columns([5, 2], vertical_alignment="center")
        card.html(alert_card_html(alert, loc, now, tiles.get(alert.get("metric"))))
        ack_row(alert, person, loc, action)
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
    """Silence one metric (or all) for a while, and lift silences in force: by those the rights allow."""
    client = session.client()
    person = signed_in()
    note = may_not_note(person, "silence", loc)
    if note:
        st.info(note)
    with st.form("wr-silence"):
        names = ["", *metrics]
        metric = st.selectbox(text(loc, "alerts.silence_metric"), names, format_func=lambda m: metrics.get(m, "*"),
                              key="wr-sil-metric")
        duration = st.selectbox(text(loc, "alerts.silence_duration"), DURATIONS, index=1, key="wr-sil-duration")
        reason = st.text_input(text(loc, "alerts.silence_reason"), key="wr-sil-reason")
        if st.form_submit_button(text(loc, "alerts.silence_submit"), disabled=note is not None) and person:
            session.write(lambda: client.silence(metric or None, duration, reason, person.actor()), loc)
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
        if right.button(text(loc, "alerts.unsilence"), key=f"wr-unsil-{s.get('id')}", disabled=note is not None) \
                and person:
            session.write(lambda sid=s.get("id"): client.unsilence(sid, person.actor()), loc)


def decision_form(alerts: list[dict[str, Any]], loc: str) -> None:
    """Write a decision (what, at which level, about which alert) into the decision log, as the person signed in."""
    client = session.client()
    person = signed_in()
    if person is None:
        st.info(text(loc, "people.read_only"))
    with st.form("wr-decision", clear_on_submit=False):
        if person is not None:
            st.caption(text(loc, "people.signed_in", name=person.name))
        level = st.selectbox(text(loc, "alerts.decision_level"), ["", "yellow", "orange", "red"],
                             format_func=lambda lv: level_word(loc, lv) if lv else "—", key="wr-dec-level")
        ids = ["", *[a["id"] for a in alerts]]
        titles = {a["id"]: f"#{a['id']} {a.get('title') or a.get('metric')}" for a in alerts}
        alert_id = st.selectbox(text(loc, "alerts.decision_alert"), ids, format_func=lambda i: titles.get(i, "—"),
                                key="wr-dec-alert")
        kind = st.radio(text(loc, "alerts.decision_kind"), ["decision", "note"], horizontal=True, key="wr-dec-kind",
                        format_func=lambda k: word(loc, "kind", k))
        body = st.text_area(text(loc, "alerts.decision_text"), key="wr-dec-text")
        if st.form_submit_button(text(loc, "alerts.decision_submit"), disabled=person is None) and person:
            session.write(lambda: client.annotate(body, person.actor(), kind, level or None, alert_id or None), loc)


def phone_ack_panel() -> None:
    """On the phone view of a signed-in person: an acknowledge button for each alert they decide now."""
    person = signed_in()
    # Drawn every time, even empty: what this browser may do here, something a test can wait on.
    st.html(f'<span hidden data-phone-actions="{escape(person.role) if person else "none"}"></span>')
    if person is None:
        return
    loc = session.locale()
    snap = session.snapshot()
    for alert in strip_order(snap.alerts or []):
        deciders = {(alert.get(k) or {}).get("role") for k in ("owner", "escalated_to")}
        if alert.get("state") != "open" or alert.get("acked_by") or person.role not in deciders:
            continue
        title = alert.get("title") or alert.get("metric")
        st.button(f"✓ #{alert['id']} {title} · {text(loc, 'people.ack_as', name=person.name)}",
                  key=f"wr-phone-ack-{alert['id']}", type="primary", width="stretch",
                  on_click=_ack, args=(alert["id"], person, loc))
