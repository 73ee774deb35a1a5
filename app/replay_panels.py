"""The replay page's panels: controls and the wall as it was (one GET /frame per frame), and the timeline.

The wall is drawn with the wall's own pieces (app.wall_html, app.tiles, app.alert_lines); only the
banner that says REPLAY and the controls are this page's own.
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
from app.alert_lines import alert_line, next_steps, step_line, strip_order
from app.api_client import ApiRefused, DaemonUnreachable, EndpointMissing
from app.labels import text
from app.replay_figures import timeline_figure
from app.tiles import format_countdown, kpi_view, local_time, parse_ts, tile_view
from app.wall_html import header_html, sheet_title_html, step_html, strip_html, styles_html, tile_html, tile_style

SPEEDS = (1, 10, 60, 600)
STEPS = (-60, -10, -1, 1, 10, 60)
AT = "wr_rp_at"
SLIDER = "wr-rp-slider"
BANNER_CSS = """<style>
.wr-replay-banner{background:#5b2a86;color:#fff;font-size:22px;font-weight:700;padding:6px 14px;border-radius:6px;
letter-spacing:.5px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}
.wr-replay-banner small{font-size:15px;font-weight:400;opacity:.85}
[data-testid="stMainBlockContainer"]{outline:4px solid #5b2a86;outline-offset:-4px}
</style>"""
WORDS = {"en": {"replay": "REPLAY", "playing": "playing", "paused": "paused", "timeline": "Timeline — click a marker "
                "to jump there", "decisions": "decisions", "empty": "Nothing recorded yet.", "speed": "Speed",
                "moment": "Replayed moment"},
         "zh-CN": {"replay": "回放 REPLAY", "playing": "播放中", "paused": "已暂停",
                   "timeline": "时间线 — 点击标记跳转", "decisions": "决策", "empty": "尚无记录。", "speed": "速度",
                   "moment": "回放时刻"}}


def word(loc: str, key: str) -> str:
    """This page's own words (the wall's come from app.labels)."""
    return WORDS.get(loc, WORDS["en"]).get(key) or WORDS["en"][key]


@dataclass
class ReplaySlots:
    """Placeholders the page lays out once; the frame fragment refills them."""

    banner: DeltaGenerator
    styles: DeltaGenerator
    header: DeltaGenerator
    strip: DeltaGenerator
    tiles: list[DeltaGenerator]
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
    return datetime.fromtimestamp(round(epoch), UTC)


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
    """Step buttons, play / pause, speed, and the slider over the window."""
    cols = st.columns([1, 1, 1, 1.3, 1, 1, 1, 3.2], gap="small", vertical_alignment="center")
    for col, seconds in zip([*cols[:3], *cols[4:7]], STEPS, strict=True):
        col.button(f"{seconds:+d}s", key=f"wr-rp-step{seconds}", on_click=_step, args=(seconds, window),
                   width="stretch")
    playing = st.session_state.get("wr_rp_play", False)
    cols[3].button("❚❚" if playing else "▶", key="wr-rp-play", on_click=_toggle, type="primary", width="stretch")
    cols[7].segmented_control(word(loc, "speed"), SPEEDS, key="wr_rp_speed", format_func=lambda s: f"{s}x",
                              label_visibility="collapsed")
    tz = ZoneInfo(window.zone)
    st.slider(word(loc, "moment"), min_value=_dt(window.start).astimezone(tz).replace(tzinfo=None),
              max_value=_dt(window.end).astimezone(tz).replace(tzinfo=None), step=timedelta(seconds=1),
              format="HH:mm:ss", key=SLIDER, label_visibility="collapsed", disabled=playing)
    if st.session_state[SLIDER] not in st.session_state.get("wr_rp_drawn", []):
        st.session_state["wr_rp_drawn"] = [*st.session_state.get("wr_rp_drawn", [])[-9:], st.session_state[SLIDER]]


def frame(at_iso: str) -> dict[str, Any] | None:
    """The frame at a moment: one API call, reused while the moment does not move."""
    cached = st.session_state.get("wr_rp_frame")
    if cached and cached[0] == at_iso:
        return cached[1]
    try:
        answer = session.client().get("/api/v1/frame", {"at": at_iso})
    except (DaemonUnreachable, ApiRefused, EndpointMissing):
        return cached[1] if cached else None
    st.session_state["wr_rp_frame"] = (at_iso, answer)
    return answer


def replay_panel(slots: ReplaySlots, window: Window) -> None:
    """One frame: advance when playing, the controls, then the wall as it was at the moment."""
    started = time.perf_counter()
    loc = session.locale()
    advance(window)
    controls(window, loc)
    moment = _dt(st.session_state[AT])
    at_iso = moment.isoformat()
    st.query_params["at"] = at_iso  # the moment is in the address, to share in the chat
    answer = frame(at_iso)
    if answer is None:
        return
    draw(slots, answer, moment, window, loc, (time.perf_counter() - started) * 1000)


def draw(slots: ReplaySlots, answer: dict[str, Any], moment: datetime, window: Window, loc: str,
         frame_ms: float) -> None:
    """Banner, header, alerts strip, tiles and run sheet of one frame, with the wall's own HTML."""
    board, zone = answer["board"], window.zone
    playing = st.session_state.get("wr_rp_play", False)
    speed = st.session_state.get("wr_rp_speed") or SPEEDS[2]
    when = moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    state = f"{'▶ ' + word(loc, 'playing') if playing else '❚❚ ' + word(loc, 'paused')} · {speed}x"
    slots.banner.html(f'{BANNER_CSS}<div class="wr-replay-banner" data-replay-at="{escape(answer["at"])}" '
                      f'data-frame-ms="{frame_ms:.1f}" data-paused-by="{st.session_state.get("wr_rp_paused_by", "")}">'
                      f'◀◀ {escape(word(loc, "replay"))} · {escape(when)} '
                      f'<small>{escape(zone)} · {escape(state)} · {escape(window.name)}</small></div>')
    campaign = board["campaign"]
    remaining = float(campaign.get("seconds_remaining") or 0.0)
    note = text(loc, "countdown.to_end" if remaining > 0 else "countdown.after_end") + " " + \
        local_time(campaign.get("end"), zone)
    slots.header.html(header_html(campaign.get("name", ""), format_countdown(remaining), note,
                                  f"{local_time(moment, zone)}  {zone}", kpi_view(campaign.get("kpi"), loc), loc))
    slots.strip.html(strip_html([alert_line(a, loc, moment) for a in strip_order(answer.get("alerts", []))], loc))
    views = [tile_view(t, loc) for t in board["tiles"]]
    slots.styles.html(styles_html([tile_style(v, i) for i, v in enumerate(views)]))
    for slot, view in zip(slots.tiles, views, strict=False):
        slot.html(tile_html(view, loc))
    steps = [step_html(step_line(s, loc, moment, zone), loc) for s in next_steps(answer.get("runsheet", []), 4)]
    slots.sheet.html(sheet_title_html(loc) + "".join(steps))


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
    st.caption(word(loc, "timeline"))
    fig = timeline_figure(cached[1], titles, window.zone, _dt(st.session_state[AT]), word(loc, "decisions"))
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
