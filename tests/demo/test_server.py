"""The demo night over real HTTP on 127.0.0.1: real latency, scrapeable counters, consistent JSON."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from collectors.base import CollectorContext
from collectors.prometheus_scrape import PrometheusScrape, PrometheusScrapeSettings
from demo.scenario import Scenario, load_scenario
from demo.server import CPU_MODES, ENDPOINTS, H5_KEYWORD, JSON_FIELDS, METRICS, DemoNight
from tests.collectors.conftest import local_session
from tests.realparts import find_binary

REPO = Path(__file__).resolve().parents[2]
Serve = Callable[..., DemoNight]


def flat_night(tmp_path: Path, page_latency_s: float) -> Scenario:
    """A night that never changes and has no jitter, so every answer is exactly predictable."""
    data = {
        "night": {"name": "flat test night", "date": "2024-11-11", "timezone": "Asia/Shanghai",
                  "start": "23:00:00", "end": "00:30:00", "kpi_target": 8000, "entry_close": "23:59:59"},
        "system": {"cpus": 4, "db_pool_max": 200, "agents": 67, "submits_per_min_at_normal_load": 120,
                   "calls_per_min_base": 100},
        "keyframes": [{"at": "23:00:00", "load_factor": 2, "page_latency_s": page_latency_s, "cpu_pct": 60,
                       "db_pool_pct": 35, "order_success_pct": 80, "pickup_pct": 90, "orders_total": 7856,
                       "stuck_customers": 0}],
    }
    path = tmp_path / "flat.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_scenario(path)


@pytest.fixture
def serve() -> Iterator[Serve]:
    started: list[DemoNight] = []

    def start(scenario: Scenario, **options: Any) -> DemoNight:
        night = DemoNight(scenario, "127.0.0.1", 0, **options).start()
        started.append(night)
        return night

    yield start
    for night in started:
        night.shutdown()


def get(night: DemoNight, path: str, timeout: float = 5.0) -> requests.Response:
    return requests.get(night.url + path, timeout=timeout)


def cpu_seconds(night: DemoNight) -> dict[tuple[str, str], float]:
    families = {f.name: f for f in text_string_to_metric_families(get(night, "/metrics").text)}
    return {(s.labels["cpu"], s.labels["mode"]): s.value for s in families["node_cpu_seconds"].samples
            if s.name == "node_cpu_seconds_total"}


def busy_pct(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float],
             not_busy: tuple[str, ...] = ("idle", "iowait")) -> float:
    """rate(busy modes) / rate(all modes); by default as psutil and warroom count it."""
    total = sum(after[key] - before[key] for key in after)
    idle = sum(after[key] - before[key] for key in after if key[1] in not_busy)
    return 100 * (total - idle) / total


def test_order_page_really_takes_page_latency(tmp_path: Path, serve: Serve) -> None:
    night = serve(flat_night(tmp_path, 0.5), speed=1)
    began = time.monotonic()
    reply = get(night, "/h5/order")
    took = time.monotonic() - began
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/html")
    assert H5_KEYWORD in reply.text and "Submit order" in reply.text
    assert took >= 0.48  # how much longer a loaded machine adds is not the demo's to promise


def order_in_flight(night: DemoNight) -> socket.socket:
    """An order page request sent on its own connection; connected first, so a server taking one request at a
    time would be busy with it."""
    sock = socket.create_connection(night.server_address[:2], timeout=5)
    sock.sendall(b"GET /h5/order HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n")
    return sock


def answered(sock: socket.socket) -> bool:
    """True when the server has replied, or closed the connection, on `sock` (never waits)."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def test_a_slow_order_page_does_not_delay_other_requests(tmp_path: Path, serve: Serve) -> None:
    night = serve(flat_night(tmp_path, 30.0), speed=1)
    with order_in_flight(night) as order:
        # the clock answers while the order page is still sleeping out its 30 s: nobody waits behind it
        assert get(night, "/api/clock", timeout=15).status_code == 200
        assert not answered(order)


def test_shutdown_wakes_order_pages_still_waiting(tmp_path: Path) -> None:
    night = DemoNight(flat_night(tmp_path, 30.0), "127.0.0.1", 0).start()
    with order_in_flight(night) as order:
        assert get(night, "/api/clock", timeout=15).status_code == 200  # the order page's request is in
        assert not answered(order)
        night.shutdown()
        # cut off, not served: the connection ends long before the page's 30 s, with no page on it
        order.settimeout(15)
        assert order.recv(65536) == b""


def test_metrics_parse_and_cpu_rate_follows_the_scenario(tmp_path: Path, serve: Serve) -> None:
    night = serve(flat_night(tmp_path, 0.1), speed=1)
    reply = get(night, "/metrics")
    assert reply.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    for name, (kind, _) in METRICS.items():
        assert f"# HELP {name} " in reply.text and f"# TYPE {name} {kind}" in reply.text
    families = {f.name: f for f in text_string_to_metric_families(reply.text)}
    assert families["demo_db_connections"].samples[0].value == 70  # 35 % of 200
    assert families["demo_db_max_connections"].samples[0].value == 200
    assert families["demo_load_factor"].samples[0].value == 2
    before = cpu_seconds(night)
    assert {cpu for cpu, _ in before} == {"0", "1", "2", "3"}
    assert {mode for _, mode in before} == set(CPU_MODES)
    time.sleep(1.0)
    after = cpu_seconds(night)
    assert all(after[key] >= before[key] for key in before)
    assert busy_pct(before, after) == pytest.approx(60.0, abs=0.5)
    # A `1 - rate(idle)` dashboard counts the small iowait too: 2 % of the 40 % not busy.
    assert busy_pct(before, after, ("idle",)) == pytest.approx(60.8, abs=0.5)


