"""The wall's live panels, run as Streamlit fragments by the wall page.

- live_panel (every ~1 s): header with countdown and KPI, decision banner, alerts strip, tiles, health row;
  from the process-wide snapshot (app/hub.py): however many sessions are open, /board and /alerts
  are fetched once per period and the HTML is built once per snapshot, locale and wall.
- sparklines_panel (every ~10 s): one GET /series for all tiles per period, shared the same way.
- run_sheet_panel (every ~1 s): next steps with countdowns and the "done" buttons (widgets must live
  inside their own fragment, so this panel is not part of live_panel). Marks are made by the person
  signed in on this browser; a kiosk wall shows no buttons at all unless the config trusts it
  (`walls.NAME.actions`), and then records "done at the wall", never a person it cannot know.
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
from app.alert_lines import next_steps, step_line
from app.api_client import Actor, ApiRefused, DaemonUnreachable, EndpointMissing
from app.figures import sparkline
from app.hub import Snapshot, SnapshotHub
from app.labels import text
from app.night_time import clock_of
from app.people import signed_in, trusted_wall
from app.tiles import format_duration, local_time, parse_ts
from app.viewers import viewer_pace
from app.wall_html import banner_html, handover_html, sheet_title_html, step_html
from app.wall_view import Outage, WallPlan, build_wall

SPARK_WINDOW = "-30m"
# 12-second buckets over 30 minutes (the API keeps each bucket's min and max): a fresh night still draws
# a shape, and 12 sparklines stay well under the 200 KB a refresh may ship.
SPARK_POINTS = 150
RUNSHEET_REFETCH_S = 5.0
SHEET_STEPS = 4


@dataclass
class TileSlot:
    """Where one tile's text and sparkline go (no sparkline on compact tiles)."""

    metric: str
    text: DeltaGenerator
    spark: DeltaGenerator | None


@dataclass
class WallSlots:
    """The wall's placeholders, laid out once by the page and refilled by the fragments."""

    styles: DeltaGenerator
    header: DeltaGenerator
    strip: DeltaGenerator
    tiles: list[TileSlot]
    spark_height: int = 78
    decision: DeltaGenerator | None = None
    health: DeltaGenerator | None = None
    note: DeltaGenerator | None = None
    plan: WallPlan | None = None
    board_metrics: tuple[str, ...] = ()
    compact: bool = False
    kiosk: bool = False
    degraded: bool = False


def _zone(board: dict[str, Any] | None) -> str:
    return (board or {}).get("campaign", {}).get("timezone") or "UTC"


def _down_message(loc: str, err: DaemonUnreachable, zone: str, never: bool, api: str,
                  snap: Snapshot | None = None) -> str:
    # On the daemon's clock (the night's in demo mode), like every other time on the wall.
    since = datetime.fromtimestamp(snap.daemon_time(err.since) if snap else err.since, UTC)
    age = format_duration((time.time() - err.since) * (snap.rate if snap else 1.0), loc)
    key = "banner.down_never" if never else "banner.down"
    return text(loc, key, since=local_time(since, zone), age=age, api=api)


def waiting_panel(banner: DeltaGenerator) -> None:
    """Before the first answer: say the daemon is unreachable, and build the wall once it answers."""
    loc = session.locale()
    snap = session.snapshot()
    if snap.board is None:
        settings = session.settings()
        err = snap.error or DaemonUnreachable(settings.api, time.time(), "no answer yet")
        banner.html(banner_html(_down_message(loc, err, settings.zone_hint, True, settings.api), err.reason, loc))
        return
    session.remember_snapshot(snap)
    st.rerun()  # the layout depends on the tiles: a full rerun, once


def wall_parts(hub: SnapshotHub, snap: Snapshot, plan: WallPlan, loc: str, compact: bool) -> Any:
    """The wall's HTML for this snapshot, built by the first session that asks and shipped by all."""
    assert snap.board is not None

    def build() -> Any:
        outage = None
        if snap.error is not None:
            message = _down_message(loc, snap.error, _zone(snap.board), False, hub.client.base, snap)
            outage = Outage(message, snap.error.reason, (snap.down_for or 0.0) * snap.rate)
        now = datetime.fromtimestamp(snap.daemon_now(), UTC)
        return build_wall(snap.board, snap.alerts, snap.alerts_state, plan, loc, now, compact, outage, snap.node)

    return hub.memo(("wall", snap.seq, loc, plan, compact), build)


