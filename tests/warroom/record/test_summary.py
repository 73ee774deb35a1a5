"""The report's summaries: when a target went bad as far as warroom can tell (the start of the poll that found
it) against when warroom knew; the KPI's pace at the close, never a negative pace over a reset."""

from __future__ import annotations

from datetime import timedelta

from tests.warroom.record.kit import T0, at
from warroom.config.load import parse_config
from warroom.record.summary import breaches, outcome
from warroom.store.database import Store
from warroom.store.schema import to_db_ts
from warroom.values import RunRecord, Sample


def probe_config():
    return parse_config({
        "campaign": {"name": "n", "start": T0.isoformat(), "end": (T0 + timedelta(minutes=30)).isoformat(),
                     "kpi": {"metric": "orders", "target": 100}},
        "people": {r: {"name": r} for r in ("tech_lead", "ops_lead", "general_manager")},
        "collectors": [{"type": "http", "name": "probe", "metric": "page", "timeout": "20s", "interval": "5s",
                        "urls": [{"name": "checkout", "url": "http://127.0.0.1:9/"}]}],
        "metrics": {"page": {"title": "Order page", "unit": "s", "yellow": 3, "red": 15},
                    "orders": {"title": "Orders", "pushed": True}},
    }, env={})


def test_a_breach_starts_when_the_poll_that_found_it_began(tmp_path):
    loaded = probe_config()
    store = Store(tmp_path / "n.duckdb")
    try:
        # green at 10 s; the poll that began at 30 s waited 18 s for the page and knew at 48 s; the alert opened then
        store.append([Sample(at(10), "page", 1.2), Sample(at(48), "page", 18.0), Sample(at(53), "page", 17.0)],
                     [RunRecord(at(10), "probe", True, 1.2, 1), RunRecord(at(48), "probe", True, 18.0, 1),
                      RunRecord(at(53), "probe", True, 17.0, 1)])
        store.execute("INSERT INTO alerts (id, metric, kind, opened_at, level, peak_level, state, updated_at, "
                      "level_since, delivery_failed, paged_roles) VALUES (7, 'page', 'level', ?, 'red', 'red', "
                      "'open', ?, ?, false, '')", [to_db_ts(at(48))] * 3)
        found = breaches(store.reader(), loaded.config, at(0), at(60))
    finally:
        store.close()
    assert found == {"7": {"known_at": at(48).isoformat(), "breach_at": at(30).isoformat(), "poll_s": 18.0,
                           "collector": "probe"}}


def test_the_kpi_line_has_its_pace_at_the_close_and_no_worst(tmp_path):
    loaded = probe_config()
    store = Store(tmp_path / "n.duckdb")
    try:
        close = T0 + timedelta(minutes=30)
        store.append([Sample(close - timedelta(minutes=m), "orders", 130.0 - 2 * m) for m in range(12, -1, -1)])
        kpi = outcome(store.reader(), loaded.config, T0, close + timedelta(minutes=5), close)["kpi"]
        assert kpi["pace_per_minute"] == 2.0 and kpi["pace_at"] == close.isoformat() and kpi["value"] == 130.0
        assert kpi["crossed_at"] == (close - timedelta(minutes=12)).isoformat()  # 106 ≥ 100 from the first sample
        store.append([Sample(close + timedelta(seconds=1), "orders", 3.0)])  # a reset after the close
        reset = outcome(store.reader(), loaded.config, T0, close + timedelta(minutes=5),
                        close + timedelta(minutes=2))["kpi"]
        summary = outcome(store.reader(), loaded.config, T0, close + timedelta(minutes=5), close)
    finally:
        store.close()
    assert reset["pace_per_minute"] is None  # a counter that went down has no pace, never a negative one
    assert "orders" not in summary["peaks"] and summary["finals"]["orders"]["value"] == 3.0
