"""The replay page's panels: the REPLAY band with its controls, the wall as it was, and the timeline.

The wall at T is drawn by the wall's own builder (app.wall_view.build_wall) into the wall's own layout
(app.wall_layout.lay_out_wall) from one GET /frame?at=T: the decision banner, strip, tiles, health row
and run sheet come from the recorded past exactly as the live wall drew them from the present, and
the sparklines are the thirty minutes before T. Only the REPLAY band and the timeline are this page's own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import session
from app.alert_lines import next_steps, step_line
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.figures import sparkline
from app.labels import text
from app.replay_figures import timeline_figure
from app.tiles import parse_ts
from app.wall_html import handover_html, sheet_title_html, step_html
from app.wall_panels import SHEET_STEPS, SPARK_POINTS, WallSlots
from app.wall_view import WallPlan, build_wall

SPEEDS = (1, 10, 60, 600)
STEPS = (-60, -10, -1, 1, 10, 60)
AT = "wr_rp_at"
SLIDER = "wr-rp-slider"
SPARK_SPAN = timedelta(minutes=30)
# The band above the wall has a fixed height, so the wall under it sits exactly as on the live page.
BAND_CSS = """<style>
.st-key-wr-replay-band{flex:none !important;height:104px;overflow:hidden;gap:4px !important}
.wr-replay-banner{background:#5b2a86;color:#fff;font-size:22px;font-weight:700;padding:2px 14px;border-radius:6px;
letter-spacing:.5px;display:flex;gap:18px;align-items:center;white-space:nowrap;overflow:hidden;height:36px;
box-sizing:border-box}
.wr-replay-banner small{font-size:15px;font-weight:400;opacity:.85;overflow:hidden;text-overflow:ellipsis}
.wr-replay-problem{color:#f5c518;font-size:15px;font-weight:600;overflow:hidden;text-overflow:ellipsis}
[data-testid="stMainBlockContainer"]{outline:4px solid #5b2a86;outline-offset:-4px}
</style>"""


@dataclass
class ReplaySlots:
    """Where a frame goes: the wall's own placeholders, and the run sheet under the health row."""

    wall: WallSlots
    sheet: DeltaGenerator


@dataclass(frozen=True)
class Window:
    """The replayable span and its timezone."""

    start: float
    end: float
    zone: str
    name: str


def window_of(campaign: dict[str, Any]) -> Window:
    """First to last recorded sample (an archive), or campaign start to now (a live daemon)."""
    start = parse_ts(campaign.get("first_sample") or campaign.get("start") or campaign.get("now"))
    end = parse_ts(campaign.get("last_sample") if not campaign.get("live") else campaign.get("now"))
    end = end or parse_ts(campaign.get("now"))
    assert start is not None and end is not None
    return Window(start.timestamp(), max(end.timestamp(), start.timestamp() + 1), campaign.get("timezone") or "UTC",
                  campaign.get("name") or "")


def _dt(epoch: float) -> datetime:
    """A whole second, for the slider and the window's ends."""
    return datetime.fromtimestamp(round(epoch), UTC)


def _moment(epoch: float) -> datetime:
    """The replayed moment as asked: a link to the board's own `at` replays that very answer, to the microsecond."""
    return datetime.fromtimestamp(epoch, UTC)


def set_moment(epoch: float, window: Window) -> None:
    """Move the replayed moment (clamped to the window) and the slider with it."""
    st.session_state[AT] = min(max(epoch, window.start), window.end)
    shown = _dt(st.session_state[AT]).astimezone(ZoneInfo(window.zone)).replace(tzinfo=None)
    st.session_state[SLIDER] = shown
    st.session_state["wr_rp_drawn"] = [*st.session_state.get("wr_rp_drawn", [])[-9:], shown]


def _step(seconds: int, window: Window) -> None:
    st.session_state["wr_rp_play"] = False
    st.session_state["wr_rp_paused_by"] = "step"
    set_moment(st.session_state[AT] + seconds, window)


def _slider_moved(window: Window) -> bool:
    """Did a person move the slider since it was last drawn? Then that is the moment, and play stops."""
    value = st.session_state.get(SLIDER)
    if value is None or value in st.session_state.get("wr_rp_drawn", []) or st.session_state.get("wr_rp_play"):
        # While playing the slider is disabled (it shows progress), and a value drawn in the last frames is
        # the browser sending back what it was shown a moment ago: neither is a person moving it.
        return False
    st.session_state["wr_rp_play"] = False
    st.session_state["wr_rp_paused_by"] = "slider"
    set_moment(value.replace(tzinfo=ZoneInfo(window.zone)).timestamp(), window)
    return True


def _toggle() -> None:
    st.session_state["wr_rp_play"] = not st.session_state.get("wr_rp_play", False)
    st.session_state["wr_rp_paused_by"] = "button"
    if not st.session_state["wr_rp_play"]:
        # Paused: from now on any other value on the slider is a person scrubbing, even one play went past.
        st.session_state["wr_rp_drawn"] = [st.session_state.get(SLIDER)]
    st.session_state["wr_rp_tick"] = time.time()


def advance(window: Window) -> None:
    """While playing, move the moment on by real time × speed; stop at the end of the window."""
    now = time.time()
    if not _slider_moved(window) and st.session_state.get("wr_rp_play"):
        speed = st.session_state.get("wr_rp_speed") or SPEEDS[2]
        moved = st.session_state[AT] + (now - st.session_state.get("wr_rp_tick", now)) * speed
        if moved >= window.end:
            moved, st.session_state["wr_rp_play"] = window.end, False
            st.session_state["wr_rp_paused_by"] = "end"
        set_moment(moved, window)
    st.session_state["wr_rp_tick"] = now


def controls(window: Window, loc: str) -> None:
    """One row: step buttons, play / pause, speed, and the slider over the window."""
    cols = st.columns([0.7, 0.7, 0.6, 1.0, 0.6, 0.7, 0.7, 2.4, 7.0], gap="small", vertical_alignment="center")
    for col, seconds in zip([*cols[:3], *cols[4:7]], STEPS, strict=True):
        col.button(f"{seconds:+d}s", key=f"wr-rp-step{seconds}", on_click=_step, args=(seconds, window),
                   width="stretch")
    playing = st.session_state.get("wr_rp_play", False)
    cols[3].button("❚❚" if playing else "▶", key="wr-rp-play", on_click=_toggle, type="primary", width="stretch")
    cols[7].segmented_control(text(loc, "replay.speed"), SPEEDS, key="wr_rp_speed", format_func=lambda s: f"{s}x",
                              label_visibility="collapsed")
    tz = ZoneInfo(window.zone)
    cols[8].slider(text(loc, "replay.moment"), min_value=_dt(window.start).astimezone(tz).replace(tzinfo=None),
                   max_value=_dt(window.end).astimezone(tz).replace(tzinfo=None), step=timedelta(seconds=1),
                   format="HH:mm:ss", key=SLIDER, label_visibility="collapsed", disabled=playing)
    if st.session_state[SLIDER] not in st.session_state.get("wr_rp_drawn", []):
        st.session_state["wr_rp_drawn"] = [*st.session_state.get("wr_rp_drawn", [])[-9:], st.session_state[SLIDER]]


def _cached(key: str, at_iso: str, fetch: Any) -> Any:
    """One API answer per moment, reused while the moment does not move (and kept while the API is away)."""
    cached = st.session_state.get(key)
    if cached and cached[0] == at_iso:
        return cached[1]
    try:
        answer = fetch()
    except (DaemonUnreachable, ApiRefused, EndpointMissing):
        return cached[1] if cached else None
    st.session_state[key] = (at_iso, answer)
    return answer


def frame(at_iso: str) -> dict[str, Any] | None:
    """The frame at a moment: board, active alerts and run sheet as they were, in one API call."""
    return _cached("wr_rp_frame", at_iso, lambda: session.client().get("/api/v1/frame", {"at": at_iso}))


def series_then(at: datetime, metrics: tuple[str, ...]) -> dict[str, list] | None:
    """The thirty minutes before `at` of every sparkline: the tiles' lines as the wall drew them then."""
    if not metrics:
        return {}
    return _cached("wr_rp_series", at.isoformat() + repr(metrics), lambda: session.client().series(
        list(metrics), (at - SPARK_SPAN).isoformat(), at.isoformat(), SPARK_POINTS))


def banner_html(answer: dict[str, Any], moment: datetime, window: Window, loc: str, frame_ms: float) -> str:
    """The REPLAY band's line: the replayed moment in the campaign's zone, playing or paused, the speed."""
    playing = st.session_state.get("wr_rp_play", False)
    speed = st.session_state.get("wr_rp_speed") or SPEEDS[2]
    when = moment.astimezone(ZoneInfo(window.zone)).strftime("%Y-%m-%d %H:%M:%S")
    state = f"{'▶ ' + text(loc, 'replay.playing') if playing else '❚❚ ' + text(loc, 'replay.paused')} · {speed}x"
    problem = st.session_state.get("wr_rp_problem")
    note = f'<span class="wr-replay-problem" data-replay-problem="1">{escape(problem)}</span>' if problem else ""
    return (f'<div class="wr-replay-banner" data-replay-at="{escape(answer["at"])}" data-frame-ms="{frame_ms:.1f}" '
            f'data-paused-by="{escape(st.session_state.get("wr_rp_paused_by", ""))}">'
            f'◀◀ {escape(text(loc, "replay.word"))} · {escape(when)} '
            f'<small>{escape(window.zone)} · {escape(state)} · {escape(window.name)}</small>{note}</div>')


def replay_panel(slots: ReplaySlots, window: Window) -> None:
    """One frame: advance when playing, the band and its controls, then the wall as it was at the moment."""
    started = time.perf_counter()
    loc = session.locale()
    advance(window)
    moment = _moment(st.session_state[AT])
    at_iso = moment.isoformat()
    st.query_params["at"] = at_iso  # the moment is in the address, to share in the chat
    answer = frame(at_iso)
    # The band's line first and in one piece: an element left empty while the frame is fetched would blink.
    st.html(banner_html(answer or {"at": at_iso}, moment, window, loc, (time.perf_counter() - started) * 1000))
    controls(window, loc)
    if answer is not None:
        draw(slots, answer, moment, loc)


def draw(slots: ReplaySlots, answer: dict[str, Any], moment: datetime, loc: str) -> None:
    """The wall at `moment`, built by the live wall's builder from the frame, in the live wall's placeholders."""
    wall = slots.wall
    board = answer["board"]
    plan = wall.plan or WallPlan("", "", tuple(s.metric for s in wall.tiles), (), ())
    parts = build_wall(board, answer.get("alerts") or [], "ok", plan, loc, moment, wall.compact)
    wall.header.html(parts.header)
    if wall.decision is not None:
        wall.decision.html(parts.decision)
    wall.styles.html(parts.styles)
    for slot, tile in zip(wall.tiles, parts.tiles, strict=True):
        slot.text.html(tile)
    wall.strip.html(parts.strip)
    if wall.health is not None and parts.health:
        wall.health.html(parts.health)
    if wall.note is not None:
        # The live wall's line for "this view is slowed" (empty unless the board is busy) takes its gap here too.
        wall.note.html("<span></span>")
    _sparklines(wall, board, moment)
    zone = board.get("campaign", {}).get("timezone") or "UTC"
    with slots.sheet.container():
        # The run sheet as it stood: the wall's step cards; nothing can be marked in the past.
        st.html(sheet_title_html(loc))
        for step in next_steps(answer.get("runsheet") or [], SHEET_STEPS):
            st.html(step_html(step_line(step, loc, moment, zone), loc))
        for handover in answer.get("handovers") or []:
            st.html(handover_html(handover, loc, zone))


def _sparklines(wall: WallSlots, board: dict[str, Any], moment: datetime) -> None:
    spark_slots = [s for s in wall.tiles if s.spark is not None]
    series = series_then(moment, tuple(s.metric for s in spark_slots))
    if series is None:
        return
    by_metric = {t["metric"]: t for t in board.get("tiles", [])}
    for i, slot in enumerate(spark_slots):
        figure = sparkline(series.get(slot.metric, []), by_metric.get(slot.metric) or {"metric": slot.metric}, moment,
                           wall.spark_height)
        assert slot.spark is not None
        slot.spark.plotly_chart(figure, theme=None, key=f"wr-spark-{i}",
                                config={"staticPlot": True, "displayModeBar": False})


def timeline_panel(window: Window, titles: dict[str, str], loc: str) -> None:
    """The timeline of the whole window (fetched once per window); a click on a marker jumps there."""
    key = (window.start, window.end)
    cached = st.session_state.get("wr_rp_timeline")
    if not cached or cached[0] != key:
        try:
            # Transitions come as bands; the events the page marks are what people and the pager did.
            answer = session.client().get("/api/v1/timeline", {"from": _dt(window.start).isoformat(),
                                                               "to": _dt(window.end).isoformat(), "levels": "false"})
        except (DaemonUnreachable, ApiRefused, EndpointMissing) as err:
            st.warning(str(err))
            return
        st.session_state["wr_rp_timeline"] = cached = (key, answer)
    st.caption(text(loc, "replay.timeline"))
    fig = timeline_figure(cached[1], titles, window.zone, _moment(st.session_state[AT]), text(loc, "replay.decisions"))
    event = st.plotly_chart(fig, key="wr-rp-timeline", on_select="rerun", selection_mode="points", theme=None,
                            config={"displayModeBar": False})
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else \
        getattr(getattr(event, "selection", None), "points", [])
    jump = next((p.get("customdata") for p in points if p.get("customdata")), None)
    if jump and st.session_state.get("wr_rp_jumped") != jump:
        st.session_state["wr_rp_jumped"] = jump
        st.session_state["wr_rp_play"] = False
        st.session_state["wr_rp_paused_by"] = "timeline"
        moment = parse_ts(jump if isinstance(jump, str) else jump[0])
        if moment is not None:
            set_moment(moment.timestamp(), window)
            st.rerun()
