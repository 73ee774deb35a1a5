"""The pager against real webhook receivers: slow ones, failing ones, and a restart in the middle."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerts.engine import AlertEngine
from alerts.notifiers import shown
from tests.alerts.conftest import Clock, config, push
from warroom.store import Store


class Receivers(ThreadingHTTPServer):
    """Webhooks by path: `slow[path]` seconds before answering, `fail` paths answer 500."""

    daemon_threads = True

    def __init__(self):
        self.got: list[tuple[float, str, dict]] = []
        self.slow: dict[str, float] = {}
        self.fail: set[str] = set()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N802, N805
                path = handler.path.strip("/").split("?")[0]
                body = json.loads(handler.rfile.read(int(handler.headers.get("Content-Length", 0))) or b"{}")
                self.got.append((time.monotonic(), path, body))
                time.sleep(self.slow.get(path, 0.0))
                handler.send_response(500 if path in self.fail else 200)
                handler.end_headers()

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.server_address[1]}/{path}"

    def to(self, path: str) -> list[dict]:
        return [b for _, p, b in self.got if p == path]


def wait(probe, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def receivers():
    server = Receivers()
    yield server
    server.shutdown()


def engine_with(tmp_path, receivers, channels, store=None, **alerts):
    loaded = config(**alerts)
    for role, paths in channels.items():
        loaded.config.people[role].channels = [receivers.url(p) for p in paths]
    store = store or Store(tmp_path / "pager.duckdb")
    engine = AlertEngine(loaded, store, Clock(), tick=3600)
    engine.start({})
    return engine, store


def test_a_slow_receiver_gets_each_page_once_and_delays_nobody_else(tmp_path, receivers):
    receivers.slow["tech_slow"] = 2.5
    engine, store = engine_with(tmp_path, receivers, {"tech_lead": ["tech_slow"], "ops_lead": ["ops"],
                                                       "general_manager": ["gm"]},
                                delivery_timeout="1s", retry_backoff="10ms")
    try:
        clock = engine.clock
        for metric, value in (("cpu", 85), ("success", 94)):  # two pages queue up for the slow tech lead
            push(engine, clock, metric, value)
        t0 = time.monotonic()
        push(engine, clock, "db", 90)  # orange: the operations lead, on a healthy webhook
        assert wait(lambda: receivers.to("ops"))
        arrived = next(t for t, path, _ in receivers.got if path == "ops")
        assert arrived - t0 < 0.5  # measured 3.7 s behind six slow pages when the pager had four shared workers
        assert wait(lambda: store.execute("SELECT count(*) FROM alert_events WHERE event = 'unconfirmed'")
                    .fetchall()[0][0] >= 1, 6)
        time.sleep(3)  # long enough for any re-send to have arrived
        titles = [b["title"] for b in receivers.to("tech_slow")]
        # two alerts, two pages, each once: no reply in time is "may have arrived", never re-sent
        assert len(titles) == 2 and len(set(titles)) == 2
        events = [r[0] for r in store.execute("SELECT event FROM alert_events WHERE channel LIKE 'json%' "
                                              "AND role = 'tech_lead' ORDER BY ts").fetchall()]
        assert "delivery_failed" not in events and "unconfirmed" in events
    finally:
        engine.stop()
        store.close()


def test_a_restart_resumes_exactly_the_deliveries_not_confirmed(tmp_path, receivers):
    receivers.fail.add("gm_bot")
    channels = {"general_manager": ["gm_bot", "gm_mail"]}  # two channels on one host
    engine, store = engine_with(tmp_path, receivers, channels, retry_backoff="30s")
    push(engine, engine.clock, "cpu", 97)
    assert wait(lambda: receivers.to("gm_mail") and receivers.to("gm_bot"))
    assert wait(lambda: store.execute("SELECT count(*) FROM alert_events WHERE event = 'delivery_failed'")
                .fetchall()[0][0] == 1)
    engine.stop()  # killed while the bot's retry waits 30 s
    receivers.fail.clear()
    restarted, _ = engine_with(tmp_path, receivers, channels, store=store, retry_backoff="30s")
    try:
        assert wait(lambda: len(receivers.to("gm_bot")) == 2)
        time.sleep(0.5)
        assert len(receivers.to("gm_mail")) == 1  # confirmed before the stop: never again
        assert len(receivers.to("gm_bot")) == 2
        bot = shown(receivers.url("gm_bot"))
        detail = store.execute("SELECT detail FROM alert_events WHERE event = 'delivered' AND channel = ?",
                               [bot]).fetchall()[0][0]
        assert detail.startswith("attempt 2")  # the attempt it had used before the stop still counts
    finally:
        restarted.stop()
        store.close()


def test_when_the_next_tier_is_unreachable_too_the_chain_goes_on_and_says_when_it_ends(tmp_path, receivers):
    receivers.fail.update({"tech", "ops"})
    engine, store = engine_with(tmp_path, receivers, {"tech_lead": ["tech"], "ops_lead": ["ops"],
                                                       "general_manager": ["gm"]},
                                retry_backoff="10ms", max_delivery_failures=1)
    try:
        push(engine, engine.clock, "cpu", 85)  # yellow: tech lead (down) → ops lead (down) → GM
        assert wait(lambda: receivers.to("gm"))
        assert receivers.to("gm")[0]["title"].startswith("[NOT ACKNOWLEDGED · ESCALATED]")
        receivers.fail.add("gm")
        alert = engine.open[("cpu", "level")]
        assert alert.escalated_to == "general_manager" and not alert.exhausted
    finally:
        engine.stop()
        store.close()