def live_panel(slots: WallSlots) -> None:
    """Header, decision banner, strip, tiles and health row from the shared snapshot."""
    started = time.perf_counter()
    hub = session.hub()
    snap = session.snapshot()
    if snap.board is None:
        return
    if snap.error is None and tuple(t["metric"] for t in snap.board["tiles"]) != slots.board_metrics:
        st.rerun()  # the daemon restarted with other metrics: lay the wall out again
    settings = session.settings()
    pace = viewer_pace(slots.kiosk, hub.load, slots.degraded, settings.tiles_every_s, settings.charts_every_s)
    if pace.degraded != slots.degraded:
        st.session_state["wr_degraded"] = pace.degraded
        st.rerun(scope="app")  # a new refresh period needs the fragments set up again
    loc = session.locale()
    plan = slots.plan or WallPlan("", "", tuple(s.metric for s in slots.tiles), (), ())
    parts = wall_parts(hub, snap, plan, loc, slots.compact)
    refresh_ms = st.session_state.get("wr_refresh_ms", 0.0)
    slots.header.html(parts.header + f'<span hidden data-refresh-ms="{refresh_ms:.1f}" data-snapshot="{snap.seq}">'
                                     "</span>")
    if slots.decision is not None:
        slots.decision.html(parts.decision)
    slots.styles.html(parts.styles)
    for slot, tile in zip(slots.tiles, parts.tiles, strict=True):
        slot.text.html(tile)
    slots.strip.html(parts.strip)
    if slots.health is not None and parts.health:
        slots.health.html(parts.health)
    if slots.note is not None:
        slots.note.html(_viewer_note(hub, pace.tiles_every_s, loc) if pace.degraded else "<span></span>")
    hub.seen(session.session_id(), slots.kiosk)
    st.session_state["wr_refresh_ms"] = (time.perf_counter() - started) * 1000


def _viewer_note(hub: SnapshotHub, every: float, loc: str) -> str:
    walls, others = hub.viewers()
    note = text(loc, "viewers.slow", every=f"{every:g}", walls=walls, others=others)
    return f'<div class="wr-viewer-note" data-viewer-note="slow">⏳ {escape(note)}</div>'


