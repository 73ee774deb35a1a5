"""What every page shares within a Streamlit process: settings, the API client, locale, kiosk mode, writes."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app.api_client import ApiRefused, DaemonClient, DaemonUnreachable, EndpointMissing, TokenMissing
from app.hub import Snapshot, SnapshotHub
from app.labels import normal_locale, text
from app.night_time import rate_of
from app.settings import BoardSettings, current_settings
from app.theme import page_css
from app.tiles import parse_ts


@functools.lru_cache(maxsize=8)
def _client(api: str, token: str | None) -> DaemonClient:
    # One client per process and API: its outage clock ("unreachable since") is shared by every wall.
    return DaemonClient(api, token)


@functools.lru_cache(maxsize=8)
def _hub(api: str, token: str | None, period_s: float) -> SnapshotHub:
    # One hub per process (and API): every browser session ships the same snapshot and the same HTML.
    # A module-level cache rather than st.cache_resource: it is asked several times per refresh of
    # every session, and st.cache_resource hashes its arguments each time.
    return SnapshotHub(_client(api, token), period_s)


def hub() -> SnapshotHub:
    """The process-wide snapshot of the daemon, fetched at most once per tile refresh period."""
    s = settings()
    return _hub(s.api, s.token, s.tiles_every_s)


def session_id() -> str:
    """This browser session's id (for the hub's viewer counts)."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "no-session"


# How old a snapshot a session accepts, in refresh periods. Below one period, or a session whose timer runs
# at the period would find a snapshot 0.99 periods old every other time and show each one twice. The kiosk
# wall takes nothing older than half a period (its sample -> wall time); others accept more, so however many
# sessions are open the daemon sees at most two fetches per period.
KIOSK_MAX_AGE = 0.5
VIEWER_MAX_AGE = 0.9


def snapshot() -> Snapshot:
    """The hub's snapshot; if the hub never had a board but this session did, that board (shown grey)."""
    h = hub()
    wall = kiosk()
    snap = h.current(h.period_s * (KIOSK_MAX_AGE if wall else VIEWER_MAX_AGE), h.period_s * 0.5 if wall else 0.0)
    if snap.board is None and st.session_state.get("wr_board") is not None:
        # A restarted hub (cleared cache, another API) while the daemon is away: the wall goes grey, not blank.
        return replace(snap, board=st.session_state["wr_board"], board_time=st.session_state.get("wr_board_time"),
                       offset_s=float(st.session_state.get("wr_offset_s", 0.0)),
                       rate=rate_of(st.session_state["wr_board"]))
    remember_snapshot(snap)
    return snap


def remember_snapshot(snap: Snapshot) -> None:
    """Keep the snapshot's board for the pages and panels that read it from session state."""
    if snap.error is None and snap.board is not None and snap.board is not st.session_state.get("wr_board"):
        st.session_state["wr_board"] = snap.board
        st.session_state["wr_board_time"] = snap.board_time
        st.session_state["wr_locale"] = snap.board.get("campaign", {}).get("locale")
        st.session_state["wr_offset_s"] = snap.offset_s


def settings() -> BoardSettings:
    """This process's board settings (argv and environment are read on every run: cheap, and tests vary them)."""
    return current_settings()


def client() -> DaemonClient:
    """The shared API client."""
    s = settings()
    return _client(s.api, s.token)


def kiosk() -> bool:
    """True with ?kiosk=1: no Streamlit chrome, no navigation."""
    return str(st.query_params.get("kiosk", "")).lower() in {"1", "true", "yes"}


# Without a config file, how long to wait before asking an unreachable daemon again for the campaign's language.
LOCALE_RETRY_S = 30.0


def locale() -> str:
    """The board's language: the campaign's locale from the last answer, else the config file's, else the daemon's."""
    known = st.session_state.get("wr_locale")
    if not known and settings().config_path is None and time.time() >= st.session_state.get("wr_locale_retry", 0.0):
        # `warroom replay` starts the board without a config: the menu is drawn before any board is read, so ask
        # the daemon (its /config, which the hub keeps) rather than fall back to English for a Chinese night.
        known = ((hub().config() or {}).get("campaign") or {}).get("locale")
        if known:
            st.session_state["wr_locale"] = known
        else:
            st.session_state["wr_locale_retry"] = time.time() + LOCALE_RETRY_S  # a daemon away is not asked each call
    return normal_locale(known or settings().locale_hint)


def remember_board(board: dict[str, Any]) -> None:
    """Keep the last good board, when it came, and the daemon's clock offset, for the next refresh."""
    st.session_state["wr_board"] = board
    st.session_state["wr_board_time"] = time.time()
    st.session_state["wr_locale"] = board.get("campaign", {}).get("locale")
    try:
        st.session_state["wr_offset_s"] = parse_ts(board["at"]).timestamp() - time.time()
    except (KeyError, TypeError, ValueError, AttributeError):
        st.session_state["wr_offset_s"] = 0.0


def daemon_now() -> float:
    """Epoch seconds on the daemon's clock: its last answer, run on at its rate (the demo night's speed)."""
    offset = float(st.session_state.get("wr_offset_s", 0.0))
    fetched = st.session_state.get("wr_board_time")
    if fetched is None:
        return time.time() + offset
    return fetched + offset + (time.time() - fetched) * rate_of(st.session_state.get("wr_board"))


def page_style(wall: bool = False, phone: bool = False) -> None:
    """Inject the dark theme (and kiosk or phone CSS when asked for)."""
    st.html(page_css(kiosk(), wall, phone))


def _attempt(action: Callable[[], Any], locale_: str) -> tuple[str, str]:
    """Run a write against the API: ('toast' | 'warning' | 'error', what to say)."""
    try:
        action()
    except TokenMissing:
        return "warning", text(locale_, "token.missing")
    except ApiRefused as err:
        # the board token refused is the board's fault; a person refused (rights, signed out) hears why and who may
        key = "token.rejected" if err.field == "authorization" else "write.failed"
        return "error", text(locale_, key, message=err.message)
    except DaemonUnreachable as err:
        return "error", text(locale_, "write.unreachable", message=err.reason)
    except EndpointMissing as err:
        return "error", text(locale_, "write.missing", path=err.path)
    return "toast", text(locale_, "alerts.saved")


def _show(kind: str, message: str) -> None:
    {"toast": st.toast, "warning": st.warning, "error": st.error}[kind](message)


def write(action: Callable[[], Any], locale_: str) -> bool:
    """Run a write against the API; show why it failed (no token, refused, unreachable, missing endpoint)."""
    kind, message = _attempt(action, locale_)
    _show(kind, message)
    return kind == "toast"


def write_in_callback(action: Callable[[], Any], locale_: str) -> bool:
    """The same write from a widget's callback, saying nothing there: show_outcome() says it in the panel.

    A callback of a fragment's widget runs before the fragment; anything it displays replaces the elements
    at the top of the page (Streamlit: "a fragment rerun was triggered with a callback that displays
    elements"), which are the wall's style blocks: the kiosk wall lost its looks until reloaded.
    """
    kind, message = _attempt(action, locale_)
    st.session_state["wr_write_outcome"] = (kind, message)
    return kind == "toast"


def show_outcome() -> None:
    """Say how the last write from a callback went, inside the panel that offered it (once)."""
    outcome = st.session_state.pop("wr_write_outcome", None)
    if outcome is not None:
        _show(*outcome)


def token_note(locale_: str) -> str | None:
    """Why the write buttons are disabled, or None when the board has a token."""
    return None if client().can_write else text(locale_, "people.no_board_token")
