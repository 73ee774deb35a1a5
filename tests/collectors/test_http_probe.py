"""`http` collector against a real local http.server: every fault a customer would feel."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from pydantic import ValidationError

from collectors.base import CollectorContext
from collectors.http_probe import HttpProbe, HttpSettings
from collectors.web import MAX_BODY_BYTES, shown_url
from tests.collectors.conftest import answer, by_metric, failure, huge, late, local_session
from tests.realparts import free_port


def test_times_every_url_and_reports_the_worst(web, build, now):
    fast = web.route("/", answer(200, "shop"))
    slow = web.route("/checkout", late(0.15, 200, "pay here"))
    probe = build(
        HttpProbe,
        {
            "type": "http",
            "metric": "response_time",
            "urls": [{"name": "home", "url": fast}, {"name": "checkout", "url": slow}],
        },
    )

    samples = probe.collect(now)

    values = by_metric(samples)
    assert set(values) == {"response_time", "response_time.home", "response_time.checkout"}
    assert all(sample.ts == now for sample in samples)
    assert 0.15 <= values["response_time.checkout"] < 1.0
    assert 0 < values["response_time.home"] < values["response_time.checkout"]
    assert values["response_time"] == values["response_time.checkout"]
    assert probe.settings.produces() == ["response_time", "response_time.home", "response_time.checkout"]


class Watched:
    """A route that knows how many requests are inside it now and the most there were at once.

    With `gather=n` each request waits (at most `limit_s`) until n have been inside together; with `gate`
    each waits for the gate (at most `limit_s`) before the inner route answers.
    """

    def __init__(self, route, gather: int = 0, gate: threading.Event | None = None, limit_s: float = 5.0):
        self.route, self.gather, self.gate, self.limit_s = route, gather, gate, limit_s
        self.inside = self.most = 0
        self.cv = threading.Condition()

    def __call__(self, handler) -> None:
        with self.cv:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self.cv.notify_all()
            self.cv.wait_for(lambda: self.most >= self.gather, self.limit_s)
        try:
            if self.gate is not None:
                self.gate.wait(self.limit_s)
            self.route(handler)
        finally:
            with self.cv:
                self.inside -= 1


def trickle(gate: threading.Event, every: float = 0.1, limit_s: float = 10.0):
    """A route announcing 1000 bytes and sending one every `every` seconds until `gate` is set."""

    def route(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        stop = time.monotonic() + limit_s
        while not gate.wait(every) and time.monotonic() < stop:
            handler.wfile.write(b"x")
            handler.wfile.flush()

    return route


def test_urls_are_probed_concurrently(web, build, now):
    # each page answers only once all four requests are in at the same time; one after another they never are
    pages = Watched(late(0.0), gather=4)
    urls = [{"name": f"page{i}", "url": web.route(f"/p{i}", pages)} for i in range(4)]
    probe = build(HttpProbe, {"type": "http", "metric": "response_time", "urls": urls, "timeout": "8s"})

    samples = probe.collect(now)

    assert pages.most == 4
    assert set(by_metric(samples)) == {"response_time", *(f"response_time.page{i}" for i in range(4))}


def test_a_timeout_is_a_measured_wait_and_a_failed_run(web, build, now):
    answer_now = threading.Event()
    slow = Watched(late(0.0), gate=answer_now, limit_s=10.0)
    url = web.route("/slow", slow)
    probe = build(
        HttpProbe,
        {
            "type": "http",
            "metric": "response_time",
            "timeout": "300ms",
            "urls": [{"name": "slow", "url": url}],
        },
    )

    try:
        error = failure(lambda: probe.collect(now))
        assert slow.inside == 1  # the probe gave up by itself: the server is still holding the request
    finally:
        answer_now.set()
    assert error.reason == f"GET {url}: timed out after 300ms"
    assert by_metric(error.samples) == {"response_time.slow": 0.3, "response_time": 0.3}


def test_a_body_that_trickles_in_hits_the_total_deadline(web, build, now):
    # Each byte arrives well within the per-read timeout; only the total deadline catches this.
    done = threading.Event()
    body = Watched(trickle(done))
    url = web.route("/trickle", body)
    probe = build(
        HttpProbe,
        {
            "type": "http",
            "metric": "response_time",
            "timeout": "300ms",
            "urls": [{"name": "trickle", "url": url}],
        },
    )

    try:
        error = failure(lambda: probe.collect(now))
        assert body.inside == 1  # the probe stopped reading while bytes were still coming
    finally:
        done.set()
    assert "timed out after 300ms" in error.reason
    assert by_metric(error.samples)["response_time.trickle"] == 0.3


def test_refused_url_has_no_wait_but_the_others_still_make_the_aggregate(web, build, now):
    good = web.route("/", answer(200, "ok"))
    dead = f"http://127.0.0.1:{free_port()}/x"
    probe = build(
        HttpProbe,
        {
            "type": "http",
            "metric": "response_time",
            "urls": [{"name": "good", "url": good}, {"name": "dead", "url": dead}],
        },
    )

    error = failure(lambda: probe.collect(now))

    assert error.reason == f"GET {dead}: connection refused"
    values = by_metric(error.samples)
    assert set(values) == {"response_time.good", "response_time"}
    assert values["response_time"] == values["response_time.good"]


def test_every_failing_url_is_named(web, build, now):
    dead = f"http://127.0.0.1:{free_port()}/x"
    broken = web.route("/broken", answer(503, "down"))
    probe = build(
        HttpProbe,
        {
            "type": "http",
            "metric": "response_time",
            "urls": [{"name": "dead", "url": dead}, {"name": "broken", "url": broken}],
        },
    )

    error = failure(lambda: probe.collect(now))

    assert error.reason == (
        f"GET {dead}: connection refused; GET {broken}: HTTP 503 Service Unavailable (expected 200)"
    )
    # The 503 was a real wait the customer sat through, so it is still a sample.
    assert set(by_metric(error.samples)) == {"response_time.broken", "response_time"}


def test_a_server_that_hangs_up_without_a_reply(web, build, now):
    def hang_up(handler) -> None:
        handler.close_connection = True

    url = web.route("/crash", hang_up)
    probe = build(HttpProbe, {"type": "http", "metric": "rt", "urls": [{"name": "crash", "url": url}]})

    error = failure(lambda: probe.collect(now))

    assert error.reason == f"GET {url}: connection closed by the server without a reply"
    assert error.samples == []


def test_only_refused_urls_give_no_samples(build, now):
    dead = f"http://127.0.0.1:{free_port()}/"
    probe = build(
        HttpProbe, {"type": "http", "metric": "response_time", "urls": [{"name": "a", "url": dead}]}
    )

    error = failure(lambda: probe.collect(now))

    assert error.samples == []
    assert "connection refused" in error.reason


def test_expected_status_can_be_a_list(web, build, now):
    url = web.route("/gone", answer(404, "nope"))
    accepting = build(
        HttpProbe,
        {"type": "http", "metric": "rt", "expect_status": [200, 404], "urls": [{"name": "gone", "url": url}]},
    )
    strict = build(
        HttpProbe,
        {"type": "http", "metric": "rt", "expect_status": [200, 204], "urls": [{"name": "gone", "url": url}]},
    )

    assert set(by_metric(accepting.collect(now))) == {"rt", "rt.gone"}
    assert (
        failure(lambda: strict.collect(now)).reason == f"GET {url}: HTTP 404 Not Found (expected 200 or 204)"
    )


def test_keyword_must_be_in_the_body(web, build, now):
    url = web.route("/", answer(200, "<h1>Maintenance</h1>"))
    probe = build(
        HttpProbe,
        {
            "type": "http",
            "metric": "rt",
            "expect_keyword": "Add to cart",
            "urls": [{"name": "home", "url": url}],
        },
    )
    found = build(
        HttpProbe,
        {
            "type": "http",
            "metric": "rt",
            "expect_keyword": "Maintenance",
            "urls": [{"name": "home", "url": url}],
        },
    )

    error = failure(lambda: probe.collect(now))

    assert error.reason == f"GET {url}: keyword 'Add to cart' not found in the reply"
    assert set(by_metric(error.samples)) == {"rt", "rt.home"}
    assert set(by_metric(found.collect(now))) == {"rt", "rt.home"}


def test_a_10_mb_body_is_capped_not_read_whole(web, build, now):
    url = web.route("/big", huge(10_000_000, "text/html"))
    probe = build(
        HttpProbe, {"type": "http", "metric": "rt", "timeout": "5s", "urls": [{"name": "big", "url": url}]}
    )

    started = time.monotonic()
    error = failure(lambda: probe.collect(now))

    assert time.monotonic() - started < 2.0
    assert error.reason == f"GET {url}: reply larger than {MAX_BODY_BYTES} bytes (capped, not read whole)"
    assert "rt.big" in by_metric(error.samples)


def test_each_worker_thread_keeps_one_session_and_close_releases_them(web, build, now):
    urls = [{"name": f"p{i}", "url": web.route(f"/p{i}", late(0.05, 200, "ok"))} for i in range(2)]
    made: list[requests.Session] = []
    closed: list[requests.Session] = []
    lock = threading.Lock()

    def factory() -> requests.Session:
        session = local_session()
        session.close = lambda: closed.append(session)  # type: ignore[method-assign]
        with lock:
            made.append(session)
        return session

    probe = build(
        HttpProbe, {"type": "http", "metric": "rt", "urls": urls}, CollectorContext(session_factory=factory)
    )
    for _ in range(3):
        probe.collect(now)

    assert 1 <= len(made) <= 2
    probe.close()
    assert sorted(map(id, closed)) == sorted(map(id, made))
    probe.collect(now)  # a closed probe may be reused: the pool and sessions come back lazily


def test_password_in_url_is_masked_in_reasons():
    assert shown_url("http://ops:s3cret@127.0.0.1:9/x") == "http://ops:***@127.0.0.1:9/x"
    assert shown_url("http://127.0.0.1:9/x") == "http://127.0.0.1:9/x"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"urls": []}, "at least 1"),
        ({"urls": [{"name": "a", "url": "http://x/"}, {"name": "a", "url": "http://y/"}]}, "repeated: a"),
        ({"urls": [{"name": "Home", "url": "http://x/"}]}, "pattern"),
        ({"urls": [{"name": "a", "url": "ftp://x/"}]}, "http:// or https://"),
        ({"urls": [{"name": "a", "url": "http://x/", "extra": 1}]}, "Extra inputs"),
        ({"metric": "Response-Time"}, "pattern"),
        ({"expect_status": 700}, "not an HTTP status"),
        ({"expect_status": []}, "at least one status"),
        ({"retries": 3}, "Extra inputs"),
    ],
)
def test_settings_refuse_mistakes(change, expected):
    raw = {
        "type": "http",
        "name": "shop",
        "metric": "rt",
        "urls": [{"name": "a", "url": "http://x/"}],
        **change,
    }

    with pytest.raises(ValidationError, match=expected):
        HttpSettings.model_validate(raw)
