"""The one local webhook receiver of the tests and benches: everybody's phone, and Alertmanager's webhook.

`Hang` is its opposite: channels that take a request and never answer (a chat provider that hangs).

Every POST is recorded the moment it arrives, with the time, the path (the role, or any name) and the
JSON body, before the receiver answers. A path can answer late (`delay_s`, `slow`), answer 500
(`fail`, `failing`), or be held until the test lets it go (`hold` / `release`), so a test can show
what happened while a slow channel was still busy instead of timing it.
"""

from __future__ import annotations

import json
import socket
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
        self._only: dict[str, Callable[[dict[str, Any]], bool]] = {}
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
                receiver._wait(path, body)
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

    def _wait(self, path: str, body: dict[str, Any]) -> None:
        with self._cv:
            gate = self._gates.get(path)
            only = self._only.get(path)
            if gate is not None and only is not None and not only(body):
                gate = None
            if gate is not None:
                self._held[path] = self._held.get(path, 0) + 1
                self._cv.notify_all()
        if gate is not None:
            gate.wait(HOLD_LIMIT_S)
            with self._cv:
                self._held[path] -= 1
        time.sleep(min(self.slow.get(path, self.delay_s), DELAY_LIMIT_S))

    def hold(self, path: str, only: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """Keep every request to `path` (or those whose body `only` picks) open, unanswered, until `release(path)`."""
        with self._cv:
            self._gates.setdefault(path, threading.Event())
            if only is not None:
                self._only[path] = only

    def release(self, path: str) -> None:
        """Answer the held requests to `path`, and stop holding it."""
        with self._cv:
            gate = self._gates.pop(path, None)
            self._only.pop(path, None)
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


class Hang:
    """Hanging channels on 127.0.0.1:<free port>: every connection is accepted and its request read, never answered.

    `trickle_s` > 0 answers one byte of a status line every `trickle_s` seconds instead, so a client's read
    timeout never fires (each byte resets it): only a deadline of the client's own ends the wait.
    `url(path)` is a channel; `requests(path)` the JSON bodies that reached `path`, one per connection.
    """

    def __init__(self, trickle_s: float = 0.0) -> None:
        self.trickle_s = trickle_s
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=512)
        self._sock.settimeout(0.2)
        self._cv = threading.Condition()
        self._bodies: list[tuple[str, dict[str, Any]]] = []
        self._conns: list[socket.socket] = []
        self._stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True, name="hang accept").start()

    @property
    def port(self) -> int:
        """The bound port."""
        return self._sock.getsockname()[1]

    def url(self, path: str, scheme: str = "json") -> str:
        """`json://127.0.0.1:PORT/path`, an Apprise channel that hangs."""
        return f"{scheme}://127.0.0.1:{self.port}/{path.strip('/')}"

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._cv:
                self._conns.append(conn)
            threading.Thread(target=self._hold, args=(conn,), daemon=True, name="hang conn").start()

    def _hold(self, conn: socket.socket) -> None:
        raw = b""
        conn.settimeout(0.2)
        while b"\r\n\r\n" not in raw and not self._stopping.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length and not self._stopping.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                break
            body += chunk
        path = head.split(b" ", 2)[1].decode(errors="replace").split("?", 1)[0].strip("/") if b" " in head else ""
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            parsed = {"unparsed": body.decode(errors="replace")}
        with self._cv:
            self._bodies.append((path, parsed))
            self._cv.notify_all()
        # A status line, then a header that never ends: one byte at a time, never a whole answer.
        drip = b"HTTP/1.1 200 OK\r\nX-Wait: " + b"1" * 1_000_000
        i = 0
        while not self._stopping.wait(self.trickle_s if self.trickle_s > 0 else 0.5):
            if self.trickle_s > 0 and i < len(drip):
                try:
                    conn.sendall(drip[i:i + 1])
                except OSError:
                    return
                i += 1

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The body of every request that reached `path` (any path when None), oldest first."""
        with self._cv:
            return [body for p, body in self._bodies if path is None or p == path]

    def wait(self, count: int, timeout: float) -> bool:
        """True once `count` requests were read (False at the deadline)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while len(self._bodies) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.5))
            return True

    def stop(self) -> None:
        """Close every held connection and the listening socket."""
        self._stopping.set()
        with self._cv:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()
        self._sock.close()
