"""The board's only way to the data: the daemon's HTTP API over requests (never the database).

Every call is bounded (2 s) so a hung daemon can never freeze the wall; an unreachable daemon
becomes DaemonUnreachable carrying since when, which the wall prints in its banner. Endpoints
that the daemon does not serve yet (404 without the API's error body) become EndpointMissing so
a page can say "unavailable" instead of crashing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from app.nodes import Nodes, parse_bases

TIMEOUT_S = 2.0
# With several nodes a write may land on a follower while the leader dies; the follower waits for the next
# leader (the lease's ttl and two renewals, 5 s by default) rather than answer "try again": wait for that answer.
WRITE_TIMEOUT_S = 8.0


class DaemonUnreachable(Exception):
    """The daemon did not answer; `since` is the epoch second of the first failure in a row."""

    def __init__(self, base: str, since: float, reason: str):
        super().__init__(f"{base} unreachable since {since:.0f}: {reason}")
        self.base, self.since, self.reason = base, since, reason


class EndpointMissing(Exception):
    """The daemon answered 404 for a route it does not have (yet)."""

    def __init__(self, path: str):
        super().__init__(f"{path} is not served by this daemon")
        self.path = path


class ApiRefused(Exception):
    """The API answered with its error body: a bad parameter (422), unknown thing (404), or no/bad token."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


class TokenMissing(Exception):
    """A write was asked for but the board has no token."""


class Actor:
    """Who a write is made by: a signed-in person (their session id) or a trusted wall screen (its name)."""

    def __init__(self, session: str | None = None, wall: str | None = None):
        self._session, self.wall = session, wall

    def __repr__(self) -> str:
        # The session id is a credential: never in a log line or an error page.
        return f"Actor(session={'set' if self._session else 'none'}, wall={self.wall!r})"

    def headers(self) -> dict[str, str]:
        """The headers that say who acts."""
        if self._session:
            return {"X-Warroom-Session": self._session}
        return {"X-Warroom-Wall": self.wall} if self.wall else {}


