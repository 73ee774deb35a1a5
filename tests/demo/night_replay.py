"""The demo night fed straight into the alert engine with a fake clock: what the inbox would get, in seconds."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.engine import AlertEngine
from alerts.notifiers.page import Delivery
from demo.scenario import Scenario, state_at
from demo.server import callcenter_stats, order_stats
from warroom.config.load import LoadedConfig
from warroom.store.database import Store
from warroom.store.schema import from_db_ts
from warroom.values import Sample

T0 = datetime(2024, 11, 11, 15, 0, tzinfo=UTC)


def readings(scenario: Scenario, scenario_s: float) -> dict[str, float]:
    """What the shipped config's collectors read from the demo at one scenario moment."""
    state = state_at(scenario, scenario_s)
    orders, calls = order_stats(scenario, state), callcenter_stats(scenario, state)
    values = {"server_cpu": state.cpu_pct,
              "db_connections": 100 * state.db_connections / state.db_pool_max,
              "orders_total": float(state.orders_total), "host_cpu": 20.0}
    # A zero denominator is no traffic (the json collector's default when_zero): NaN, paged to nobody.
    values["order_success"] = 100 * orders["succeeded"] / orders["submitted"] if orders["submitted"] else math.nan
    values["pickup_rate"] = 100 * calls["answered"] / calls["offered"] if calls["offered"] else math.nan
    return values


def _arrived(engine: AlertEngine) -> None:
    """Wait until every page decided so far was sent and its outcome recorded (bounded: a hang fails later)."""
    deadline = time.monotonic() + 10.0
    while (engine.pager.in_flight() or engine.pager.queued()) and time.monotonic() < deadline:
        time.sleep(0.001)


def play(loaded: LoadedConfig, scenario: Scenario, db: Path, speed: float, real_s: float, every_s: float = 2.0,
         phase_s: float = 0.0, probe_timeout_s: float = 20.0) -> list[tuple[float, str, str, str, str]]:
    """Pages the engine decided on as (real seconds from the start, role, kind, level, metric); nobody acks."""
    now = [T0]
    store = Store(db)
    engine = AlertEngine(loaded, store, lambda: now[0], send=lambda url, page: Delivery(True), tick=3600)
    # An inbox that answers at once, and no real time to group pages in: each page arrives (and starts its
    # reader's time to acknowledge) at the moment of the poll that decided it.
    engine.pager.group_window = 0.0
    engine.start()
    # The order page probe waits out the page's real latency (at most its timeout) before its sample
    # arrives, stamped with when it began; the next probe starts at the first poll after it returned.
    probe_started, probe_due = 0.0, None
    try:
        for i in range(int(real_s / every_s) + 1):
            # phase_s: where the polls fall against the scenario clock (the real daemon's are not aligned).
            t = i * every_s + phase_s
            now[0] = T0 + timedelta(seconds=t)
            if probe_due is None:
                latency = min(state_at(scenario, t * speed).page_latency_s, probe_timeout_s)
                probe_started, probe_due = t, t + latency
            if probe_due <= t:
                engine.observe_sample(Sample(T0 + timedelta(seconds=probe_started), "response_time",
                                             probe_due - probe_started))
                probe_due = None
            for metric, value in readings(scenario, t * speed).items():
                engine.observe_sample(Sample(now[0], metric, value))
            engine.tick(now[0])
            _arrived(engine)
        rows = store.execute(
            "SELECT DISTINCT e.ts, e.role, e.detail, e.level, a.metric FROM alert_events e "
            "JOIN (SELECT DISTINCT id, metric FROM alerts) a ON a.id = e.alert_id "
            "WHERE e.event = 'notify' ORDER BY e.ts, e.role").fetchall()
    finally:
        engine.stop()
        store.close()
    return [((from_db_ts(ts) - T0).total_seconds(), role, kind, level or "", metric)
            for ts, role, kind, level, metric in rows]