def shared_series(hub: SnapshotHub, metrics: tuple[str, ...], every_s: float) -> dict[str, list] | None:
    """Thirty minutes of `metrics`, fetched once per chart period for every session; None if unavailable."""
    def fetch() -> dict[str, list] | None:
        try:
            return hub.client.series(list(metrics), SPARK_WINDOW, "now", SPARK_POINTS)
        except (DaemonUnreachable, EndpointMissing, ApiRefused):
            return None
    return hub.memo(("series", int(time.time() // every_s), metrics), fetch)


def sparklines_panel(slots: WallSlots) -> None:
    """Thirty minutes of every tile as a sparkline with its bands, from one shared /series call."""
    spark_slots = [s for s in slots.tiles if s.spark is not None]
    if not spark_slots:
        return
    hub = session.hub()
    snap = session.snapshot()
    board = snap.board
    if board is None:
        return
    metrics = tuple(s.metric for s in spark_slots)
    every = session.settings().charts_every_s
    series = shared_series(hub, metrics, every)
    stale = series is None or snap.error is not None
    if series is None:
        series = st.session_state.get("wr_series", {})
    else:
        st.session_state["wr_series"] = series
    now = datetime.fromtimestamp(snap.daemon_now(), UTC)
    by_metric = {t["metric"]: t for t in board["tiles"]}
    for i, slot in enumerate(spark_slots):
        tile = dict(by_metric.get(slot.metric) or {"metric": slot.metric})
        if stale:
            tile["stale"] = True
        key = ("spark", int(time.time() // every), slot.metric, stale, tile.get("level"), slots.spark_height)
        figure = hub.memo(key, lambda t=tile, m=slot.metric: sparkline(series.get(m, []), t, now, slots.spark_height))
        assert slot.spark is not None
        slot.spark.plotly_chart(figure, theme=None, key=f"wr-spark-{i}",
                                config={"staticPlot": True, "displayModeBar": False})


def run_sheet_panel() -> None:
    """The next run sheet steps with countdowns; "done" records who and when through the API."""
    loc = session.locale()
    client = session.client()
    session.show_outcome()  # of a mark or undo tapped on this panel (its callback must not display it)
    steps = st.session_state.get("wr_steps")
    note = ""
    if steps is None or time.time() - st.session_state.get("wr_steps_time", 0.0) > RUNSHEET_REFETCH_S:
        try:
            answer = client.runsheet_answer()
            steps = answer["steps"]
            st.session_state["wr_steps"], st.session_state["wr_steps_time"] = steps, time.time()
            st.session_state["wr_handovers"] = answer.get("handovers") or []
        except (EndpointMissing, ApiRefused):
            st.html(sheet_title_html(loc, text(loc, "runsheet.unavailable")))
            return
        except DaemonUnreachable:
            steps = steps or []
    if not steps:
        st.html(sheet_title_html(loc, text(loc, "runsheet.none")))
        return
    wall = trusted_wall(session.hub().config(), st.query_params.get("wall"))
    person = signed_in()
    actor = person.actor() if person else Actor(wall=wall) if wall else None
    # A kiosk wall is a shared screen: no controls at all unless the config trusts it; elsewhere they show, disabled.
    show = actor is not None or not session.kiosk()
    if not client.can_write:
        note = text(loc, "people.no_board_token")
        actor = None
    elif actor is None:
        note = text(loc, "people.read_only")
    elif wall is not None and person is None:
        note = text(loc, "people.at_wall")
    st.html(sheet_title_html(loc))
    now = datetime.fromtimestamp(session.daemon_now(), UTC)
    board = st.session_state.get("wr_board")
    zone, demo = _zone(board), bool(clock_of(board).get("demo"))
    for step in next_steps(steps, SHEET_STEPS):
        line = step_line(step, loc, now, zone, demo)
        st.html(step_html(line, loc))
        if not show:
            continue
        if line.done:
            _undo_button(step, line.index, now, loc, actor)
            continue
        if st.session_state.get("wr_confirm") == line.index and actor is not None:
            _confirm_step(line.index, loc, actor)
        else:
            # A kiosk tap is easy to make by mistake: the first one only asks to confirm.
            st.button(f"✓ {text(loc, 'runsheet.mark_done')}", key=f"wr-done-{line.index}",
                      disabled=actor is None, help=note or None, width="stretch",
                      on_click=st.session_state.update, kwargs={"wr_confirm": line.index})
    for handover in st.session_state.get("wr_handovers") or []:
        st.html(handover_html(handover, loc, zone))
    if note and (show or wall):
        st.html(f'<div class="wr-note">{escape(note)}</div>')
    # Drawn last: what this browser may do here (fragments draw in parallel; a test waits on this, not on time).
    st.html(f'<span hidden data-sheet-actions="{"on" if actor is not None else "off" if show else "none"}"></span>')


def _confirm_step(index: int, loc: str, actor: Actor) -> None:
    """Confirm or cancel: the mark is recorded as whoever is signed in here (or as done at the wall)."""
    yes, no = st.columns(2)
    # Callbacks run before the fragment draws again, so the row changes on the same tap.
    yes.button(f"✓ {text(loc, 'runsheet.confirm')}", key=f"wr-confirm-{index}", type="primary", width="stretch",
               on_click=_step_write, args=("done", index, actor, loc))
    no.button(text(loc, "runsheet.cancel"), key=f"wr-cancel-{index}", width="stretch",
              on_click=st.session_state.pop, args=("wr_confirm", None))


def _step_write(action: str, index: int, actor: Actor, loc: str) -> None:
    """Mark done or undo through the API as `actor`; the sheet is re-read after."""
    client = session.client()
    st.session_state.pop("wr_confirm", None)
    call = client.step_done if action == "done" else client.step_undo
    if session.write_in_callback(lambda: call(index, actor), loc):
        st.session_state.pop("wr_steps", None)


def _undo_button(step: dict[str, Any], index: int, now: datetime, loc: str, actor: Actor | None) -> None:
    """Undo, offered while the daemon still allows it (a minute after the mark)."""
    until = parse_ts(step.get("undo_until"))
    left = (until - now).total_seconds() if until else 0.0
    if left <= 0:
        return
    st.button(f"↶ {text(loc, 'runsheet.undo', t=format_duration(left, loc))}", key=f"wr-undo-{index}",
              disabled=actor is None, width="stretch", on_click=_step_write, args=("undo", index, actor, loc))
