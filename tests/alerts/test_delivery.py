"""Pages reach the decider on time: the ack clock runs from arrival; a page that asks never waits behind one that tells.

Real webhook receivers (tests/harness/receiver.py) hold a page unanswered while the test moves the engine's
clock, so "the page is still on its way" is a state the test sees, not a timing it guesses.
"""

from __future__ import annotations

import threading
import time

import pytest

from alerts.engine import AlertEngine
from alerts.log import AlertLog
from alerts.notifiers import deliver
from alerts.notifiers.page import Page
from alerts.pager import PageJob, Pager
from tests.alerts.conftest import T0, Clock, config, notices, push
from tests.harness.receiver import Receiver
from warroom.config.load import parse_config
from warroom.record.alerts import alerts_at
from warroom.store.database import Store

GIVE_UP_S = 30.0  # bounds a hang only; every wait below ends on its condition


def wait(probe, timeout=GIVE_UP_S):
    """Poll `probe` until it is truthy; the timeout only bounds a hang."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := probe()):
            return found
        time.sleep(0.02)
    return None


def rows(store, event, role=None):
    """(ts, role, channel, detail) of one kind of alert-log row, oldest first."""
    found = store.execute("SELECT ts, role, channel, detail FROM alert_events WHERE event = ? ORDER BY rowid",
                          [event]).fetchall()
    return [r for r in found if role is None or r[1] == role]


def title(path):
    return lambda body: path in body.get("title", "")


@pytest.fixture
def receivers():
    server = Receiver()
    yield server
    server.release("gm")
    server.stop()


@pytest.fixture
def started(tmp_path, receivers):
    """`start(people=..., **alerts)`: an engine on a fake clock paging the receivers; stopped after."""
    engines, stores = [], []

    def start(people=None, levels=None, store=None, clock=None, **alerts):
        raw = config(**alerts).config.model_dump(by_alias=True, exclude_none=True)
        for role in raw["people"]:
            raw["people"][role]["channels"] = [receivers.url(role.replace("general_manager", "gm"))]
        for role, entry in (people or {}).items():
            raw["people"].setdefault(role, {}).update(entry)
        for level, entry in (levels or {}).items():
            raw["levels"][level].update(entry)
        if store is None:
            store = Store(tmp_path / "delivery.duckdb")
            stores.append(store)
        engine = AlertEngine(parse_config(raw, env={}), store, clock or Clock(), tick=3600)
        engine.start({})
        engines.append(engine)
        return engine, store

    yield start
    for engine in engines:
        engine.stop()
    for store in stores:
        store.close()


def test_the_time_to_acknowledge_starts_when_the_page_arrives(started, receivers):
    receivers.hold("gm")  # the GM's chat provider takes the page and answers only when the test says so
    engine, store = started(people={"deputy_gm": {"name": "Chen", "phone": "5", "channels": [receivers.url("deputy")]},
                                    "general_manager": {"deputy": "deputy_gm"}},
                            levels={"red": {"ack_timeout": "20s"}}, repeat_every="0s")
    clock = engine.clock
    push(engine, clock, "cpu", 97)  # red at T0: the GM decides
    assert wait(lambda: receivers.held("gm") == 1)
    alert = engine.open[("cpu", "level")]
    clock.advance(25)  # 25 s, past the 20 s ack_timeout, and the page still has not arrived
    engine.tick(clock.now)
    # measured before: the clock started when the page was queued, so the deputy was paged here,
    # before the GM ever had the page
    assert alert.escalated_to is None and alert.ack_clock_at is None
    assert [n for n in notices(store) if n[0] == "deputy_gm"] == []
    receivers.release("gm")
    assert wait(lambda: rows(store, "arrived", "general_manager"))
    assert alert.ack_clock_at == T0.replace(second=25)  # the engine's clock when the page arrived
    clock.advance(19.9)
    engine.tick(clock.now)
    assert alert.escalated_to is None  # 19.9 s after arrival: the GM still has his time
    clock.advance(0.1)
    engine.tick(clock.now)
    assert alert.escalated_to == "deputy_gm"  # exactly 20 s after the GM received the page
    assert wait(lambda: rows(store, "arrived", "deputy_gm"))
    assert alert.ack_clock_at == T0.replace(second=45)  # the deputy's own 20 s start at their arrival
    (arrived,) = rows(store, "arrived", "general_manager")
    assert arrived[3] == "page delivered: the time to acknowledge starts"
    # replay reads the same moment back from the trail: one truth for "since their page arrived"
    (replayed,) = alerts_at(store.reader(), clock.now, T0)
    assert replayed.ack_clock_at == alert.ack_clock_at and replayed.escalated_to == "deputy_gm"


def test_a_page_asking_to_decide_never_waits_behind_one_that_tells(started, receivers):
    engine, store = started(resolve_after="0s", repeat_every="0s")
    clock = engine.clock
    push(engine, clock, "cpu", 97)  # alert 1, red: the GM
    assert wait(lambda: rows(store, "arrived", "general_manager"))
    receivers.hold("gm", only=title("RESOLVED"))  # the GM's provider is slow to take the RESOLVED page
    clock.advance(5)
    push(engine, clock, "cpu", 10)
    engine.tick(clock.now)  # alert 1 resolves: the GM is told
    assert wait(lambda: receivers.held("gm") == 1)
    push(engine, clock, "success", 70)  # alert 2, red: the GM must decide
    # measured before: the red page waited on the lane until the RESOLVED page's send ended
    assert wait(lambda: [b for b in receivers.to("gm") if "Orders OK" in b["title"]])
    assert receivers.held("gm") == 1  # the RESOLVED page is still unanswered
    assert wait(lambda: len(rows(store, "delivered", "general_manager")) == 2)  # alert 1 opened, alert 2 opened
    receivers.release("gm")
    assert wait(lambda: len(rows(store, "delivered", "general_manager")) == 3)


def test_the_first_page_asking_a_person_is_never_held_by_the_group_window(tmp_path, receivers):
    store = Store(tmp_path / "window.duckdb")
    pager = Pager(AlertLog(store), 1, 1.0, lambda job: None, send=lambda url, page: deliver(url, page, 5.0),
                  group_window=300.0)  # the longest window the config allows
    pager.start()
    url = receivers.url("gm")

    def job(alert_id, kind, level, asking):
        page = Page(alert_id, "cpu", kind, level, f"{kind} #{alert_id}", "body", T0)
        return PageJob(f"{alert_id}:1:{kind}:{level}:gm", "general_manager", url, page, asking=asking)

    try:
        pager.submit(job(1, "resolved", "green", asking=False))  # tells: starts the lane's window
        assert wait(lambda: receivers.to("gm"))
        pager.submit(job(2, "opened", "red", asking=True))  # the first page asking the GM in this window
        # measured before: held until the window (300 s after the RESOLVED page) ended
        assert wait(lambda: len(receivers.to("gm")) == 2)
        assert receivers.to("gm")[1]["title"] == "opened #2"
        # (a second page asking the same person within the window is grouped: test_page_words.py)
    finally:
        pager.stop()
        store.close()


def test_a_higher_level_is_never_held_behind_a_lower_one(tmp_path, receivers):
    store = Store(tmp_path / "rise.duckdb")
    pager = Pager(AlertLog(store), 1, 1.0, lambda job: None, send=lambda url, page: deliver(url, page, 5.0),
                  group_window=300.0)
    pager.start()
    url = receivers.url("ops")

    def job(alert_id, level):
        page = Page(alert_id, "cpu", "opened", level, f"{level} #{alert_id}", "body", T0)
        return PageJob(f"{alert_id}:1:opened:{level}:ops", "ops_lead", url, page, asking=True)

    try:
        pager.submit(job(1, "yellow"))
        assert wait(lambda: receivers.to("ops"))
        pager.submit(job(2, "orange"))  # worse news than the page that opened the window: at once
        assert wait(lambda: len(receivers.to("ops")) == 2)
        assert receivers.to("ops")[1]["title"] == "orange #2"
    finally:
        pager.stop()
        store.close()


def test_a_page_put_back_while_a_node_is_not_yet_sure_it_leads_goes_out_once_it_is(tmp_path, receivers):
    # A node taking over resumes pages before it says it leads: the scheduler puts them back for a moment.
    store = Store(tmp_path / "unsure.duckdb")
    pager = Pager(AlertLog(store), 1, 1.0, lambda job: None, send=lambda url, page: deliver(url, page, 5.0))
    sure, asked = threading.Event(), threading.Event()

    def may_send() -> bool:
        asked.set()
        return sure.is_set()

    pager.may_send = may_send
    pager.start()
    page = Page(1, "failures", "opened", "red", "red #1 (resent after failover)", "body", T0)
    try:
        pager.submit(PageJob("1:1:opened:red:gm", "general_manager", receivers.url("gm"), page, asking=True))
        assert wait(asked.is_set)  # the scheduler looked while the node was not sure, and put the page back
        sure.set()
        # measured before: never sent (the scheduler slept with no wake-up for the page it put back)
        assert wait(lambda: receivers.to("gm")), f"still queued: {pager.queued()}"
    finally:
        pager.stop()
        store.close()


def test_a_resolved_no_data_page_says_the_data_is_back(rig):
    make, clock, phone, store = rig
    engine = make(config(success_stale="30s"))
    push(engine, clock, "success", 99)
    clock.advance(31)
    engine.tick(clock.now)  # nothing from the orders check for 31 s
    assert phone.got(n=1) == [("tech_lead", "opened", "yellow")]
    clock.advance(120)
    push(engine, clock, "success", 98.5)
    resolved = phone.got(n=2)[-1] and phone.pages[-1][3]
    assert resolved.kind == "resolved" and resolved.title.startswith("[RESOLVED] Orders OK 98.5%")
    # measured before: "no data since 15:20:00" and nothing else, as if it were still silent
    assert "data is back: a new sample at 15:22:31 · now 98.5%" in resolved.body
    assert "no data from 15:20:00 to 15:22:31 (2m31s)" in resolved.body
    assert "no data since" not in resolved.body


def test_a_page_on_its_way_at_a_restart_starts_the_clock_when_it_arrives_after(started, receivers):
    receivers.hold("gm")
    first, store = started(levels={"red": {"ack_timeout": "20s"}}, repeat_every="0s")
    clock = first.clock
    push(first, clock, "cpu", 97)
    assert wait(lambda: receivers.held("gm") == 1)
    first.stop()  # killed while the GM's page had no answer: its fate is unknown, it stays pending
    receivers.release("gm")
    clock.advance(60)
    second, _ = started(levels={"red": {"ack_timeout": "20s"}}, store=store, clock=clock, repeat_every="0s")
    alert = second.open[("cpu", "level")]
    assert wait(lambda: rows(store, "arrived", "general_manager"))  # resent at the start, and this time answered
    assert alert.ack_clock_at == T0.replace(minute=21)
    clock.advance(19.9)
    second.tick(clock.now)
    assert alert.escalated_to is None and not alert.exhausted
    assert len(receivers.to("gm")) == 2  # a page in flight at a stop is sent again: a duplicate, never a miss
