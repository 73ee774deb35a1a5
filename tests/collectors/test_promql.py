"""`promql` collector against a real Prometheus scraping a local exposition whose gauge we control."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from pydantic import ValidationError

from collectors.promql import PromqlCollector, PromqlSettings
from tests.collectors.conftest import LocalWeb, answer, by_metric, failure, local_session
from tests.realparts import find_binary, free_port, missing_part

START_WITHIN_S = 40


@dataclass
class RealPrometheus:
    url: str
    target: LocalWeb

    def expose(self, orders: float) -> None:
        """Set the gauge the next scrape will see."""
        text = (
            "# TYPE warroom_test_orders gauge\n"
            f"warroom_test_orders {orders}\n"
            "# TYPE warroom_test_queue gauge\n"
            'warroom_test_queue{shard="a"} 1\n'
            'warroom_test_queue{shard="b"} 2\n'
        )
        self.target.route("/metrics", answer(200, text, "text/plain; version=0.0.4"))


def _query(url: str, expression: str) -> list[object]:
    reply = local_session().get(f"{url}/api/v1/query", params={"query": expression}, timeout=2)
    return reply.json()["data"]["result"]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealPrometheus]:
    """Prometheus on a free local port scraping a local http.server every second."""
    binary = find_binary("prometheus")
    work = Path(tmp_path_factory.mktemp("prometheus"))
    target = LocalWeb()
    real = RealPrometheus(f"http://127.0.0.1:{free_port()}", target)
    real.expose(42)
    (work / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: board\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{target.port}']\n"
    )
    log = work / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'data'}",
                f"--web.listen-address={real.url.removeprefix('http://')}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_WITHIN_S
        while True:
            if process.poll() is not None:
                missing_part(f"prometheus exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                if _query(real.url, "warroom_test_orders"):
                    break
            except (requests.RequestException, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                missing_part(f"prometheus had no scrape within {START_WITHIN_S}s: {log.read_text()[-2000:]}")
            time.sleep(0.25)
        yield real
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        target.stop()


def promql(build, url: str, queries: dict[str, str], **settings) -> PromqlCollector:
    return build(PromqlCollector, {"type": "promql", "url": url, "queries": queries, **settings})


def test_good_queries(prometheus, build, now):
    collector = promql(
        build,
        prometheus.url,
        {
            "orders": "warroom_test_orders",
            "queue_total": "sum(warroom_test_queue)",
            "half_orders": "scalar(warroom_test_orders) / 2",
        },
    )

    samples = collector.collect(now)

    assert by_metric(samples) == {"orders": 42.0, "queue_total": 3.0, "half_orders": 21.0}
    assert all(sample.ts == now for sample in samples)


def test_the_board_follows_the_gauge(prometheus, build, now):
    collector = promql(build, prometheus.url, {"orders": "warroom_test_orders"})
    prometheus.expose(43)
    try:
        deadline = time.monotonic() + 10
        while by_metric(collector.collect(now))["orders"] != 43.0:
            assert time.monotonic() < deadline, "Prometheus never saw the new value"
            time.sleep(0.25)
    finally:
        prometheus.expose(42)


def test_two_series_is_not_one_number(prometheus, build, now):
    collector = promql(
        build, prometheus.url, {"queue": "warroom_test_queue", "orders": "warroom_test_orders"}
    )

    error = failure(lambda: collector.collect(now))

    assert error.reason.startswith(
        "queue: query 'warroom_test_queue': 2 series in the answer, expected exactly 1: "
        '{__name__="warroom_test_queue"'
    )
    assert 'shard="a"' in error.reason and 'shard="b"' in error.reason
    assert by_metric(error.samples) == {"orders": pytest.approx(42.0, abs=1)}


def test_no_series(prometheus, build, now):
    collector = promql(build, prometheus.url, {"gone": "warroom_test_absent"})

    assert failure(lambda: collector.collect(now)).reason == (
        "gone: query 'warroom_test_absent': 0 series in the answer, expected exactly 1 "
        "(no such series, or it went stale)"
    )


def test_bad_expression_reports_prometheus_error(prometheus, build, now):
    collector = promql(build, prometheus.url, {"broken": "sum(warroom_test_orders"})

    reason = failure(lambda: collector.collect(now)).reason

    assert reason.startswith("broken: query 'sum(warroom_test_orders': Prometheus error bad_data: ")
    assert "parse error" in reason


def test_stale_value_is_rejected(prometheus, build, now):
    collector = promql(build, prometheus.url, {"orders": "warroom_test_orders"}, stale_after="30s")

    error = failure(lambda: collector.collect(now + timedelta(seconds=45)))

    assert re.fullmatch(
        r"orders: query 'warroom_test_orders': value is 4\ds old, stale_after is 30s", error.reason
    )
    assert error.samples == []


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("NaN", "value is NaN"),
        ("1/0", "value is +Inf, not a finite number"),
        ("warroom_test_orders[1m]", "a matrix in the answer, expected a scalar or an instant vector"),
    ],
)
def test_answers_that_are_not_one_finite_number(prometheus, build, now, expression, reason):
    collector = promql(build, prometheus.url, {"x": expression})

    assert failure(lambda: collector.collect(now)).reason == f"x: query {expression!r}: {reason}"


def test_server_down_stops_after_the_first_query(build, now):
    url = f"http://127.0.0.1:{free_port()}"
    collector = promql(build, url, {"a": "up", "b": "up", "c": "up"})

    assert failure(lambda: collector.collect(now)).reason == (
        f"GET {url}/api/v1/query: connection refused (2 more queries not run)"
    )


def test_a_proxy_error_page_is_reported_by_status(web, build, now):
    web.route("/prom/api/v1/query", answer(502, "<html>Bad Gateway</html>", "text/html"))
    collector = promql(build, web.url("/prom/"), {"orders": "orders_total"})

    assert (
        failure(lambda: collector.collect(now)).reason == "orders: query 'orders_total': HTTP 502 Bad Gateway"
    )
    assert web.seen[-1][0] == "/prom/api/v1/query?query=orders_total"


def test_a_reply_that_is_not_a_query_answer(web, build, now):
    web.route(
        "/api/v1/query", answer(200, json.dumps({"status": "success", "data": {"resultType": "vector"}}))
    )
    collector = promql(build, web.url(""), {"orders": "orders_total"})

    assert failure(lambda: collector.collect(now)).reason == (
        "orders: query 'orders_total': reply is not a Prometheus query answer (KeyError: 'result')"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"queries": {}}, "at least 1"),
        ({"queries": {"orders": "  "}}, "at least 1 character"),
        ({"queries": {"Orders": "up"}}, "pattern"),
        ({"stale_after": "soon"}, "expected a duration"),
        ({"stale_after": 0}, "greater than 0"),
        ({"step": "1m"}, "Extra inputs"),
        ({"url": "prometheus:9090"}, "http:// or https://"),
    ],
)
def test_settings_refuse_mistakes(change, expected):
    raw = {
        "type": "promql",
        "name": "prom",
        "url": "http://127.0.0.1:9090",
        "queries": {"up": "up"},
        **change,
    }

    with pytest.raises(ValidationError, match=expected):
        PromqlSettings.model_validate(raw)