class DaemonClient:
    """Reads and writes the daemon's API; one per API base, shared by every browser session."""

    def __init__(self, base: str, token: str | None = None, timeout: float = TIMEOUT_S,
                 clock: Callable[[], float] = time.time):
        # `base` may list several nodes (`--api URL1,URL2`): the client reads one and moves (app/nodes.py).
        self.nodes = Nodes(parse_bases(base), self._health)
        self._token = token or None
        self.timeout = min(timeout, TIMEOUT_S)
        self.write_timeout = WRITE_TIMEOUT_S if self.nodes.several else self.timeout
        self.clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._down_since: float | None = None

    def __repr__(self) -> str:
        # The token must never reach a log line or an error page.
        return f"DaemonClient({','.join(self.nodes.bases)!r}, token={'set' if self._token else 'none'})"

    @property
    def base(self) -> str:
        """The API base of the node the board reads now."""
        return self.nodes.current

    @base.setter
    def base(self, value: str) -> None:
        self.nodes = Nodes(parse_bases(value), self._health)

    @property
    def can_write(self) -> bool:
        """True when the board has a token for the write endpoints."""
        return self._token is not None

    @property
    def down_since(self) -> float | None:
        """Epoch second of the first failed call in the current outage, None while the daemon answers."""
        with self._lock:
            return self._down_since

    def _session(self) -> requests.Session:
        # Streamlit runs every browser session on its own thread; one Session per thread keeps
        # keep-alive connections without sharing a Session across threads.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _request(self, method: str, path: str, params: Any = None, body: Any = None, write: bool = False,
                 actor: Actor | None = None) -> Any:
        headers = {"Accept": "application/json"}
        if write:
            if self._token is None:
                raise TokenMissing(path)
            headers["Authorization"] = f"Bearer {self._token}"
        if actor is not None:
            # who acts: a signed-in person's session, or a trusted wall (the daemon checks both)
            headers.update(actor.headers())
        nodes = self.nodes
        base, tried = nodes.current, []
        while True:
            try:
                resp = self._session().request(method, base + path, params=params, json=body, headers=headers,
                                               timeout=self.write_timeout if write else self.timeout)
                break
            except requests.RequestException as err:
                tried.append(base)
                # A write whose answer timed out may have been done: never repeat it on another node.
                others = [] if write and isinstance(err, requests.ReadTimeout) else nodes.others(tried)
                if others:
                    base = others[0]
                    continue
                with self._lock:
                    if self._down_since is None:
                        self._down_since = self.clock()
                    since = self._down_since
                raise DaemonUnreachable(nodes.current, since, _short_reason(err)) from None
        if tried:
            nodes.moved(tried[0], base)
        self._local.answered_by = base
        with self._lock:
            self._down_since = None
        return _answer(resp, path)

    def answered_by(self) -> str:
        """The node whose answer this thread's last call read (a survey may since have moved the board)."""
        return getattr(self._local, "answered_by", None) or self.base

    def _health(self, base: str, timeout: float) -> Any:
        """One node's /api/v1/health (for the survey of app/nodes.py), None unless it answers 200."""
        resp = self._session().get(base + "/api/v1/health", headers={"Accept": "application/json"}, timeout=timeout)
        return resp.json() if resp.ok else None

    def get(self, path: str, params: Any = None) -> Any:
        """GET an API path and return its JSON."""
        return self._request("GET", path, params=params)

    # --- reads -----------------------------------------------------------------------------

    def board(self, at: str | None = None) -> dict[str, Any]:
        """The board: campaign header and one tile per metric."""
        return self.get("/api/v1/board", {"at": at} if at else None)

    def series(self, metrics: list[str] | None, start: str = "-30m", end: str = "now",
               points: int = 120) -> dict[str, list[list[Any]]]:
        """{metric: [[iso_ts, value], ...]}, at most `points` per metric (min/max kept by the API)."""
        params: list[tuple[str, Any]] = [("from", start), ("to", end), ("points", points)]
        params += [("metric", m) for m in metrics or []]
        return self.get("/api/v1/series", params)["series"]

    def config(self) -> dict[str, Any]:
        """Campaign, people, level owners and metric metadata (no secrets)."""
        return self.get("/api/v1/config")

    def alerts(self, state: str = "active", start: str | None = None, end: str | None = None) -> list[dict]:
        """Alerts in `state` (active, open, acked, resolved, all), newest first as the API gives them."""
        params = {"state": state, **({"from": start} if start else {}), **({"to": end} if end else {})}
        return self.get("/api/v1/alerts", params)["alerts"]

    def silences(self, active: bool = True) -> list[dict]:
        """Silences, only those in force by default."""
        return self.get("/api/v1/silences", {"active": "true" if active else "false"}).get("silences", [])

    def annotations(self, start: str = "-2h", end: str = "now") -> list[dict]:
        """The decision log between two moments."""
        return self.get("/api/v1/annotations", {"from": start, "to": end})["annotations"]

    def runsheet(self) -> list[dict]:
        """The campaign's run sheet steps with their countdowns and done marks."""
        return self.runsheet_answer()["steps"]

    def runsheet_answer(self) -> dict[str, Any]:
        """The run sheet with the shift handovers of the next hour beside it."""
        return self.get("/api/v1/runsheet")

    # --- writes (Bearer token) -------------------------------------------------------------

    def ack(self, alert_id: Any, actor: Actor, note: str = "") -> Any:
        """Acknowledge an alert as the signed-in person."""
        return self._request("POST", f"/api/v1/alerts/{alert_id}/ack", body={"note": note}, write=True, actor=actor)

    def silence(self, metric: str | None, duration: str, reason: str, actor: Actor) -> Any:
        """Silence one metric (or all with None) for `duration`, e.g. 30m, as the signed-in person."""
        body = {"metric": metric, "duration": duration, "reason": reason}
        return self._request("POST", "/api/v1/silences", body=body, write=True, actor=actor)

    def unsilence(self, silence_id: Any, actor: Actor) -> Any:
        """Lift a silence."""
        return self._request("DELETE", f"/api/v1/silences/{silence_id}", write=True, actor=actor)

    def annotate(self, text: str, actor: Actor, kind: str = "decision", level: str | None = None,
                 alert_id: Any = None) -> Any:
        """Write a decision (or note) into the decision log, as the signed-in person."""
        body = {"level": level, "alert_id": alert_id, "kind": kind, "text": text}
        return self._request("POST", "/api/v1/annotations", body=body, write=True, actor=actor)

    def step_done(self, index: int, actor: Actor) -> Any:
        """Mark a run sheet step done (as the signed-in person, or at a trusted wall)."""
        return self._request("POST", f"/api/v1/runsheet/{index}/done", write=True, actor=actor)

    def step_undo(self, index: int, actor: Actor) -> Any:
        """Take back a done mark within the daemon's undo window."""
        return self._request("POST", f"/api/v1/runsheet/{index}/undo", write=True, actor=actor)

    # --- people (sign-in links, sessions) ----------------------------------------------------

    def sign_in(self, token: str, client: str | None) -> dict[str, Any]:
        """Exchange a sign-in link's token for a session (answer: session id, role, name, rights)."""
        return self._request("POST", "/api/v1/signin", body={"token": token, "client": client}, write=True)

    def who(self, session: str) -> dict[str, Any]:
        """Who this session is and what they may do; ApiRefused 401 once signed out."""
        return self._request("GET", "/api/v1/signin", actor=Actor(session))

    def sign_out(self, session: str) -> Any:
        """End the session for good."""
        return self._request("POST", "/api/v1/signout", write=True, actor=Actor(session))


def _answer(resp: requests.Response, path: str) -> Any:
    """The JSON of a 2xx answer, else the matching exception."""
    try:
        payload = resp.json() if resp.content else {}
    except ValueError:
        payload = None
    if resp.ok:
        return payload
    error = payload.get("error") if isinstance(payload, dict) else None
    if resp.status_code in (404, 405) and not isinstance(error, dict):
        # FastAPI's own {"detail": "Not Found"}: the route itself is missing, not a thing in it.
        raise EndpointMissing(path)
    if isinstance(error, dict):
        raise ApiRefused(resp.status_code, str(error.get("message", "")), error.get("field"))
    detail = payload.get("detail") if isinstance(payload, dict) else None
    raise ApiRefused(resp.status_code, str(detail or resp.reason or resp.status_code))


def _short_reason(err: requests.RequestException) -> str:
    """'connection refused' / 'timed out after 2 s' rather than a urllib3 repr."""
    if isinstance(err, requests.Timeout):
        return f"no answer within {TIMEOUT_S:g} s"
    if isinstance(err, requests.ConnectionError):
        text = str(err)
        return "connection refused" if "refused" in text.lower() else "connection failed"
    return type(err).__name__
