"""The read API over a store filled with a known night: tiles, levels, owners, stale, replay, errors."""

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alerts.roster import Roster
from alerts.snapshot import Snapshot
from tests.realparts import find_binary
from warroom.api.app import create_app
from warroom.api.read_model import BoardReader
from warroom.config.load import load_config
from warroom.store.database import Store
from warroom.store.writer import LatestValues
from warroom.values import CampaignWindow, Level, RunRecord, Sample

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 11, 11, 15, 0, tzinfo=UTC)  # 23:00 Asia/Shanghai
END = T0 + timedelta(minutes=59, seconds=59)


@pytest.fixture
def night(tmp_path):
    """Thirty minutes of the seed's night at 1 Hz, the 23:30 spike at the end."""
    cfg = load_config(ROOT / "config.yaml", env={}).config
    store = Store(tmp_path / "night.duckdb")
    samples = []
    for i in range(1800):
        ts = T0 + timedelta(seconds=i)
        peak = i >= 1790
        samples += [
            Sample(ts, "response_time", 18.0 if peak else 1.2),
            Sample(ts, "server_cpu", 97.0 if peak else 40.0),
            Sample(ts, "db_connections", 72.0 if peak else 30.0),
            Sample(ts, "order_success", 85.0 if peak else 99.5),
            Sample(ts, "orders_total", 7856 + i * 0.1),
        ]
    store.append(samples, [RunRecord(T0, "callcenter", False, 0.01, 0, "GET http://x/api/callcenter/stats: HTTP 503")])
    now = T0 + timedelta(seconds=1800)
    clock = lambda: now  # noqa: E731
    latest = LatestValues()
    yield cfg, store, clock, latest
    store.close()


def client_for(cfg, store, clock, latest=None, views=None):
    reader = BoardReader(cfg, store, CampaignWindow(cfg.campaign.name, T0, END), latest, views)
    return TestClient(create_app(reader, clock, lambda: {"collectors": {}}))


def tiles(board):
    return {t["metric"]: t for t in board["tiles"]}


def test_board_levels_and_owners_from_the_store(night):
    cfg, store, clock, _ = night
    board = client_for(cfg, store, clock).get("/api/v1/board").json()
    t = tiles(board)
    assert t["response_time"]["level"] == "red"
    assert t["response_time"]["owner"] == {"role": "general_manager", "name": "王强 · 总经理",
                                            "phone": "+86 138 0000 0003"}
    assert t["server_cpu"]["level"] == "red"
    assert t["db_connections"]["level"] == "yellow"
    assert t["db_connections"]["owner"]["role"] == "dba"  # per-metric override
    assert t["order_success"]["level"] == "orange"
    assert t["order_success"]["owner"]["role"] == "ops_lead"
    # nothing written for pickup_rate: stale, never a stale green, with the collector's reason
    assert t["pickup_rate"]["level"] == "stale" and t["pickup_rate"]["stale"] is True
    assert t["pickup_rate"]["error"].endswith("HTTP 503")
    assert list(t) == list(cfg.metrics)  # wall order is config order


def test_board_at_a_past_moment_is_the_board_as_it_was(night):
    cfg, store, clock, _ = night
    c = client_for(cfg, store, clock)
    before = tiles(c.get("/api/v1/board", params={"at": "2024-11-11T23:20:00+08:00"}).json())
    assert before["response_time"]["level"] == "green" and before["response_time"]["value"] == 1.2
    assert before["response_time"]["owner"] is None
    naive_local = tiles(c.get("/api/v1/board", params={"at": "2024-11-11T23:20:00"}).json())
    assert naive_local["response_time"]["ts"] == before["response_time"]["ts"]  # naive = campaign timezone
    # Typed into an address bar unescaped, the README's link sends "+08:00" as " 08:00": still that moment.
    typed = c.get("/api/v1/board?at=2024-11-11T23:20:00+08:00").json()
    assert tiles(typed)["response_time"]["ts"] == before["response_time"]["ts"]


def test_campaign_header_countdown_and_projection(night):
    cfg, store, clock, _ = night
    camp = client_for(cfg, store, clock).get("/api/v1/board").json()["campaign"]
    assert camp["seconds_remaining"] == pytest.approx((END - clock()).total_seconds())
    kpi = camp["kpi"]
    assert kpi["target"] == 8000 and kpi["value"] == pytest.approx(7856 + 1799 * 0.1)
    assert kpi["pace_per_min"] == pytest.approx(6.0, rel=0.01)
    assert kpi["projected"] == pytest.approx(kpi["value"] + 0.1 * camp["seconds_remaining"], rel=0.001)


@pytest.mark.parametrize(("minutes", "step", "pace", "window"), [
    (0.5, 1.0, None, None),    # under a minute of orders: no pace yet, never a guess
    (2.0, 1.0, 60.0, 119.0),   # a young night projects from its first sample and says over how long
    (2.0, -1.0, 0.0, 119.0),   # a counter going down is no pace: never negative
])
def test_pace_from_the_first_minute_never_negative(tmp_path, minutes, step, pace, window):
    cfg = load_config(ROOT / "config.yaml", env={}).config
    store = Store(tmp_path / "young.duckdb")
    n = int(minutes * 60)
    store.append([Sample(T0 + timedelta(seconds=i), "orders_total", 5000 + i * step) for i in range(n)], [])
    now = T0 + timedelta(seconds=n - 1)
    kpi = client_for(cfg, store, lambda: now).get("/api/v1/board").json()["campaign"]["kpi"]
    store.close()
    if pace is None:
        assert kpi["pace_per_min"] is None and kpi["pace_window_s"] is None and kpi["projected"] == kpi["value"]
    else:
        assert kpi["pace_per_min"] == pytest.approx(pace) and kpi["pace_window_s"] == pytest.approx(window)
        assert kpi["projected"] >= kpi["value"]


