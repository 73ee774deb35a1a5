"""The one local webhook receiver of the tests and benches: everybody's phone, and Alertmanager's webhook.

Every POST is recorded the moment it arrives, with the time, the path (the role, or any name) and the
JSON body, before the receiver answers. A path can answer late (`delay_s`, `slow`), answer 500
(`fail`, `failing`), or be held until the test lets it go (`hold` / `release`), so a test can show
what happened while a slow channel was still busy instead of timing it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# No handler sleeps or waits longer than this, so no test or bench can hang on a receiver.
DELAY_LIMIT_S = 10.0
HOLD_LIMIT_S = 30.0


@dataclass(frozen=True)
class Received:
    """One POST as the receiver saw it."""

    t: float
    """time.time() when the request arrived (before any delay or hold)."""
    path: str
    """The URL path without the leading slash and the query: `tech_lead`, `am/steady`."""
    body: dict[str, Any]
    status: int
    """What the receiver answered (or will answer, while the request is held): 200 or 500."""


class Receiver(ThreadingHTTPServer):
    """Webhooks on 127.0.0.1:<free port>; `url(path)` is a channel to `path`.

    `delay_s` delays every answer and `slow[path]` one path's; `fail` answers 500 on every path and
    `failing` on some; `hold(path)` keeps that path's requests open until `release(path)`.
    """

    daemon_threads = True

    def __init__(self, delay_s: float = 0.0, fail: bool = False) -> None:
        self.messages: list[Received] = []
        self.delay_s, self.fail = delay_s, fail
        self.slow: dict[str, float] = {}
        self.failing: set[str] = set()
        self._gates: dict[str, threading.Event] = {}
        self._held: dict[str, int] = {}
        self._cv = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                path = self.path.split("?", 1)[0].strip("/")
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"unparsed": raw.decode(errors="replace")}
                status = 500 if receiver.fail or path in receiver.failing else 200
                receiver._arrived(Received(time.time(), path, body, status))
                receiver._wait(path)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        """The bound port."""
        return self.server_address[1]

    def url(self, path: str, scheme: str = "json") -> str:
        """`json://127.0.0.1:PORT/path` (an Apprise channel) or, with scheme="http", a plain webhook URL."""
        return f"{scheme}://127.0.0.1:{self.port}/{path.strip('/')}"

    def _arrived(self, message: Received) -> None:
        with self._cv:
            self.messages.append(message)
            self._cv.notify_all()

    def _wait(self, path: str) -> None:
        with self._cv:
            gate = self._gates.get(path)
            if gate is not None:
                self._held[path] = self._held.get(path, 0) + 1
                self._cv.notify_all()
        if gate is not None:
            gate.wait(HOLD_LIMIT_S)
            with self._cv:
                self._held[path] -= 1
        time.sleep(min(self.slow.get(path, self.delay_s), DELAY_LIMIT_S))

    def hold(self, path: str) -> None:
        """Keep every request to `path` open, unanswered, until `release(path)` (or HOLD_LIMIT_S)."""
        with self._cv:
            self._gates.setdefault(path, threading.Event())

    def release(self, path: str) -> None:
        """Answer the held requests to `path`, and stop holding it."""
        with self._cv:
            gate = self._gates.pop(path, None)
        if gate is not None:
            gate.set()

    def held(self, path: str) -> int:
        """How many requests to `path` are being held open right now."""
        with self._cv:
            return self._held.get(path, 0)

    def to(self, path: str) -> list[dict[str, Any]]:
        """The body of every POST to `path`, oldest first (answered 500 ones too)."""
        with self._cv:
            return [m.body for m in self.messages if m.path == path]

    def snapshot(self) -> list[Received]:
        """Everything received so far."""
        with self._cv:
            return list(self.messages)

    def wait(self, pick: Callable[[list[Received]], Any], timeout: float) -> Any:
        """What `pick` finds in the messages, waiting for it at most `timeout` seconds (None at the deadline)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                found = pick(self.messages)
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found or None
                self._cv.wait(min(left, 0.5))

    def stop(self) -> None:
        """Let held requests go and stop serving."""
        with self._cv:
            gates, self._gates = list(self._gates.values()), {}
        for gate in gates:
            gate.set()
        self.shutdown()
        self.server_close()
