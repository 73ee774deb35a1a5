"""Who is signed in on the board (table `sign_ins`): sessions opened with personal sign-in links.

A link is exchanged once for a session; the board keeps the session id in an HttpOnly cookie and
sends it with each action, so the link's token never travels again. The table keeps each session's
HMAC under the ack secret, never the id itself: the file leaks no usable session, and a rotated
secret ends every session at once. Sessions survive a daemon restart; sign-out ends one for good.
This module is the table's only writer.

Rows go through `Store.record`, so with HA on the leader ships them and every node mirrors them (a
failover does not sign anyone out; followers pass sign-in and sign-out to the leader). A sign-out is
a second row of the session with `ended_at` set, never an update, so a mirror can copy it; with HA on
each lookup also asks the file whether the session was ended elsewhere.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.signin import SignIn, session_key
from warroom.store.database import Store
from warroom.store.schema import from_db_ts, to_db_ts

# Every read is bounded by time; no session outlives the API's longest window.
LOOKBACK = timedelta(days=8)


@dataclass(frozen=True)
class Session:
    """One signed-in person on one device: their role and name, since and until when."""

    role: str
    person: str
    since: datetime
    expires: datetime
    client: str | None = None


class Sessions:
    """The open sessions, kept in memory and in the `sign_ins` table (thread-safe)."""

    def __init__(self, store: Store, secret: str, now: datetime, shared: bool = False):
        self.store, self.secret, self.shared = store, secret, shared
        self._lock = threading.Lock()
        self._open: dict[str, Session] = {}
        for key, session in self._read(now).items():
            self._open[key] = session

    def _read(self, now: datetime, key: str | None = None) -> dict[str, Session]:
        """Open sessions in the file (one, by key): opened, not ended by any later row, not expired."""
        rows = self.store.execute(
            "SELECT session_key, role, person, ts, expires_at, client FROM sign_ins s "
            "WHERE ts >= ? AND ended_at IS NULL AND expires_at > ? AND (? IS NULL OR session_key = ?) "
            "AND NOT EXISTS (SELECT 1 FROM sign_ins e WHERE e.session_key = s.session_key AND e.ended_at IS NOT NULL "
            "AND e.ts >= ?)",
            [to_db_ts(now - LOOKBACK), to_db_ts(now), key, key, to_db_ts(now - LOOKBACK)]).fetchall()
        return {k: Session(role, person, from_db_ts(ts), from_db_ts(expires), client)
                for k, role, person, ts, expires, client in rows}

    def open(self, who: SignIn, now: datetime, valid_for_s: float, client: str | None) -> tuple[str, Session]:
        """A new session for the person a link signed in; returns its id (given out once) and the session."""
        if not self.secret:
            raise ValueError("sessions need the ack secret")
        session_id = secrets.token_urlsafe(32)
        key = session_key(self.secret, session_id)
        session = Session(who.role, who.person, now, now + timedelta(seconds=valid_for_s), client)
        self.store.record("sign_ins", [to_db_ts(now), key, who.role, who.person, client, to_db_ts(session.expires),
                                       None])
        with self._lock:
            self._open[key] = session
        return session_id, session

    def find(self, session_id: str, now: datetime) -> Session | None:
        """The open session with this id, or None (unknown, ended, expired, or made under another secret)."""
        if not self.secret or not session_id:
            return None
        key = session_key(self.secret, session_id)
        with self._lock:
            session = self._open.get(key)
        if self.shared:  # opened or ended on another node of the cluster: the mirrored rows say so
            found = self._read(now, key).get(key)
            if found is None and session is not None and self._ended(key, now):
                with self._lock:
                    self._open.pop(key, None)
                session = None
            else:  # a session opened here while the disk held its row is still known from memory
                session = found or session
        return session if session is not None and now < session.expires else None

    def _ended(self, key: str, now: datetime) -> bool:
        return bool(self.store.execute(
            "SELECT count(*) FROM sign_ins WHERE session_key = ? AND ended_at IS NOT NULL AND ts >= ?",
            [key, to_db_ts(now - LOOKBACK)]).fetchone()[0])

    def end(self, session_id: str, now: datetime) -> Session | None:
        """Sign out: the session is ended for good (also after a restart); None when it was not open."""
        if not self.secret or not session_id:
            return None
        key = session_key(self.secret, session_id)
        with self._lock:
            session = self._open.pop(key, None)
        if session is None and self.shared:
            session = self._read(now, key).get(key)
        if session is not None:
            self.store.record("sign_ins", [to_db_ts(now), key, session.role, session.person, session.client,
                                           to_db_ts(session.expires), to_db_ts(now)])
        return session
