"""`http`: how long a customer waits for each page, and the worst of them; plus the capped GET every
HTTP-based collector shares."""

from __future__ import annotations

import http
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from collectors.base import (
    MAX_BODY_BYTES,
    METRIC_NAME,
    CollectError,
    Collector,
    CollectorContext,
    CollectorSettings,
)
from warroom.durations import format_duration
from warroom.values import Sample

# The part after the dot in `<metric>.<name>`; METRIC_NAME allows exactly this in later segments.
URL_NAME = r"^[a-z0-9_]+$"
_CHUNK = 64 * 1024
_MAX_WORKERS = 8


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
    target: str | None = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    verify: bool = True,
    monotonic: Callable[[], float] = time.monotonic,
) -> Reply:
    """GET `url` streaming at most MAX_BODY_BYTES within `timeout` seconds in total; FetchError otherwise."""
    target = target or f"GET {shown_url(url)}"
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


class ProbeTarget(BaseModel):
    """One page to time."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=URL_NAME, description="Short name; this page's metric is `<metric>.<name>`.")
    url: AbsoluteUrl = Field(description="Absolute http:// or https:// URL to GET.")


class HttpSettings(CollectorSettings):
    """`type: http` — GET each URL concurrently and time it until the body is read."""

    type: Literal["http"]
    metric: str = Field(
        pattern=METRIC_NAME,
        description="Worst response time across the URLs in seconds; each URL also writes `<metric>.<name>`.",
    )
    urls: list[ProbeTarget] = Field(min_length=1, description="Pages to time: a list of {name, url}.")
    expect_status: int | list[int] = Field(
        default=200, description="Status code (or list of codes) that counts as a good answer."
    )
    expect_keyword: str | None = Field(
        default=None, min_length=1, description="Text that must appear in the body (first 1 MB)."
    )
    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate.")

    @field_validator("expect_status")
    @classmethod
    def _real_statuses(cls, value: int | list[int]) -> int | list[int]:
        codes = value if isinstance(value, list) else [value]
        if not codes:
            raise ValueError("list at least one status code")
        for code in codes:
            if not 100 <= code <= 599:
                raise ValueError(f"{code} is not an HTTP status code")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> HttpSettings:
        names = [target.name for target in self.urls]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"urls: names must be unique, repeated: {', '.join(repeated)}")
        return self

    def statuses(self) -> set[int]:
        """The accepted status codes."""
        return set(self.expect_status if isinstance(self.expect_status, list) else [self.expect_status])

    def produces(self) -> list[str]:
        """The aggregate and one metric per URL."""
        return [self.metric, *(f"{self.metric}.{target.name}" for target in self.urls)]


@dataclass(frozen=True)
class _Probe:
    """One URL's outcome: the measured wait (None when nobody could wait) and what went wrong."""

    seconds: float | None
    problem: str | None


class HttpProbe(Collector):
    """Times every configured page concurrently; the aggregate is the worst wait."""

    settings_model = HttpSettings
    settings: HttpSettings

    def __init__(self, settings: HttpSettings, context: CollectorContext):
        super().__init__(settings, context)
        self._monotonic: Callable[[], float] = context.extra.get("monotonic", time.monotonic)
        # requests.Session is not safe to share between threads, so each worker keeps its own.
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self.context.session_factory()
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _probe(self, target: ProbeTarget) -> _Probe:
        settings = self.settings
        shown = f"GET {shown_url(target.url)}"
        try:
            reply = fetch(
                self._session(),
                target.url,
                timeout=settings.timeout,
                target=shown,
                verify=settings.verify_tls,
                monotonic=self._monotonic,
            )
        except FetchError as exc:
            return _Probe(exc.waited, exc.reason)
        if reply.status not in settings.statuses():
            expected = " or ".join(str(code) for code in sorted(settings.statuses()))
            return _Probe(reply.seconds, f"{shown}: {reply.status_text()} (expected {expected})")
        keyword = settings.expect_keyword
        if keyword is not None and keyword.encode() not in reply.body:
            return _Probe(reply.seconds, f"{shown}: keyword {keyword!r} not found in the reply")
        return _Probe(reply.seconds, None)

    def collect(self, now: datetime) -> list[Sample]:
        """Probe every URL at once; fail naming each bad URL, keeping every wait that was measured."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=min(len(self.settings.urls), _MAX_WORKERS),
                thread_name_prefix=f"http-{self.name}",
            )
        futures = [(target, self._pool.submit(self._probe, target)) for target in self.settings.urls]
        samples: list[Sample] = []
        problems: list[str] = []
        for target, future in futures:
            probe = future.result()
            if probe.seconds is not None:
                samples.append(Sample(now, f"{self.settings.metric}.{target.name}", probe.seconds))
            if probe.problem is not None:
                problems.append(probe.problem)
        if samples:
            # A refused URL has no wait, so the worst wait is over the URLs that answered or timed out.
            samples.append(Sample(now, self.settings.metric, max(sample.value for sample in samples)))
        if problems:
            raise CollectError("; ".join(problems), samples=samples)
        return samples

    def close(self) -> None:
        """Stop the worker threads and close their sessions."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()
