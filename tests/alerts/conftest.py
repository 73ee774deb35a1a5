"""The engine's test rig: a config of four people, an injected clock and a phone that records pages."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from alerts.engine import AlertEngine
from alerts.notifiers.page import Delivery
from warroom.config.load import parse_config
from warroom.store.database import Store
from warroom.values import Sample

T0 = datetime(2024, 11, 11, 15, 20, tzinfo=UTC)


def config(success_stale="1h", **alerts):
    people = {role: {"name": name, "phone": phone, "channels": [f"json://127.0.0.1:9/{role}"]}
              for role, name, phone in (("tech_lead", "Zhang", "1"), ("ops_lead", "Li", "2"),
                                        ("general_manager", "Wang", "3"), ("dba", "Zhao", "4"))}
    raw = {
        "campaign": {"name": "night", "end": "+1h", "locale": "en"},
        "people": people,
        "levels": {"yellow": {"owner": "tech_lead", "ack_timeout": "5m"},
                   "orange": {"owner": "ops_lead", "ack_timeout": "5m"},
                   "red": {"owner": "general_manager", "ack_timeout": "5m"}},
        "collectors": [],
        "metrics": {
            "cpu": {"title": "CPU", "unit": "%", "yellow": 80, "orange": 90, "red": 95, "clear": 2, "pushed": True,
                    "stale_after": "1h", "runbook": "https://wiki/cpu"},
            "db": {"title": "DB", "unit": "%", "yellow": 70, "orange": 85, "red": 95, "pushed": True,
                   "stale_after": "1h", "owner": {"yellow": "dba"}},
            "success": {"title": "Orders OK", "unit": "%", "direction": "below", "yellow": 95, "orange": 90,
                        "red": 80, "pushed": True, "stale_after": success_stale},
        },
        "alerts": {"resolve_after": "30s", "repeat_every": "2m", "retry_backoff": "10ms", "group_window": "0s",
                   **alerts},
    }
    return parse_config(raw, env={})


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)
        return self.now


class Phone:
    """Records every page; `fail` lists roles whose channel is down."""

    def __init__(self):
        self.pages = []
        self.fail = set()
        self.lock = threading.Lock()
        # The pager records a page's outcome (and starts the ack clock) after the phone took it: `got`
        # returns once those records are written, so a test's next clock step comes after the arrival.
        self.settled = lambda: True

    def __call__(self, url, page):
        role = url.rsplit("/", 1)[-1]
        with self.lock:
            self.pages.append((role, page.kind, page.level, page))
        return Delivery(False, "HTTP 500 from the bot") if role in self.fail else Delivery(True)

    def got(self, n, timeout=5.0):
        """Wait for the phone to hold exactly `n` pages (n >= 1) and return them as (role, kind, level).

        Fails when fewer than `n` arrive in time, or when more than `n` are already there: a stray page
        is a failure, not a pass. Silence cannot be waited for; to show that nothing was paged, assert on
        the notify rows the engine wrote (`notices`), which exist before any page is queued.
        """
        if n < 1:
            raise ValueError("got(n) waits for n >= 1 pages; to show nothing was paged, assert on notices(store)")
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                pages = [(r, k, lv) for r, k, lv, _ in self.pages]
            if len(pages) > n:
                raise AssertionError(f"expected {n} page(s), got {len(pages)}: {pages}")
            if len(pages) == n and self.settled():
                return pages
            if time.monotonic() >= deadline:
                raise AssertionError(f"expected {n} page(s) within {timeout:g}s, got {len(pages)}: {pages}")
            time.sleep(0.01)

    def clear(self):
        with self.lock:
            self.pages.clear()


@pytest.fixture
def rig(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_ACK_SECRET", "s3cret-for-tests")
    clock, phone = Clock(), Phone()
    store = Store(tmp_path / "alerts.duckdb")
    engines = []

    def make(loaded=None):
        engine = AlertEngine(loaded or config(), store, clock, send=phone, tick=3600)
        phone.settled = lambda: engine.pager.in_flight() == 0
        engine.start({m: (clock.now, None) for m in ("cpu", "db", "success")})
        engines.append(engine)
        return engine

    yield make, clock, phone, store
    for engine in engines:
        engine.stop()
    store.close()


def notices(store):
    """Every page the engine decided, as (role, kind, level) in the order decided.

    These are the `notify` rows of the alert log, written synchronously before a page is queued: when an
    engine call returns, the pages it decided are all here, so "nothing was paged" is an equality on
    this list, not a wait for silence.
    """
    rows = store.execute("SELECT role, detail, level FROM alert_events WHERE event = 'notify' ORDER BY rowid")
    return [tuple(row) for row in rows.fetchall()]


def push(engine, clock, metric, value):
    engine.observe_sample(Sample(clock.now, metric, value))


