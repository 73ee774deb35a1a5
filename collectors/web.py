"""The HTTP transport every HTTP-based collector shares: sessions, one deadline per GET, the body cap, reasons.

As netdata go.d's `pkg/web`: plug-ins (`http`, `json`, `prometheus`, `promql`) subclass `WebSettings`
and `WebCollector` here, ask `self.web` for a reply, and never take a transport from each other.
"""

from __future__ import annotations

import http
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions
from pydantic import AfterValidator, Field

from collectors.base import CollectError, Collector, CollectorContext, CollectorSettings
from warroom.durations import format_duration

# A reply bigger than this is not a metrics answer; reading it whole would stall the poll.
MAX_BODY_BYTES = 1_000_000
_CHUNK = 64 * 1024


def check_http_url(url: str) -> str:
    """Pydantic helper: an absolute http(s) URL, so a typo fails at start rather than at the first poll."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an absolute http:// or https:// URL, got {url!r}")
    return url


# A URL checked at config load, kept as written (pydantic's HttpUrl would add a trailing slash).
AbsoluteUrl = Annotated[str, AfterValidator(check_http_url)]


def shown_url(url: str) -> str:
    """The URL as it may appear in reasons and logs: a password in it is masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def target_of(url: str) -> str:
    """How a reason names a GET of `url`: `GET http://host/path`, a password masked."""
    return f"GET {shown_url(url)}"


@dataclass(frozen=True)
class Reply:
    """An HTTP reply whose body was read whole (it was under MAX_BODY_BYTES) within the deadline."""

    status: int
    phrase: str
    body: bytes
    seconds: float

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    def status_text(self) -> str:
        """`HTTP 503 Service Unavailable`."""
        phrase = self.phrase
        if not phrase:
            try:
                phrase = http.HTTPStatus(self.status).phrase
            except ValueError:
                phrase = ""
        return f"HTTP {self.status} {phrase}".rstrip()

    def json(self) -> Any:
        """The decoded body; ValueError with json's own position message when it is not JSON."""
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as exc:
            raise ValueError(f"reply is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except UnicodeDecodeError:
            raise ValueError("reply is not JSON: not valid UTF-8 text") from None


class FetchError(Exception):
    """A GET without a usable reply; `waited` is the measured wait when there is one (timeout, cap)."""

    def __init__(self, reason: str, waited: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.waited = waited


def fetch(
    session: requests.Session,
    url: str,
    *,
    timeout: float,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    verify: bool = True,
    monotonic: Callable[[], float] = time.monotonic,
) -> Reply:
    """GET `url` streaming at most MAX_BODY_BYTES within `timeout` seconds in total; FetchError otherwise."""
    target = target_of(url)
    timed_out = FetchError(f"{target}: timed out after {format_duration(timeout)}", waited=timeout)
    started = monotonic()
    try:
        response = session.get(
            url,
            params=params,
            headers=dict(headers or {}),
            timeout=(timeout, timeout),
            verify=verify,
            stream=True,
        )
    except requests.Timeout:
        raise timed_out from None
    except requests.RequestException as exc:
        raise FetchError(f"{target}: {transport_reason(exc)}") from None
    with response:
        # requests' read timeout bounds each socket read, not the whole reply: a server trickling a
        # byte at a time would never trip it, so the deadline is checked between reads as well.
        read = getattr(response.raw, "read1", None) or response.raw.read
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if monotonic() - started > timeout:
                    raise timed_out
                chunk = read(_CHUNK, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise FetchError(
                        f"{target}: reply larger than {MAX_BODY_BYTES} bytes (capped, not read whole)",
                        waited=monotonic() - started,
                    )
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
            raise timed_out from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise FetchError(f"{target}: reply broken off: {transport_reason(exc)}") from None
        seconds = monotonic() - started
        if seconds > timeout:
            raise timed_out
        return Reply(response.status_code, response.reason or "", b"".join(chunks), seconds)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests and urllib3 nest the real cause several deep)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args)
        for inner in wrapped:
            if isinstance(inner, BaseException):
                stack.append(inner)


def transport_reason(exc: BaseException) -> str:
    """A short human reason for a network failure instead of urllib3's nested repr."""
    causes = list(_causes(exc))

    def first(kind: type[BaseException] | tuple[type[BaseException], ...]) -> BaseException | None:
        # By kind first, then depth: a ProtocolError wrapping a reset is reported as the reset.
        return next((cause for cause in causes if isinstance(cause, kind)), None)

    if first(ConnectionRefusedError):
        return "connection refused"
    if first(http.client.RemoteDisconnected):
        return "connection closed by the server without a reply"
    if first(ConnectionResetError):
        return "connection reset by the server"
    if isinstance(found := first(socket.gaierror), socket.gaierror):
        return f"host name not resolved ({found.strerror})"
    if isinstance(found := first(ssl.SSLCertVerificationError), ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({found.verify_message})"
    if isinstance(found := first(ssl.SSLError), ssl.SSLError):
        return f"TLS error ({found.reason or found})"
    if found := first((urllib3.exceptions.ProtocolError, http.client.HTTPException)):
        return f"protocol error ({found})"
    innermost = causes[-1]
    return f"{type(innermost).__name__}: {innermost}"


class WebClient:
    """One collector's HTTP: sessions from the context, its TLS check and monotonic clock, closed together."""

    def __init__(self, context: CollectorContext, *, verify: bool = True, per_thread: bool = False):
        self.monotonic = context.monotonic
        self._factory = context.session_factory
        self._verify = verify
        # requests.Session is not safe to share between threads: a collector that GETs its URLs
        # concurrently keeps one per worker; the others keep one for all polls, whichever thread polls.
        self._per_thread = per_thread
        self._sessions: dict[int | None, requests.Session] = {}
        self._lock = threading.Lock()

    def session(self) -> requests.Session:
        """The calling thread's session (or the one shared session), opened on first use."""
        key = threading.get_ident() if self._per_thread else None
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = self._factory()
        return session

    def get(
        self,
        url: str,
        *,
        timeout: float,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """GET within `timeout` under the body cap; FetchError (naming the target) without a reply."""
        return fetch(
            self.session(),
            url,
            timeout=timeout,
            params=params,
            headers=headers,
            verify=self._verify,
            monotonic=self.monotonic,
        )

    def get_ok(self, url: str, *, timeout: float, headers: Mapping[str, str] | None = None) -> Reply:
        """A 2xx reply; CollectError naming the target and its reply (status, timeout, cap) otherwise."""
        try:
            reply = self.get(url, timeout=timeout, headers=headers)
        except FetchError as exc:
            raise CollectError(exc.reason) from None
        if not reply.ok:
            raise CollectError(f"{target_of(url)}: {reply.status_text()}")
        return reply

    def close(self) -> None:
        """Close every session; the next GET opens a new one."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()


class WebSettings(CollectorSettings):
    """Fields of a collector that reads over HTTP(S)."""

    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate.")


class WebCollector(Collector):
    """A collector that GETs through `self.web`; `close()` closes its sessions."""

    settings: WebSettings
    # True for a collector that GETs several URLs at once: each worker thread then keeps its own session.
    concurrent: ClassVar[bool] = False

    def __init__(self, settings: WebSettings, context: CollectorContext):
        super().__init__(settings, context)
        self.web = WebClient(context, verify=settings.verify_tls, per_thread=self.concurrent)

    def close(self) -> None:
        """Close the HTTP sessions; the next poll opens new ones."""
        self.web.close()
