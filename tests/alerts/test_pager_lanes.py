"""The pager against real webhook receivers: slow ones, failing ones, and a restart in the middle."""

from __future__ import annotations

import time

import pytest

from alerts.engine import AlertEngine
from tests.alerts.conftest import Clock, config, push
from tests.alerts.receivers import Receivers
from warroom.config.channels import shown
from warroom.store.database import Store


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
        t0 = time.time()
        push(engine, clock, "db", 90)  # orange: the operations lead, on a healthy webhook
        assert wait(lambda: receivers.to("ops"))
        arrived = next(t for t, path, _ in receivers.messages if path == "ops")
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
