"""`prometheus` collector: a local exposition we control (exact figures) and a real node_exporter."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from pydantic import ValidationError

from collectors.base import CollectorContext
from collectors.prometheus_scrape import PrometheusScrape, PrometheusScrapeSettings, parse_selector
from collectors.web import MAX_BODY_BYTES
from demo.server import CPU_MODES
from tests.collectors.conftest import answer, by_metric, failure, huge, late, local_session
from tests.realparts import find_binary, free_port, missing_part

TEXT = "text/plain; version=0.0.4; charset=utf-8"


def exposition(orders_ok: float, cpu: dict[tuple[str, str], float]) -> str:
    lines = [
        "# HELP demo_db_connections Open database connections.",
        "# TYPE demo_db_connections gauge",
        'demo_db_connections{pool="a"} 3',
        'demo_db_connections{pool="b"} 4',
        "# HELP demo_orders_total Orders taken.",
        "# TYPE demo_orders_total counter",
        f'demo_orders_total{{status="ok"}} {orders_ok}',
        'demo_orders_total{status="failed"} 5',
        "# TYPE node_load1 gauge",
        "node_load1 0.5",
        "# TYPE node_cpu_seconds_total counter",
    ]
    lines += [f'node_cpu_seconds_total{{cpu="{c}",mode="{m}"}} {v}' for (c, m), v in cpu.items()]
    return "\n".join(lines) + "\n"


CPU_1 = {
    ("0", "idle"): 1000,
    ("0", "user"): 100,
    ("0", "iowait"): 10,
    ("1", "idle"): 1000,
    ("1", "system"): 50,
}
# +5 idle, +3 user, +2 iowait on cpu 0; +8 idle, +2 system on cpu 1: 5 of 20 s busy.
CPU_2 = {
    ("0", "idle"): 1005,
    ("0", "user"): 103,
    ("0", "iowait"): 12,
    ("1", "idle"): 1008,
    ("1", "system"): 52,
}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def scraper(build, clock: Clock, url: str, **settings):
    context = CollectorContext(session_factory=local_session, monotonic=clock)
    return build(PrometheusScrape, {"type": "prometheus", "url": url, **settings}, context)


def test_gauges_rates_and_cpu_across_scrapes(web, build, clock, now):
    url = web.route("/metrics", answer(200, exposition(100, CPU_1), TEXT))
    scrape = scraper(
        build,
        clock,
        url,
        cpu_metric="server_cpu",
        gauges={
            "db_connections": "demo_db_connections",
            "db_connections_a": 'demo_db_connections{pool="a"}',
            "load": "node_load1",
        },
        rates={
            "orders_per_s": {"selector": 'demo_orders_total{status="ok"}'},
            "orders_per_min": {"selector": "demo_orders", "scale": 60},
        },
    )

    # First scrape: gauges only; a rate needs two scrapes and that is not an error.
    assert by_metric(scrape.collect(now)) == {"db_connections": 7.0, "db_connections_a": 3.0, "load": 0.5}

    web.route("/metrics", answer(200, exposition(160, CPU_2), TEXT))
    clock.now += 10
    # The wall clock handed in may even step back; rates go by the collector's own clock.
    samples = scrape.collect(now - timedelta(hours=1))

    assert by_metric(samples) == {
        "server_cpu": pytest.approx(25.0),
        "db_connections": 7.0,
        "db_connections_a": 3.0,
        "load": 0.5,
        "orders_per_s": pytest.approx(6.0),
        "orders_per_min": pytest.approx(360.0),
    }
    assert all(sample.ts == now - timedelta(hours=1) for sample in samples)

    # The shop restarted: the counter starts again from 0, and all of its new value is new orders.
    web.route("/metrics", answer(200, exposition(20, {key: value + 1 for key, value in CPU_2.items()}), TEXT))
    clock.now += 10
    values = by_metric(scrape.collect(now))
    assert values["orders_per_s"] == pytest.approx(2.0)
    assert values["orders_per_min"] == pytest.approx(120.0)
    assert values["server_cpu"] == pytest.approx(40.0)  # user and system moved 1 s each of 5

    # Same counters again (two scrapes within one kernel tick): no CPU % rather than a made-up 0 %.
    clock.now += 10
    error = failure(lambda: scrape.collect(now))
    assert "server_cpu: no CPU time passed between two scrapes of 'node_cpu_seconds_total'" in error.reason
    assert by_metric(error.samples)["orders_per_s"] == 0.0


def test_missing_series_are_named_and_the_rest_returned(web, build, clock, now):
    url = web.route("/metrics", answer(200, exposition(100, CPU_1), TEXT))
    scrape = scraper(
        build,
        clock,
        url,
        gauges={"load": "node_load1", "queue": "demo_queue_depth", "pool_z": 'demo_db_connections{pool="z"}'},
        rates={"errors": {"selector": "demo_errors_total"}},
    )

    error = failure(lambda: scrape.collect(now))

    assert error.reason == (
        f"GET {url}: queue: no series 'demo_queue_depth' in reply; "
        "pool_z: no 'demo_db_connections' series matches {pool=\"z\"}; "
        "errors: no series 'demo_errors_total' in reply"
    )
    assert by_metric(error.samples) == {"load": 0.5}


def test_cpu_needs_node_cpu_seconds(web, build, clock, now):
    url = web.route("/metrics", answer(200, "# TYPE up gauge\nup 1\n", TEXT))
    scrape = scraper(build, clock, url, cpu_metric="server_cpu")

    assert failure(lambda: scrape.collect(now)).reason == (
        f"GET {url}: server_cpu: no series 'node_cpu_seconds_total' in reply"
    )


def test_reply_that_is_not_an_exposition(web, build, clock, now):
    url = web.route("/metrics", answer(200, "<html><body>" + "login " * 1000 + "</body></html>", "text/html"))
    scrape = scraper(build, clock, url, gauges={"load": "node_load1"})

    reason = failure(lambda: scrape.collect(now)).reason

    assert reason.startswith(f"GET {url}: reply is not Prometheus text format: invalid metric name")
    assert len(reason) < 300  # the offending line is quoted, but cut short


@pytest.mark.parametrize(
    ("route", "timeout", "reason"),
    [
        (answer(503, "busy"), 3.0, "HTTP 503 Service Unavailable"),
        (late(2.0), 0.3, "timed out after 300ms"),
        (huge(10_000_000, TEXT), 5.0, f"reply larger than {MAX_BODY_BYTES} bytes (capped, not read whole)"),
    ],
    ids=["5xx", "timeout", "10MB"],
)
def test_faults(web, build, clock, now, route, timeout, reason):
    url = web.route("/metrics", route)
    scrape = scraper(build, clock, url, timeout=timeout, gauges={"load": "node_load1"})

    started = time.monotonic()
    error = failure(lambda: scrape.collect(now))

    assert time.monotonic() - started < 2.0
    assert error.reason == f"GET {url}: {reason}"
    assert error.samples == []


def test_connection_refused(build, clock, now):
    url = f"http://127.0.0.1:{free_port()}/metrics"
    scrape = scraper(build, clock, url, gauges={"load": "node_load1"})

    assert failure(lambda: scrape.collect(now)).reason == f"GET {url}: connection refused"


def test_selectors():
    selector = parse_selector('node_cpu_seconds_total{cpu="0", mode!~"idle|iowait" ,job=~"node.*"}')

    assert selector.name == "node_cpu_seconds_total"
    assert selector.matches({"cpu": "0", "mode": "user", "job": "node"})
    assert not selector.matches({"cpu": "0", "mode": "idle", "job": "node"})
    assert not selector.matches({"cpu": "1", "mode": "user", "job": "node"})
    assert parse_selector('x{path="a\\"b"}').matches({"path": 'a"b'})
    assert parse_selector("x{}").matches({"anything": "1"})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"gauges": {"load": 'node_load1{cpu="0"'}}, "expected \\{label"),
        ({"gauges": {"load": '{cpu="0"}'}}, "must start with a metric name"),
        ({"gauges": {"load": "node_load1{cpu=0}"}}, "cannot read a label matcher"),
        ({"gauges": {"load": 'node_load1{cpu=~"("}'}}, "bad regular expression"),
        ({"gauges": {"load": 'node_load1{a="1" b="2"}'}}, "expected ','"),
        ({"gauges": {}}, "set cpu_metric or list"),
        ({"cpu_metric": "load"}, "used twice: load"),
        ({"rates": {"r": {"selector": "x_total", "per": "minute"}}}, "Extra inputs"),
        ({"url": "node:9100/metrics"}, "http:// or https://"),
    ],
)
def test_settings_refuse_mistakes(change, expected):
    raw = {
        "type": "prometheus",
        "name": "node",
        "url": "http://127.0.0.1:9100/metrics",
        "gauges": {"load": "node_load1"},
        **change,
    }

    with pytest.raises(ValidationError, match=expected):
        PrometheusScrapeSettings.model_validate(raw)


@pytest.fixture(scope="module")
def node_exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real node_exporter on a free local port, with only the collectors these tests read."""
    binary = find_binary("prometheus-node-exporter", "node_exporter")
    port = free_port()
    log = Path(tmp_path_factory.mktemp("node_exporter")) / "node_exporter.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--web.listen-address=127.0.0.1:{port}",
                "--collector.disable-defaults",
                "--collector.cpu",
                "--collector.loadavg",
                "--collector.meminfo",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                missing_part(f"node_exporter exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                if local_session().get(url, timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                missing_part(f"node_exporter did not answer on {url} within 15s: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_real_node_exporter(node_exporter, build, now):
    scrape = build(
        PrometheusScrape,
        {
            "type": "prometheus",
            "url": node_exporter,
            "cpu_metric": "server_cpu",
            "gauges": {"load1": "node_load1", "mem_free": "node_memory_MemAvailable_bytes"},
            "rates": {"idle_cpu_seconds": {"selector": 'node_cpu_seconds_total{mode="idle"}'}},
        },
    )

    first = by_metric(scrape.collect(now))
    time.sleep(1.0)
    second = by_metric(scrape.collect(now))

    assert set(first) == {"load1", "mem_free"}
    assert set(second) == {"server_cpu", "load1", "mem_free", "idle_cpu_seconds"}
    assert 0.0 <= second["server_cpu"] <= 100.0
    assert second["load1"] >= 0.0 and second["mem_free"] > 0.0
    # Idle seconds per second across all CPUs can never exceed the number of CPUs (with some slack).
    assert 0.0 <= second["idle_cpu_seconds"] <= (os.cpu_count() or 1) * 1.2


def _cpu_modes(text: str) -> dict[tuple[str, str], float]:
    """node_cpu_seconds_total by (cpu, mode), read with a regex rather than the collector's parser."""
    pattern = re.compile(r'^node_cpu_seconds_total\{cpu="(\d+)",mode="(\w+)"\} (\S+)$', re.M)
    return {(cpu, mode): float(value) for cpu, mode, value in pattern.findall(text)}


def _busy(before: dict, after: dict, not_busy: set[str]) -> float:
    total = sum(after[k] - before[k] for k in after)
    return 100 * sum(after[k] - before[k] for k in after if k[1] not in not_busy) / total


def test_cpu_busy_from_a_real_node_exporter_and_the_demo_speaks_the_same_modes(node_exporter, web, build, clock, now):
    """Two real node_exporter answers replayed: busy = all but idle and iowait; `iowait_busy` = 1 - idle."""
    first = local_session().get(node_exporter, timeout=5).text
    time.sleep(1.5)
    second = local_session().get(node_exporter, timeout=5).text
    before, after = _cpu_modes(first), _cpu_modes(second)
    assert {mode for _, mode in after} >= set(CPU_MODES) - {"steal"}
    assert set(CPU_MODES) >= {mode for _, mode in after}  # the demo exposes every mode a real one does
    readings = {}
    for iowait_busy in (False, True):
        url = web.route("/metrics", answer(200, first, TEXT))
        scrape = scraper(build, clock, url, cpu_metric="cpu", iowait_busy=iowait_busy)
        scrape.collect(now)
        web.route("/metrics", answer(200, second, TEXT))
        clock.now += 1.5
        readings[iowait_busy] = by_metric(scrape.collect(now))["cpu"]
    assert readings[False] == pytest.approx(_busy(before, after, {"idle", "iowait"}), abs=1e-6)
    assert readings[True] == pytest.approx(_busy(before, after, {"idle"}), abs=1e-6)


def test_ratio_of_two_gauges_and_a_zero_denominator(web, build, clock, now):
    body = exposition(1, CPU_1) + "# TYPE pool_max gauge\npool_max 20\n# TYPE pool_empty gauge\npool_empty 0\n"
    url = web.route("/metrics", answer(200, body, TEXT))
    scrape = scraper(build, clock, url, ratios={
        "db_connections": {"numerator": "demo_db_connections", "denominator": "pool_max"},
        "broken": {"numerator": "demo_db_connections", "denominator": "pool_empty"},
    })
    err = failure(lambda: scrape.collect(now))
    assert by_metric(err.samples) == {"db_connections": pytest.approx(35.0)}  # (3 + 4) / 20 × 100
    assert "broken: 'pool_empty' is 0, so the ratio is undefined" in err.reason