def test_cpu_at_the_seeds_peak(serve: Serve) -> None:
    night = serve(load_scenario(), speed=1, start_at="23:31:00")
    before = cpu_seconds(night)
    time.sleep(1.0)
    after = cpu_seconds(night)
    assert busy_pct(before, after) == pytest.approx(97.0, abs=2.0)
    assert busy_pct(before, after, ("idle",)) - busy_pct(before, after) < 0.2


def test_the_prometheus_collector_reads_the_peak_as_97(serve: Serve) -> None:
    """The seed's 97 % must reach the wall as 97 %, not as 89.7 % with iowait taken out of it."""
    night = serve(load_scenario(), speed=1, start_at="23:31:00")
    settings = PrometheusScrapeSettings.model_validate(
        {"type": "prometheus", "name": "app", "url": night.url + "/metrics", "cpu_metric": "server_cpu"})
    scrape = PrometheusScrape(settings, CollectorContext(session_factory=local_session))
    try:
        now = datetime.now(UTC)
        scrape.collect(now)
        time.sleep(1.0)
        (sample,) = scrape.collect(now)
    finally:
        scrape.close()
    assert sample.value == pytest.approx(97.0, abs=2.0)


@pytest.mark.needs_prometheus
def test_promtool_accepts_the_exposition(tmp_path: Path, serve: Serve) -> None:
    promtool = find_binary("promtool")
    night = serve(load_scenario(), speed=1, start_at="23:30:00")
    checked = subprocess.run([promtool, "check", "metrics"], input=get(night, "/metrics").text,
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_json_ratios_match_the_scenario(tmp_path: Path, serve: Serve) -> None:
    night = serve(flat_night(tmp_path, 0.1), speed=1)
    orders = get(night, "/api/orders/stats").json()
    assert tuple(orders) == JSON_FIELDS["/api/orders/stats"]
    assert orders["ts"].startswith("2024-11-11T23:00:0") and orders["ts"].endswith("+08:00")
    assert (orders["submitted"], orders["succeeded"], orders["failed"]) == (240, 192, 48)  # load 2, 80 %
    assert (orders["success_pct"], orders["orders_total"], orders["kpi_target"]) == (80.0, 7856, 8000)
    assert orders["entry_open"] and orders["window_s"] == 60
    calls = get(night, "/api/callcenter/stats").json()
    assert tuple(calls) == JSON_FIELDS["/api/callcenter/stats"]
    assert (calls["offered"], calls["answered"], calls["queue"], calls["agents"]) == (100, 90, 10, 67)


def test_json_at_the_seeds_peak(serve: Serve) -> None:
    night = serve(load_scenario(), speed=1, start_at="23:30:00")
    orders = get(night, "/api/orders/stats").json()
    assert orders["orders_total"] == 7950
    assert orders["succeeded"] / orders["submitted"] == pytest.approx(0.71, abs=0.01)
    calls = get(night, "/api/callcenter/stats").json()
    assert calls["answered"] / calls["offered"] == pytest.approx(0.62, abs=0.015)


def test_after_the_entry_closes_nothing_is_submitted(serve: Serve) -> None:
    night = serve(load_scenario(), speed=1, start_at="00:01:00")
    orders = get(night, "/api/orders/stats").json()
    assert (orders["submitted"], orders["succeeded"], orders["failed"]) == (0, 0, 0)
    assert orders["success_pct"] is None and not orders["entry_open"] and orders["payment_open"]
    assert orders["orders_total"] == 8127
    page = get(night, "/h5/order").text
    assert "活动已结束" in page and H5_KEYWORD in page


def test_clock_reports_scenario_time_and_the_end(serve: Serve) -> None:
    running = get(serve(load_scenario(), start_at="23:30:00"), "/api/clock").json()
    assert tuple(running) == JSON_FIELDS["/api/clock"]
    assert running["speed"] == 9.0 and not running["ended"] and running["scenario_time"].startswith("23:30:0")
    ended = get(serve(load_scenario(), start_at="00:30:00"), "/api/clock").json()
    assert ended["ended"] and ended["scenario_time"] == "00:30:00"
    assert ended["scenario_iso"] == "2024-11-12T00:30:00+08:00"


def test_index_and_unknown_paths(serve: Serve) -> None:
    night = serve(load_scenario())
    index = get(night, "/").text
    assert all(path in index for path in ENDPOINTS)
    missing = get(night, "/h5/orders")
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/json"
    assert missing.json()["path"] == "/h5/orders"


@pytest.mark.slow
def test_run_demo_serves_until_sigterm() -> None:
    command = [sys.executable, "-m", "demo.server", "--port", "0", "--start-at", "23:30:00"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:
        try:
            timer = threading.Timer(20, process.kill)  # a hung start must not hang the suite
            timer.start()
            line = process.stdout.readline() if process.stdout else ""
            timer.cancel()
            assert "serving on http://127.0.0.1:" in line and "9x" in line, line
            url = line.split("serving on ")[1].split()[0]
            assert requests.get(url + "/api/clock", timeout=5).json()["scenario_time"].startswith("23:30")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
