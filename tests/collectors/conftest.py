"""Shared real local parts for collector tests: an http.server on 127.0.0.1 port 0 whose answers each
test sets, and a builder that validates settings the way the config loader does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from collectors.base import CollectError, Collector, CollectorContext

Route = Callable[[BaseHTTPRequestHandler], None]
# Any sleeping or dribbling handler stops by itself after this, so no test can hang on the server.
HANDLER_LIMIT_S = 3.0


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes | str = b"",
    content_type: str = "text/plain; charset=utf-8",
) -> None:
    """Write a complete reply."""
    data = body.encode() if isinstance(body, str) else body
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def answer(status: int, body: bytes | str = b"", content_type: str = "text/plain; charset=utf-8") -> Route:
    """A route that always gives this reply."""
    return lambda handler: send(handler, status, body, content_type)


def late(seconds: float, status: int = 200, body: bytes | str = b"late") -> Route:
    """A route that waits before answering, as an overloaded backend does."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(min(seconds, HANDLER_LIMIT_S))
        send(handler, status, body)

    return route


def dribble(size: int, every: float) -> Route:
    """A route that sends its headers at once, then one byte every `every` seconds."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        handler.wfile.flush()
        stop = time.monotonic() + HANDLER_LIMIT_S
        for _ in range(size):
            if time.monotonic() > stop:
                break
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(every)

    return route


def huge(size: int, content_type: str = "application/json") -> Route:
    """A route announcing and streaming `size` bytes, written in pieces so it stops soon after the reader."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        piece = b"[" + b"1," * 32767 + b"1"
        sent = 0
        while sent < size:
            chunk = piece[: size - sent]
            handler.wfile.write(chunk)
            sent += len(chunk)

    return route


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do, so session reuse is exercised
    server: LocalWebServer

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches on
        self.server.seen.append((self.path, dict(self.headers)))
        route = self.server.routes.get(urlsplit(self.path).path)
        try:
            if route is None:
                send(self, 404, b"no such route")
            else:
                route(self)
        except OSError:
            # The client gave up first (timeout, size cap): that is what the test wanted.
            self.close_connection = True

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature is http.server's
        pass


class LocalWebServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a route table the test fills."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []


class LocalWeb:
    """A running local server: `route(path, fn)` sets an answer, `url(path)` addresses it."""

    def __init__(self) -> None:
        self.server = LocalWebServer()
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def route(self, path: str, route: Route) -> str:
        """Install an answer for `path` and return its URL."""
        self.server.routes[path] = route
        return self.url(path)

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def seen(self) -> list[tuple[str, dict[str, str]]]:
        """(path with query, headers) of every request so far."""
        return self.server.seen

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def web() -> Iterator[LocalWeb]:
    """A fresh local HTTP server for one test."""
    server = LocalWeb()
    yield server
    server.stop()


def local_session() -> requests.Session:
    """A session that never goes through a proxy from the environment: tests talk to 127.0.0.1 only."""
    session = requests.Session()
    session.trust_env = False
    return session


@pytest.fixture
def context() -> CollectorContext:
    """Real I/O, except that HTTP ignores proxy settings."""
    return CollectorContext(session_factory=local_session)


@pytest.fixture
def now() -> datetime:
    """The poll time handed to collect()."""
    return datetime.now(UTC)


@pytest.fixture
def build(context: CollectorContext) -> Iterator[Callable[..., Any]]:
    """`build(Class, {settings}, context=None)`: validate like the config loader, construct, close after."""
    made: list[Collector] = []

    def make(cls: type[Collector], raw: dict[str, Any], ctx: CollectorContext | None = None) -> Any:
        settings = cls.settings_model.model_validate({"name": "under-test", **raw})
        collector = cls(settings, ctx or context)
        made.append(collector)
        return collector

    yield make
    for collector in made:
        collector.close()


def failure(call: Callable[[], object]) -> Any:
    """Run a collect that must fail and return its CollectError."""
    with pytest.raises(CollectError) as caught:
        call()
    return caught.value


def by_metric(samples: list[Any]) -> dict[str, float]:
    """{metric: value}, asserting no metric appears twice."""
    values = {sample.metric: sample.value for sample in samples}
    assert len(values) == len(samples), samples
    return values
