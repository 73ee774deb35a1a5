"""The wall's live panels, run as Streamlit fragments by the wall page.

- live_panel (every ~1 s): header with countdown and KPI, the unreachable banner, tile texts, alerts strip;
  one GET /board and one GET /alerts per refresh, a few KB of HTML to the browser.
- sparklines_panel (every ~10 s): one GET /series for all tiles, one small Plotly figure per tile.
- run_sheet_panel (every ~1 s): next steps with countdowns and the "done" buttons (widgets must live
  inside their own fragment, so this panel is not part of live_panel).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import session
from app.alert_lines import alert_line, next_steps, step_line, strip_order
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.figures import sparkline
from app.labels import role_word, text
from app.night_time import header_times, night_time
from app.tiles import (
    format_duration,
    kpi_view,
    local_time,
    parse_ts,
    seconds_remaining,
    tile_view,
)
from app.wall_html import (
    banner_html,
    header_html,
    sheet_title_html,
    step_html,
    strip_html,
    styles_html,
    tile_html,
    tile_style,
)

SPARK_WINDOW = "-30m"
# 12-second buckets over 30 minutes (the API keeps each bucket's min and max): a fresh night still draws
# a shape, and 12 sparklines stay well under the 200 KB a refresh may ship.
SPARK_POINTS = 150
RUNSHEET_REFETCH_S = 5.0
SHEET_STEPS = 4


@dataclass
class TileSlot:
    """Where one tile's text and sparkline go."""

    metric: str
    text: DeltaGenerator
    spark: DeltaGenerator


@dataclass
class WallSlots:
    """The wall's placeholders, laid out once by the page and refilled by the fragments."""

    styles: DeltaGenerator
    header: DeltaGenerator
    strip: DeltaGenerator
    tiles: list[TileSlot]
    spark_height: int = 78


def _zone(board: dict[str, Any] | None) -> str:
    return (board or {}).get("campaign", {}).get("timezone") or "UTC"


def _down_message(loc: str, err: DaemonUnreachable, zone: str, never: bool, api: str) -> str:
    since = datetime.fromtimestamp(err.since, UTC)
    age = format_duration(time.time() - err.since, loc)
    key = "banner.down_never" if never else "banner.down"
    return text(loc, key, since=local_time(since, zone), age=age, api=api)


def waiting_panel(banner: DeltaGenerator) -> None:
    """Before the first answer: say the daemon is unreachable, and build the wall once it answers."""
    loc = session.locale()
    try:
        board = session.client().board()
    except DaemonUnreachable as err:
        settings = session.settings()
        banner.html(banner_html(_down_message(loc, err, settings.zone_hint, True, settings.api), err.reason, loc))
        return
    session.remember_board(board)
    st.rerun()  # the layout depends on the tiles: a full rerun, once


def live_panel(slots: WallSlots) -> None:
    """Header, banner, tiles and alerts strip from one board answer."""
    started = time.perf_counter()
    client = session.client()
    err: DaemonUnreachable | None = None
    try:
        board = client.board()
        session.remember_board(board)
    except DaemonUnreachable as exc:
        err, board = exc, st.session_state.get("wr_board")
    except (ApiRefused, EndpointMissing) as exc:
        # A daemon that answers /board with an error is as good as gone for the wall.
        err = DaemonUnreachable(client.base, client.down_since or time.time(), str(exc))
        board = st.session_state.get("wr_board")
    loc = session.locale()
    if board is None:
        return
    if err is None and [t["metric"] for t in board["tiles"]] != [s.metric for s in slots.tiles]:
        st.rerun()  # the daemon restarted with other metrics: lay the wall out again
    zone = _zone(board)
    # While the daemon is away every number is as old as the last answer plus the outage.
    down_for = time.time() - st.session_state.get("wr_board_time", time.time()) if err else None
    campaign = board["campaign"]
    countdown, note, clock, mark = header_times(board, datetime.fromtimestamp(session.daemon_now(), UTC),
                                                seconds_remaining(campaign, down_for), zone, loc)
    refresh_ms = st.session_state.get("wr_refresh_ms", 0.0)
    slots.header.html(header_html(campaign.get("name", ""), countdown, note, clock,
                                  kpi_view(campaign.get("kpi"), loc), loc, mark=mark)
                      + f'<span hidden data-refresh-ms="{refresh_ms:.1f}"></span>')
    by_metric = {t["metric"]: t for t in board["tiles"]}
    views = [tile_view(by_metric.get(s.metric) or {"metric": s.metric, "stale": True, "level": "stale"}, loc,
                       down_for) for s in slots.tiles]
    slots.styles.html(styles_html([tile_style(v, i) for i, v in enumerate(views)]))
    for slot, view in zip(slots.tiles, views, strict=True):
        slot.text.html(tile_html(view, loc))
    if err is not None:
        # The banner takes the alerts strip's place: alert state is unknown while the daemon is away.
        banner = banner_html(_down_message(loc, err, zone, False, client.base), err.reason, loc)
        slots.strip.html(strip_html([], loc, banner=banner))
    else:
        slots.strip.html(_strip(loc))
    st.session_state["wr_refresh_ms"] = (time.perf_counter() - started) * 1000


def _strip(loc: str) -> str:
    try:
        alerts = session.client().alerts("active")
    except (EndpointMissing, ApiRefused):
        return strip_html([], loc, unavailable=True)
    except DaemonUnreachable as err:
        return strip_html([], loc, banner=banner_html(text(loc, "alerts.unknown"), err.reason, loc))
    now = datetime.fromtimestamp(session.daemon_now(), UTC)
    return strip_html([alert_line(a, loc, now) for a in strip_order(alerts)], loc)


