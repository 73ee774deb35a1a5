"""The pager against real webhook receivers: slow ones, failing ones, and a restart in the middle."""

from __future__ import annotations

import time

import pytest

from alerts.engine import AlertEngine
from tests.alerts.conftest import Clock, config, push
from tests.harness.receiver import Receiver
from warroom.config.channels import shown
from warroom.store.database import Store


def wait(probe, timeout=15.0):
    """Poll `probe` until it is truthy; the timeout only bounds a hang."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.02)
    return False


def events(store, *names, role=None):
    """(event, channel, detail) rows of the alert log, oldest first."""
    rows = store.execute(f"SELECT event, channel, detail, role FROM alert_events WHERE event IN "
                         f"({', '.join('?' * len(names))}) ORDER BY rowid", list(names)).fetchall()
    return [r[:3] for r in rows if role is None or r[3] == role]


@pytest.fixture
def receivers():
    server = Receiver()
    yield server
    server.stop()


def engine_with(tmp_path, receivers, channels, store=None, **alerts):
    loaded = config(**alerts)
    for role, paths in channels.items():
        loaded.config.people[role].channels = [receivers.url(p) for p in paths]
    store = store or Store(tmp_path / "pager.duckdb")
    engine = AlertEngine(loaded, store, Clock(), tick=3600)
    engine.start({})
    return engine, store


def test_a_slow_receiver_delays_nobody_else(tmp_path, receivers):
    receivers.hold("tech_slow")  # the tech lead's webhook takes the request and does not answer
    engine, store = engine_with(tmp_path, receivers, {"tech_lead": ["tech_slow"], "ops_lead": ["ops"],
                                                       "general_manager": ["gm"]}, delivery_timeout="30s")
    try:
        clock = engine.clock
        for metric, value in (("cpu", 85), ("success", 94)):  # two pages queue up for the slow tech lead
            push(engine, clock, metric, value)
        assert wait(lambda: receivers.held("tech_slow") == 1), "the tech lead's first page never arrived"
        push(engine, clock, "db", 90)  # orange: the operations lead, on a healthy webhook
        # measured 3.7 s behind six slow pages when the pager had four shared workers; a page that waits
        # for the tech lead's lane never arrives while that lane is held
        assert wait(lambda: events(store, "delivered", role="ops_lead")), "the ops page waited for the slow lane"
        assert len(receivers.to("ops")) == 1
        assert receivers.held("tech_slow") == 1 and len(receivers.to("tech_slow")) == 1  # still held, 2nd queued
        assert events(store, "delivered", "unconfirmed", "delivery_failed", role="tech_lead") == []
        receivers.release("tech_slow")
        assert wait(lambda: len(events(store, "delivered", role="tech_lead")) == 2)
        assert len(receivers.to("tech_slow")) == 2
    finally:
        receivers.release("tech_slow")
        engine.stop()
        store.close()


def test_a_page_not_answered_in_time_is_unconfirmed_never_sent_again(tmp_path, receivers):
    receivers.hold("tech_slow")
    engine, store = engine_with(tmp_path, receivers, {"tech_lead": ["tech_slow"]},
                                delivery_timeout="1s", retry_backoff="10ms")
    try:
        clock = engine.clock
        for metric, value in (("cpu", 85), ("success", 94)):
            push(engine, clock, metric, value)
        # each page's outcome is decided once: a page given up on is retried only after a delivery_failed row
        assert wait(lambda: len(events(store, "unconfirmed", "delivered", "delivery_failed", "undelivered")) == 2)
        outcomes = events(store, "unconfirmed", "delivered", "delivery_failed", "undelivered")
        assert [event for event, _, _ in outcomes] == ["unconfirmed", "unconfirmed"]
        assert engine.pager.queued() == 0  # nothing waits for a retry
        titles = [b["title"] for b in receivers.to("tech_slow")]
        # two alerts, two pages, each once: no reply in time is "may have arrived", never re-sent
        assert len(titles) == 2 and len(set(titles)) == 2
    finally:
        receivers.release("tech_slow")
        engine.stop()
        store.close()


def test_a_restart_resumes_exactly_the_deliveries_not_confirmed(tmp_path, receivers):
    receivers.failing.add("gm_bot")
    channels = {"general_manager": ["gm_bot", "gm_mail"]}  # two channels on one host
    engine, store = engine_with(tmp_path, receivers, channels, retry_backoff="30s")
    push(engine, engine.clock, "cpu", 97)
    assert wait(lambda: receivers.to("gm_mail") and receivers.to("gm_bot"))
    assert wait(lambda: len(events(store, "delivery_failed")) == 1)
    engine.stop()  # killed while the bot's retry waits 30 s
    receivers.failing.clear()
    restarted, _ = engine_with(tmp_path, receivers, channels, store=store, retry_backoff="30s")
    try:
        bot, mail = shown(receivers.url("gm_bot")), shown(receivers.url("gm_mail"))
        assert wait(lambda: events(store, "delivered", role="general_manager") and
                    {channel for _, channel, _ in events(store, "delivered")} == {bot, mail})
        delivered = {channel: detail for _, channel, detail in events(store, "delivered")}
        assert delivered[bot].startswith("attempt 2")  # the attempt it had used before the stop still counts
        # Another alert for the GM now: a page re-queued at the restart would travel each lane (first in, first
        # out) ahead of it or grouped with it, so each channel's last page is this one, alone, and its first
        # pages are the one delivery each that the CPU alert needed.
        push(restarted, restarted.clock, "success", 70)
        assert wait(lambda: len(receivers.to("gm_mail")) >= 2 and len(receivers.to("gm_bot")) >= 3)
        assert [m["title"].split(" ", 2)[1] for m in receivers.to("gm_mail")] == ["CPU", "Orders"]
        assert [m["title"].split(" ", 2)[1] for m in receivers.to("gm_bot")] == ["CPU", "CPU", "Orders"]
    finally:
        restarted.stop()
        store.close()


def test_when_the_next_tier_is_unreachable_too_the_chain_goes_on_and_says_when_it_ends(tmp_path, receivers):
    receivers.failing.update({"tech", "ops"})
    engine, store = engine_with(tmp_path, receivers, {"tech_lead": ["tech"], "ops_lead": ["ops"],
                                                       "general_manager": ["gm"]},
                                retry_backoff="10ms", max_delivery_failures=1)
    try:
        push(engine, engine.clock, "cpu", 85)  # yellow: tech lead (down) → ops lead (down) → GM
        assert wait(lambda: receivers.to("gm"))
        assert receivers.to("gm")[0]["title"].startswith("[NOT ACKNOWLEDGED · ESCALATED]")
        receivers.failing.add("gm")
        alert = engine.open[("cpu", "level")]
        assert alert.escalated_to == "general_manager" and not alert.exhausted
    finally:
        engine.stop()
        store.close()


def test_a_leader_thawed_between_launch_and_send_sends_nothing_until_sure(tmp_path, receivers):
    # Found by bench/failover_bench.py (sigstop trials): a leader frozen after a page's launch and thawed after the
    # new leader had resent it sent its own copy too: leadership was checked at the launch only, not at the send.
    engine, store = engine_with(tmp_path, receivers, {"general_manager": ["gm"]})
    asked, sure = [], []

    def may_send():
        asked.append(True)
        return len(asked) == 1 or bool(sure)  # leading at the launch; frozen, and unsure, by the send

    engine.pager.may_send = may_send
    try:
        push(engine, engine.clock, "success", 70)
        assert wait(lambda: len(asked) >= 2 or receivers.to("gm")), "the page was never launched"
        assert receivers.to("gm") == [], "sent although this node was not sure it still led"
        sure.append(True)
        assert wait(lambda: receivers.to("gm")), "the page put back was never sent"
        assert wait(lambda: engine.pager.sent == 1) and len(receivers.to("gm")) == 1
    finally:
        engine.stop()
        store.close()
