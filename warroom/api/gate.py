"""The API's gate: the board token and body caps checked on the headers, and refused attempts counted.

20,000 forged ack links once added 20,000 events to one alert; a refusal now costs a counter, and a
client that keeps guessing is turned away (429) before its guess is even checked.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi.responses import JSONResponse

from warroom.api.params import ApiError

log = logging.getLogger("warroom.api")

MAX_BODY = 1 << 20  # 1,000 pushed samples are ~100 KB
MAX_LINK_BODY = 8 << 10  # an ack link's form post: one token
LINK_ACK = re.compile(r"^/api/v1/alerts/[^/]+/ack(/form)?/?$")
READ_METHODS = {"GET", "HEAD", "OPTIONS"}

MAX_KEYS = 10_000  # clients × alerts remembered; the oldest are forgotten past this
SIGNIN_KEY = -1  # sign-in links share the per-client window with ack links under an id no alert has
# Refusals are logged at most this many lines per kind a minute; the rest are counted (20,000 refused
# pushes once wrote 2.8 MB of log, one line each, on the disk the record lives on).
LOG_LINES, LOG_WINDOW_S = 5, 60.0


class Refusals:
    """Counts refusals by kind and per alert, and limits refused ack attempts per (client, alert)."""

    def __init__(self, limit: int = 10, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._recent: dict[tuple[str, int], deque[float]] = {}
        self._lock = threading.Lock()
        self.board_token = 0
        self.ack_link = 0
        self.rate_limited = 0
        self.body_too_large = 0
        self.signin_link = 0
        self.by_alert: dict[int, int] = {}
        self._logged: dict[str, deque[float]] = {}
        self.unlogged: dict[str, int] = {}

    def _window(self, key: tuple[str, int], now: float) -> deque[float]:
        times = self._recent.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def ack_blocked(self, client: str, alert_id: int) -> float | None:
        """Seconds to wait when this client used up its refused attempts on this alert, else None."""
        with self._lock:
            now = self.clock()
            times = self._window((client, alert_id), now)
            if len(times) < self.limit:
                return None
            self.rate_limited += 1
            return max(1.0, times[0] + self.window_s - now)

    def ack_refused(self, client: str, alert_id: int) -> None:
        """Record one refused ack link (forged, expired, for another alert)."""
        with self._lock:
            now = self.clock()
            if len(self._recent) >= MAX_KEYS:
                for key in list(self._recent)[: MAX_KEYS // 10]:
                    del self._recent[key]
            self._window((client, alert_id), now).append(now)
            self.ack_link += 1
            if alert_id in self.by_alert or len(self.by_alert) < MAX_KEYS:
                self.by_alert[alert_id] = self.by_alert.get(alert_id, 0) + 1

    def signin_blocked(self, client: str) -> float | None:
        """Seconds to wait when this client used up its refused sign-in attempts, else None."""
        return self.ack_blocked(client, SIGNIN_KEY)

    def signin_refused(self, client: str) -> None:
        """Record one refused sign-in link (forged, expired, another person's), limited like ack links."""
        with self._lock:
            now = self.clock()
            if len(self._recent) >= MAX_KEYS:
                for key in list(self._recent)[: MAX_KEYS // 10]:
                    del self._recent[key]
            self._window((client, SIGNIN_KEY), now).append(now)
            self.signin_link += 1

    def token_refused(self) -> None:
        """Record one request refused for a missing or wrong board token."""
        with self._lock:
            self.board_token += 1

    def too_large(self) -> None:
        """Record one request refused for its body's size (413)."""
        with self._lock:
            self.body_too_large += 1

    def log(self, kind: str, message: str, *args: object) -> None:
        """Log one refusal at a bounded rate: LOG_LINES lines per kind a minute, the rest counted, said in the next."""
        with self._lock:
            now = self.clock()
            times = self._logged.setdefault(kind, deque())
            while times and times[0] <= now - LOG_WINDOW_S:
                times.popleft()
            if len(times) >= LOG_LINES:
                self.unlogged[kind] = self.unlogged.get(kind, 0) + 1
                return
            times.append(now)
            skipped = self.unlogged.pop(kind, 0)
        if skipped:
            message += f" (and {skipped} more {kind} refusal(s) since the last line, not logged one by one)"
        log.warning(message, *args)

    def as_dict(self) -> dict[str, object]:
        """For /api/v1/health: how many of each, and refused ack links per alert id."""
        with self._lock:
            # the 20 most refused: an attacker guessing ids must not grow the health answer
            top = sorted(self.by_alert.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
            return {"board_token": self.board_token, "ack_link": self.ack_link, "rate_limited": self.rate_limited,
                    "body_too_large": self.body_too_large, "not_logged": dict(self.unlogged),
                    "signin_link": self.signin_link, "ack_link_by_alert": {str(k): v for k, v in sorted(top)}}


class RequestGate:
    """ASGI middleware: the board token is checked and the body size capped before any body is read.

    Six clients posting 33 MB bodies without a token once made FastAPI parse each one (to answer
    422), pushing /board from 7 ms to 2.2 s and the daemon from 340 to 728 MB. Refusing on the
    headers alone keeps the read path answering. An ack link carries its own signed token, so its
    routes skip the board token but get a smaller cap.
    """

    def __init__(self, app: Any, token_env: str, refusals: Refusals, max_body: int = MAX_BODY):
        self.app, self.token_env, self.refusals, self.max_body = app, token_env, refusals, max_body

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        """Pass reads through; refuse writes without the token, or with too large a body."""
        if scope["type"] != "http" or scope["method"] in READ_METHODS:
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        client = scope["client"][0] if scope.get("client") else "unknown"
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        link = bool(LINK_ACK.match(path)) and (path.rstrip("/").endswith("/form") or bool(query.get("token")))
        cap = MAX_LINK_BODY if link else self.max_body
        if not link:
            refusal = token_refusal(self.token_env, headers.get("authorization", ""))
            if refusal:
                self.refusals.token_refused()
                self.refusals.log("token", "refused %s %r from %s: %s", method, path[:200], client, refusal)
                await _error(scope, receive, send, 403, refusal, "authorization")
                return
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                await _error(scope, receive, send, 400, "content-length: not a number", "content-length")
                return
            if int(length) > cap:
                self._too_large(method, path, client, f"body of {int(length)} bytes is over the {cap}-byte limit")
                await _error(scope, receive, send, 413, f"body of {int(length)} bytes is over the {cap}-byte limit",
                             "body")
                return
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read up to the cap here, since FastAPI turns any error raised
        # while it reads a body into a 400.
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > cap:
                self._too_large(method, path, client, f"body is over the {cap}-byte limit")
                await _error(scope, receive, send, 413, f"body is over the {cap}-byte limit", "body")
                return
        replayed = False

        async def buffered() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, buffered, send)

    def _too_large(self, method: str, path: str, client: str, why: str) -> None:
        self.refusals.too_large()
        self.refusals.log("too_large", "refused %s %r from %s: 413 %s", method, path[:200], client, why)



def token_refusal(token_env: str, authorization: str | None) -> str | None:
    """Why a request may not change the night (no token configured, missing or wrong), or None when it may."""
    expected = os.environ.get(token_env, "")
    if not expected:
        return f"state-changing actions are disabled: set {token_env} for the daemon"
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        return "missing or wrong token (Authorization: Bearer …)"
    return None


def check_board_token(token_env: str, authorization: str | None) -> None:
    """403 unless the request carries the board token (Authorization: Bearer …)."""
    refusal = token_refusal(token_env, authorization)
    if refusal:
        raise ApiError(403, refusal, "authorization")


async def _error(scope: dict, receive: Callable, send: Callable, status: int, message: str, field: str) -> None:
    await JSONResponse({"error": {"message": message, "field": field}}, status_code=status)(scope, receive, send)
