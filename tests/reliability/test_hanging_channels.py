"""Hanging chat providers (sockets that take a page and never answer): they delay nobody else and page nobody twice.

Apprise ran every send with a deadline through one shared pool of about six workers: eight hanging
channels filled it, a healthy channel's page waited in its queue, was logged `delivery_failed` and sent
again. Each lane now sends on its own thread; these tests use real sockets, no stand-in for Apprise.
"""

from __future__ import annotations

import time

import pytest

from alerts.engine import AlertEngine
from tests.alerts.conftest import Clock, config, push
from tests.harness.receiver import Hang, Receiver
from warroom.config.channels import shown
from warroom.config.load import parse_config
from warroom.store.database import Store

OUTCOMES = ("delivered", "unconfirmed", "delivery_failed", "undelivered")
GIVE_UP_S = 45.0  # bounds a hang only; every wait ends on its condition


def wait(probe, timeout=GIVE_UP_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := probe()):
            return found
        time.sleep(0.02)
    return None


def outcomes(store, channel=None):
    """(event, channel, detail) of every delivery outcome, oldest first."""
    found = store.execute(f"SELECT event, channel, detail FROM alert_events WHERE event IN "
                          f"({', '.join('?' * len(OUTCOMES))}) ORDER BY rowid", list(OUTCOMES)).fetchall()
    return [tuple(r) for r in found if channel is None or r[1] == channel]


@pytest.fixture
def parts():
    hang, inbox = Hang(), Receiver()
    yield hang, inbox
    inbox.stop()
    hang.stop()


@pytest.fixture
def engine_for(tmp_path):
    made = []

    def make(people, forward=(), **alerts):
        raw = config(**alerts).config.model_dump(by_alias=True, exclude_none=True)
        for role, channels in people.items():
            raw["people"][role]["channels"] = channels
        raw["alerts"]["forward"] = list(forward)
        store = Store(tmp_path / "hang.duckdb")
        engine = AlertEngine(parse_config(raw, env={}), store, Clock(), tick=3600)
        engine.start({})
        made.append((engine, store))
        return engine, store

    yield make
    for engine, store in made:
        engine.stop()
        store.close()


def test_eight_hanging_providers_delay_nobody_else(parts, engine_for):
    hang, inbox = parts
    hanging = [hang.url(f"team{i}") for i in range(8)]  # eight team chats that take a page and never answer
    engine, store = engine_for({"general_manager": [inbox.url("gm")], "dba": [inbox.url("dba")]},
                               forward=hanging, delivery_timeout="60s")
    push(engine, engine.clock, "db", 75)  # yellow for the DBA: the eight team chats take it and hang
    assert hang.wait(6, GIVE_UP_S)  # six: as many as Apprise's shared pool had workers on this host
    push(engine, engine.clock, "cpu", 97)  # red: the GM's own chat is healthy
    # measured before: the GM's page waited in Apprise's pool behind the hanging sends for their whole
    # timeout (only 6 of 8 were ever under way), and pages that waited there were logged delivery_failed
    gm = shown(inbox.url("gm"))
    assert wait(lambda: outcomes(store, gm)), "the GM's page waited for the hanging channels"
    assert [o[0] for o in outcomes(store, gm)] == ["delivered"] and len(inbox.to("gm")) == 1
    assert [o[0] for o in outcomes(store, shown(inbox.url("dba")))] == ["delivered"]
    assert hang.wait(8, GIVE_UP_S), f"only {len(hang.requests())} of 8 hanging sends were under way at once"
    # all eight still hanging on their own lanes (the red page waits behind the yellow one on each)
    assert [o for o in outcomes(store) if o[1] not in (gm, shown(inbox.url("dba")))] == []
    # (the healthy sends' carriers end a moment after their outcome row: wait for them, not for a time)
    assert wait(lambda: engine.pager.in_flight() == 8 and engine.pager.queued() == 8), \
        (engine.pager.in_flight(), engine.pager.queued())


def test_a_page_whose_fate_is_unknown_is_unconfirmed_and_sent_once(parts, engine_for):
    hang, inbox = parts
    engine, store = engine_for({"general_manager": [hang.url("gm_chat"), "json://127.0.0.1:9/gm_refused"]},
                               delivery_timeout="1s", retry_backoff="10ms", max_delivery_failures=3)
    push(engine, engine.clock, "cpu", 97)
    chat, refused = shown(hang.url("gm_chat")), shown("json://127.0.0.1:9/gm_refused")
    assert wait(lambda: outcomes(store, chat) and len(outcomes(store, refused)) == 3)
    (unconfirmed,) = outcomes(store, chat)  # the request went out and no answer came: it may have arrived
    assert unconfirmed[0] == "unconfirmed" and "no answer after" in unconfirmed[2]
    assert len(hang.requests("gm_chat")) == 1  # ... so it is never sent again
    # a refused connection is known not to have arrived: retried, then given up
    assert [o[0] for o in outcomes(store, refused)] == ["delivery_failed", "delivery_failed", "undelivered"]
    alert = engine.open[("cpu", "level")]
    assert alert.ack_clock_at is not None  # "sent, no answer" starts the GM's time to acknowledge
    # the chat may have reached him: the refused channel giving up escalates nothing
    assert alert.escalated_to is None and not alert.exhausted
    assert engine.pager.queued() == 0 and len(hang.requests("gm_chat")) == 1


def test_a_provider_that_trickles_its_answer_is_cut_off_at_the_lane_deadline(engine_for):
    trickle, inbox = Hang(trickle_s=0.3), Receiver()  # one byte every 0.3 s: a read timeout of 1 s never fires
    try:
        engine, store = engine_for({"general_manager": [trickle.url("gm_chat"), inbox.url("gm")]},
                                   delivery_timeout="1s", retry_backoff="10ms")
        push(engine, engine.clock, "cpu", 97)
        chat = shown(trickle.url("gm_chat"))
        assert wait(lambda: outcomes(store, chat))
        (cut,) = outcomes(store, chat)
        assert cut[0] == "unconfirmed" and "the lane stopped waiting" in cut[2]
        assert engine.pager.abandoned == 1 and len(trickle.requests("gm_chat")) == 1
        assert [o[0] for o in outcomes(store, shown(inbox.url("gm")))] == ["delivered"]
    finally:
        inbox.stop()
        trickle.stop()