def sparklines_panel(slots: WallSlots) -> None:
    """Thirty minutes of every tile as a sparkline with its bands, from one /series call."""
    board = st.session_state.get("wr_board")
    if board is None:
        return
    stale = False
    try:
        series = session.client().series([s.metric for s in slots.tiles], SPARK_WINDOW, "now", SPARK_POINTS)
        st.session_state["wr_series"] = series
    except (DaemonUnreachable, EndpointMissing, ApiRefused):
        series, stale = st.session_state.get("wr_series", {}), True
    now = datetime.fromtimestamp(session.daemon_now(), UTC)
    by_metric = {t["metric"]: t for t in board["tiles"]}
    for i, slot in enumerate(slots.tiles):
        tile = dict(by_metric.get(slot.metric) or {"metric": slot.metric})
        if stale:
            tile["stale"] = True
        slot.spark.plotly_chart(sparkline(series.get(slot.metric, []), tile, now, slots.spark_height), theme=None,
                                key=f"wr-spark-{i}", config={"staticPlot": True, "displayModeBar": False})


def run_sheet_panel() -> None:
    """The next run sheet steps with countdowns; "done" records who and when through the API."""
    loc = session.locale()
    client = session.client()
    steps = st.session_state.get("wr_steps")
    note = ""
    if steps is None or time.time() - st.session_state.get("wr_steps_time", 0.0) > RUNSHEET_REFETCH_S:
        try:
            steps = client.runsheet()
            st.session_state["wr_steps"], st.session_state["wr_steps_time"] = steps, time.time()
        except (EndpointMissing, ApiRefused):
            st.html(sheet_title_html(loc, text(loc, "runsheet.unavailable")))
            return
        except DaemonUnreachable:
            steps = steps or []
    if not steps:
        st.html(sheet_title_html(loc, text(loc, "runsheet.none")))
        return
    if not client.can_write:
        note = text(loc, "token.missing")
    st.html(sheet_title_html(loc))
    now = datetime.fromtimestamp(session.daemon_now(), UTC)
    board = st.session_state.get("wr_board")
    zone, night = _zone(board), night_time(board)
    for step in next_steps(steps, SHEET_STEPS):
        line = step_line(step, loc, now, zone, night)
        st.html(step_html(line, loc))
        if line.done:
            _undo_button(step, line.index, now, loc)
            continue
        if st.session_state.get("wr_confirm") == line.index:
            _confirm_step(line.index, line.owner_role, loc)
        else:
            # A kiosk tap is easy to make by mistake: the first one only asks who confirms.
            st.button(f"✓ {text(loc, 'runsheet.mark_done')}", key=f"wr-done-{line.index}",
                      disabled=not client.can_write, help=note or None, width="stretch",
                      on_click=st.session_state.update, kwargs={"wr_confirm": line.index})
    if note:
        st.html(f'<div class="wr-note">{escape(note)}</div>')


def _roles() -> list[str]:
    """The config's roles (fetched once per session), for "confirmed by"."""
    if "wr_roles" not in st.session_state:
        try:
            st.session_state["wr_roles"] = list(session.client().config().get("people", {}))
        except (DaemonUnreachable, EndpointMissing, ApiRefused):
            return []
    return st.session_state["wr_roles"]


def _confirm_step(index: int, owner_role: str, loc: str) -> None:
    """Who confirms the step (the owner by default), then confirm or cancel."""
    roles = _roles() or [owner_role]
    st.selectbox(text(loc, "runsheet.confirm_by"), roles, key=f"wr-confirm-by-{index}",
                 index=roles.index(owner_role) if owner_role in roles else 0, format_func=lambda r: role_word(loc, r))
    yes, no = st.columns(2)
    # Callbacks run before the fragment draws again, so the row changes on the same tap.
    yes.button(f"✓ {text(loc, 'runsheet.confirm')}", key=f"wr-confirm-{index}", type="primary", width="stretch",
               on_click=_step_write, args=("done", index, f"wr-confirm-by-{index}", loc))
    no.button(text(loc, "runsheet.cancel"), key=f"wr-cancel-{index}", width="stretch",
              on_click=st.session_state.pop, args=("wr_confirm", None))


def _step_write(action: str, index: int, role_key: str, loc: str) -> None:
    """Mark done or undo through the API as the role held under `role_key`; the sheet is re-read after."""
    client = session.client()
    role = st.session_state.get(role_key) or ""
    st.session_state.pop("wr_confirm", None)
    call = client.step_done if action == "done" else client.step_undo
    if session.write(lambda: call(index, role), loc):
        st.session_state.pop("wr_steps", None)


def _undo_button(step: dict[str, Any], index: int, now: datetime, loc: str) -> None:
    """Undo, offered while the daemon still allows it (a minute after the mark)."""
    until = parse_ts(step.get("undo_until"))
    left = (until - now).total_seconds() if until else 0.0
    if left <= 0:
        return
    st.session_state[f"wr-undo-by-{index}"] = step.get("done_by") or ""
    st.button(f"↶ {text(loc, 'runsheet.undo', t=format_duration(left, loc))}", key=f"wr-undo-{index}",
              disabled=not session.client().can_write, width="stretch",
              on_click=_step_write, args=("undo", index, f"wr-undo-by-{index}", loc))
