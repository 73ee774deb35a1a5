"""The shared snapshot against a real local HTTP server: one fetch per period however many sessions ask."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.api_client import DaemonClient
from app.hub import SnapshotHub

BOARD = {"at": "2024-11-11T15:30:00+00:00", "campaign": {"name": "n", "timezone": "UTC"},
         "tiles": [{"metric": "cpu", "value": 97.0, "level": "red"}]}


class FakeDaemon(ThreadingHTTPServer):
    """Serves /api/v1/board and /api/v1/alerts and counts the requests per path."""

    daemon_threads = True

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's dispatch name
                path = self.path.split("?")[0]
                with server.lock:
                    server.counts[path] = server.counts.get(path, 0) + 1
                body = json.dumps(BOARD if path == "/api/v1/board" else {"alerts": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def daemon():
    server = FakeDaemon()
    yield server
    server.shutdown()
    server.server_close()


def test_thirty_sessions_cause_one_fetch_per_period(daemon):
    now = [1000.0]
    hub = SnapshotHub(DaemonClient(daemon.base), 1.0, clock=lambda: now[0])
    seen = []

    def session() -> None:
        for _ in range(3):
            seen.append(hub.current().seq)

    for _period in range(4):
        threads = [threading.Thread(target=session) for _ in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        now[0] += 1.0
    # Four periods, 30 sessions asking three times each: four fetches of each answer, not 360.
    assert daemon.counts == {"/api/v1/board": 4, "/api/v1/alerts": 4}
    assert hub.stats.fetches == 4 and set(seen) == {1, 2, 3, 4}


def test_html_is_built_once_per_snapshot(daemon):
    hub = SnapshotHub(DaemonClient(daemon.base), 1.0, clock=lambda: 5.0)
    builds = []
    for _ in range(20):
        snap = hub.current()
        hub.memo(("wall", snap.seq, "zh-CN"), lambda: builds.append(1) or "<div/>")
    assert len(builds) == 1 and hub.stats.memo_hits == 19


def test_a_session_never_waits_behind_a_fetch(daemon):
    now = [0.0]
    hub = SnapshotHub(DaemonClient(daemon.base), 1.0, clock=lambda: now[0])
    first = hub.current()
    now[0] = 2.0
    with hub._fetching:  # another session is fetching right now
        assert hub.current() is first  # the held snapshot, at once


def test_the_kiosk_wall_waits_briefly_for_a_fetch_under_way(daemon):
    now = [0.0]
    hub = SnapshotHub(DaemonClient(daemon.base), 1.0, clock=lambda: now[0])
    first = hub.current()
    now[0] = 2.0
    hub._fetching.acquire()  # another session's fetch, finishing 0.1 s from now
    threading.Timer(0.1, lambda: (setattr(hub, "_snap", hub._fetch(first)), hub._fetching.release())).start()
    assert hub.current(0.5, wait_s=0.5).seq == first.seq + 1


def test_daemon_gone_keeps_the_last_board_and_says_since_when(daemon):
    now = [0.0]
    hub = SnapshotHub(DaemonClient(daemon.base), 1.0, clock=lambda: now[0])
    good = hub.current()
    daemon.shutdown()
    daemon.server_close()
    now[0] = 30.0
    down = hub.current()
    assert down.error is not None and down.board == good.board and down.down_for == 30.0
    assert down.alerts_state == "unknown" and down.seq == good.seq + 1


def test_a_full_collection_at_most_every_thirty_seconds(daemon):
    import gc
    import time

    now = [0.0]
    hub = SnapshotHub(DaemonClient(daemon.base), 1.0, clock=lambda: now[0])
    hub.current()
    hub._last_gc = time.monotonic() - 31
    now[0] = 2.0
    full = gc.get_stats()[2]["collections"]
    hub.current()
    assert gc.get_stats()[2]["collections"] >= full + 1
    assert time.monotonic() - hub._last_gc < 5  # and the next one is 30 s away