def test_after_the_close_the_count_is_final_and_no_pace_runs(tmp_path):
    """Issue 16, defect 6: 8,127 frozen after the close while the header said 40.8/min at 00:03."""
    cfg = load_config(ROOT / "config.yaml", env={}).config
    store = Store(tmp_path / "close.duckdb")
    # Orders come in until the entry closes at 23:59:59, then the counter stands still.
    store.append([Sample(END - timedelta(seconds=600 - i), "orders_total", 8127.0 - max(0, 600 - i))
                  for i in range(800)], [])
    before = client_for(cfg, store, lambda: END - timedelta(seconds=60)).get("/api/v1/board").json()["campaign"]
    assert before["kpi"]["pace_per_min"] == pytest.approx(60.0) and not before["kpi"].get("closed")
    after = END + timedelta(minutes=3)
    kpi = client_for(cfg, store, lambda: after).get("/api/v1/board").json()["campaign"]["kpi"]
    store.close()
    assert kpi["pace_per_min"] is None and kpi["pace_window_s"] is None
    assert kpi["closed"] and kpi["value"] == 8127 and kpi["projected"] == 8127


def test_stale_after_turns_a_tile_grey(night):
    cfg, store, clock, _ = night
    later = clock() + timedelta(minutes=5)
    t = tiles(client_for(cfg, store, lambda: later).get("/api/v1/board").json())
    assert t["server_cpu"]["stale"] and t["server_cpu"]["level"] == "stale"
    assert t["server_cpu"]["age_s"] == pytest.approx(301, abs=1)


def test_live_board_reads_the_engines_snapshot_not_the_store(night):
    cfg, store, clock, latest = night
    snapshot = Snapshot(cfg, store, Roster(cfg, store))
    snapshot.set("server_cpu", clock(), value=55.0, ts=clock(), level=Level.ORANGE, stale=False)
    t = tiles(client_for(cfg, store, clock, latest, snapshot.read).get("/api/v1/board").json())
    # value, level and decider come from the one snapshot, even when they disagree with the raw value
    assert t["server_cpu"]["value"] == 55.0 and t["server_cpu"]["level"] == "orange"
    assert t["server_cpu"]["owner"]["role"] == "ops_lead"
    # and the change was recorded for replay at the same moment
    assert store.execute("SELECT level, owner_role FROM level_changes WHERE metric = 'server_cpu'").fetchall() == \
        [("orange", "ops_lead")]


def test_series_is_bounded_and_keeps_the_peak(night):
    cfg, store, clock, _ = night
    r = client_for(cfg, store, clock).get("/api/v1/series", params={"metric": "response_time", "from": "-30m",
                                                                     "points": 100})
    assert r.status_code == 200
    pts = r.json()["series"]["response_time"]
    assert len(pts) <= 100 and max(v for _, v in pts) == 18.0


def test_series_of_all_tiles_when_no_metric_given(night):
    cfg, store, clock, _ = night
    body = client_for(cfg, store, clock).get("/api/v1/series", params={"from": "-10m", "points": 50}).json()
    assert set(body["series"]) == set(cfg.metrics)


@pytest.mark.parametrize(
    ("params", "status", "field", "text"),
    [
        ({"metric": "nope"}, 404, "metric", "unknown metric 'nope'"),
        ({"metric": "server_cpu", "from": "yesterday-ish"}, 422, "from", "not an ISO-8601 time"),
        ({"metric": "server_cpu", "from": "-1h", "to": "-2h"}, 422, "to", "must be after"),
        ({"metric": "server_cpu", "points": "lots"}, 422, "points", "integer"),
        ({"metric": "server_cpu", "from": "-30d"}, 422, "from", "limit"),
    ],
)
def test_series_errors_name_the_cause(night, params, status, field, text):
    cfg, store, clock, _ = night
    r = client_for(cfg, store, clock).get("/api/v1/series", params=params)
    assert r.status_code == status
    err = r.json()["error"]
    assert err["field"] == field and text in err["message"]


def test_board_bad_time_is_422(night):
    cfg, store, clock, _ = night
    r = client_for(cfg, store, clock).get("/api/v1/board", params={"at": "23:61"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "at"


def test_openapi_and_health(night):
    cfg, store, clock, _ = night
    c = client_for(cfg, store, clock)
    assert "/api/v1/board" in c.get("/openapi.json").json()["paths"]
    assert c.get("/api/v1/health").json()["status"] == "ok"


def test_metrics_exposition_is_valid_for_promtool(night, tmp_path):
    cfg, store, clock, _ = night
    text = client_for(cfg, store, clock).get("/metrics").text
    assert 'warroom_metric_level{metric="response_time"} 3.0' in text
    assert 'warroom_metric_level{metric="pickup_rate"} -1.0' in text
    promtool = find_binary("promtool")
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
