"""The board's API client against a real local HTTP server: bounded calls, outage clock, errors, token."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.api_client import Actor, ApiRefused, DaemonClient, DaemonUnreachable, EndpointMissing, TokenMissing
from tests.realparts import free_port

TOKEN = "board-secret-token-1"


class FakeDaemonHandler(BaseHTTPRequestHandler):
    """Answers like the daemon's API does: JSON bodies, its error shape, FastAPI's 404 for unknown routes."""

    protocol_version = "HTTP/1.1"
    server: Any

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.seen.append((method, self.path, dict(self.headers), body))
        path = self.path.split("?")[0]
        if path == "/api/v1/board":
            self._send(200, {"at": "2024-11-11T15:30:00+00:00", "tiles": [], "campaign": {}})
        elif path == "/api/v1/slow":
            time.sleep(3)
            self._send(200, {})
        elif path == "/api/v1/series":
            self._send(422, {"error": {"message": "from: 'soon' is not an ISO-8601 time", "field": "from"}})
        elif path == "/api/v1/alerts/1/ack":
            ok = self.headers.get("Authorization") == f"Bearer {TOKEN}"
            self._send(200 if ok else 403, {"id": 1, "acked_by": "ops_lead"} if ok else
                       {"error": {"message": "missing or wrong token", "field": "authorization"}})
        elif path == "/api/v1/runsheet/0/done":
            self._send(200, {"index": 0, "done": True})
        else:
            self._send(404, {"detail": "Not Found"})

    def do_GET(self) -> None:  # noqa: N802 - http.server's dispatch name
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def daemon() -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDaemonHandler)
    server.daemon_threads = True
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def base(server: Any) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_reads_json_and_sends_series_parameters(daemon):
    client = DaemonClient(base(daemon))
    assert client.board()["at"] == "2024-11-11T15:30:00+00:00"
    with pytest.raises(ApiRefused) as refused:
        client.series(["a", "b"], "soon", "now", 60)
    assert refused.value.status == 422 and refused.value.field == "from"
    _, path, _, _ = daemon.seen[-1]
    assert "metric=a" in path and "metric=b" in path and "points=60" in path and "from=soon" in path


def test_missing_route_is_endpoint_missing_not_a_crash(daemon):
    with pytest.raises(EndpointMissing) as missing:
        DaemonClient(base(daemon)).runsheet()
    assert missing.value.path == "/api/v1/runsheet"


def test_unreachable_daemon_reports_since_when_until_it_answers_again(daemon):
    clock = [1000.0]
    closed = DaemonClient(f"http://127.0.0.1:{free_port()}", clock=lambda: clock[0])
    with pytest.raises(DaemonUnreachable) as first:
        closed.board()
    clock[0] = 1030.0
    with pytest.raises(DaemonUnreachable) as second:
        closed.board()
    # The outage started at the first failure; later failures keep that moment.
    assert first.value.since == second.value.since == 1000.0 == closed.down_since
    assert second.value.reason == "connection refused"
    closed.base = base(daemon)
    closed.board()
    assert closed.down_since is None


def test_every_call_is_bounded_to_two_seconds(daemon):
    client = DaemonClient(base(daemon), timeout=30)
    started = time.monotonic()
    with pytest.raises(DaemonUnreachable) as slow:
        client.get("/api/v1/slow")
    assert time.monotonic() - started < 2.9
    assert "no answer within 2 s" in slow.value.reason


def test_writes_need_the_token_and_send_it_as_bearer_with_who_acts(daemon):
    person = Actor(session="sess-1234")
    reader = DaemonClient(base(daemon))
    assert not reader.can_write
    with pytest.raises(TokenMissing):
        reader.ack(1, person)
    assert not any(method == "POST" for method, *_ in daemon.seen)
    writer = DaemonClient(base(daemon), token=TOKEN)
    assert writer.ack(1, person, "switching to backup") == {"id": 1, "acked_by": "ops_lead"}
    _, _, headers, body = daemon.seen[-1]
    # the board token says a machine may write; the session says which person acts (never a role in the body)
    assert headers["Authorization"] == f"Bearer {TOKEN}" and headers["X-Warroom-Session"] == "sess-1234"
    assert body == {"note": "switching to backup"}
    writer.step_done(0, Actor(wall="tech"))
    _, _, headers, _ = daemon.seen[-1]
    assert headers["X-Warroom-Wall"] == "tech" and "X-Warroom-Session" not in headers
    assert "sess-1234" not in repr(person)
    with pytest.raises(ApiRefused) as refused:
        DaemonClient(base(daemon), token="wrong").ack(1, person)
    assert refused.value.status == 403


def test_token_never_shows_in_repr():
    client = DaemonClient("http://127.0.0.1:1", token=TOKEN)
    assert TOKEN not in repr(client) and "token=set" in repr(client)
