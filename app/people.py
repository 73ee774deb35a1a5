"""Who is looking at this board page: a signed-in person, a trusted wall, or nobody (read-only).

A person signs in by opening the personal link a page brought them: app/board.py exchanges the link
for a session with the daemon before Streamlit sees the request, keeps the session id in an HttpOnly
cookie and sends the browser to the same address without the link's token. Every page reads the
cookie here, asks the daemon who it is (cached a few seconds per process), and offers actions only to
that person; the daemon checks their rights again on every action.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

import streamlit as st

from app.api_client import Actor, ApiRefused, DaemonUnreachable, EndpointMissing
from app.labels import text
from app.session import client, kiosk

COOKIE = "warroom_session"
WHO_TTL_S = 5.0  # a sign-out or a rotated secret shows on every page within this, without asking per refresh


@dataclass(frozen=True)
class Person:
    """A signed-in person: role, name, what they may do (from the daemon), and the session to act with."""

    role: str
    name: str
    expires: str
    rights: dict[str, Any]
    session: str = field(repr=False)

    def actor(self) -> Actor:
        """The headers that make an action theirs."""
        return Actor(session=self.session)

    def may(self, action: str) -> bool:
        """True when the daemon says this person may `action` (silence | stand_in)."""
        return bool((self.rights.get(action) or {}).get("may"))

    def who_may(self, action: str) -> list[str]:
        """The names of the people who may `action`, for a refusal that says who may."""
        return [p.get("name") or p.get("role") for p in (self.rights.get(action) or {}).get("who", [])]


_cache: dict[str, tuple[float, Person | None]] = {}
_lock = threading.Lock()


def _lookup(session_id: str) -> Person | None:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(session_id)
        if hit is not None and now - hit[0] < WHO_TTL_S:
            return hit[1]
    try:
        answer = client().who(session_id)
        person: Person | None = Person(answer["role"], answer["name"], answer.get("expires", ""),
                                       answer.get("rights") or {}, session_id)
    except (ApiRefused, EndpointMissing, KeyError, TypeError):
        person = None
    except DaemonUnreachable:
        # The daemon is away: keep who we knew, so the header does not flicker; actions fail anyway.
        return hit[1] if hit is not None else None
    with _lock:
        if len(_cache) > 1000:
            _cache.clear()
        _cache[session_id] = (now, person)
    return person


def signed_in() -> Person | None:
    """The person signed in on this browser, or None (never on a kiosk wall: it is a shared screen)."""
    if kiosk():
        return None
    try:
        session_id = st.context.cookies.get(COOKIE)
    except (AttributeError, RuntimeError):
        return None
    return _lookup(session_id) if session_id else None


def forget(session_id: str) -> None:
    """Drop a session from the cache (after sign-out)."""
    with _lock:
        _cache.pop(session_id, None)


def trusted_wall(config: dict[str, Any] | None, wall: str | None) -> str | None:
    """The wall's name when this is a kiosk view of a wall configured to act (`walls.NAME.actions`), else None."""
    if not kiosk():
        return None
    walls = (config or {}).get("walls") or {}
    name = wall or next(iter(walls), None)
    spec = walls.get(name) if name else None
    return name if isinstance(spec, dict) and spec.get("actions") else None


def here() -> str:
    """This page's local address (path and query), for coming back after signing out."""
    try:
        url = urlsplit(str(st.context.url or "/"))
    except (AttributeError, RuntimeError, ValueError):
        return "/"
    return (url.path or "/") + (f"?{url.query}" if url.query else "")


def person_bar_html(person: Person, loc: str, back: str) -> str:
    """The header line of a signed-in browser: who is signed in here, and sign out in one click."""
    to = quote(back if back.startswith("/") and not back.startswith("//") else "/", safe="")
    # Fixed in the top bar, left of Streamlit's menu, above its header: seen and clickable on every page.
    return (f'<div class="wr-person" data-person="{escape(person.role, quote=True)}" style="position:fixed;top:12px;'
            'right:64px;z-index:1000100;display:flex;gap:16px;align-items:center;font-size:15px;padding:4px 12px;'
            'border-radius:8px;background:rgba(30,34,42,.92)">'
            f'<span data-person-name="1">{escape(text(loc, "people.signed_in", name=person.name))}</span>'
            f'<a href="/signout?to={to}" target="_self" data-sign-out="1">{escape(text(loc, "people.sign_out"))}</a>'
            "</div>")


def person_bar(loc: str) -> None:
    """Show who is signed in on this browser at the top of the page (nothing for nobody, or on a kiosk wall)."""
    person = signed_in()
    if person is not None:
        st.html(person_bar_html(person, loc, here()))
