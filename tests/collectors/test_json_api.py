"""`json` collector against a real local http.server: good fields survive bad ones."""

from __future__ import annotations

import json
import math
import time

import pytest
from pydantic import ValidationError

from collectors.json_api import FieldProblem, JsonApiCollector, JsonApiSettings, as_number, pick
from collectors.web import MAX_BODY_BYTES
from tests.collectors.conftest import answer, by_metric, failure, huge, late
from tests.realparts import free_port

STATS = {
    "data": {"orders_total": 1520, "answered": 45, "offered": 60, "rate": "12.5", "idle": 0, "open": True},
    "items": [{"value": 7.25}, {"value": "abc"}],
}


def json_reply(document: object, status: int = 200):
    return answer(status, json.dumps(document), "application/json")


def test_fields_and_ratios_from_one_reply(web, build, now):
    url = web.route("/api/orders/stats", json_reply(STATS))
    api = build(
        JsonApiCollector,
        {
            "type": "json",
            "url": url,
            "headers": {"Authorization": "Bearer t0ken"},
            "fields": {"orders": "data.orders_total", "first_item": "items.0.value", "rate": "data.rate"},
            "ratios": {
                "answer_rate": {"numerator": "data.answered", "denominator": "data.offered"},
                "answer_share": {"numerator": "data.answered", "denominator": "data.offered", "scale": 1},
            },
        },
    )

    samples = api.collect(now)

    assert by_metric(samples) == {
        "orders": 1520.0,
        "first_item": 7.25,
        "rate": 12.5,
        "answer_rate": 75.0,
        "answer_share": 0.75,
    }
    assert all(sample.ts == now for sample in samples)
    assert web.seen[-1][1]["Authorization"] == "Bearer t0ken"
    assert api.settings.produces() == ["orders", "first_item", "rate", "answer_rate", "answer_share"]


def test_every_bad_field_is_named_and_the_good_ones_are_kept(web, build, now):
    url = web.route("/api/orders/stats", json_reply(STATS))
    api = build(
        JsonApiCollector,
        {
            "type": "json",
            "url": url,
            "fields": {
                "orders": "data.orders_total",
                "missing": "data.abandoned",
                "word": "items.1.value",
                "flag": "data.open",
                "past_end": "items.5.value",
            },
            "ratios": {
                "answer_rate": {"numerator": "data.answered", "denominator": "data.idle", "when_zero": "error"},
                "no_numerator": {"numerator": "data.nothing", "denominator": "data.offered"},
            },
        },
    )

    error = failure(lambda: api.collect(now))

    assert error.reason == (
        f"GET {url}: field 'data.abandoned' missing in reply; field 'items.1.value' is 'abc', not a number; "
        "field 'data.open' is true, not a number; field 'items.5.value' missing in reply; "
        "ratio answer_rate: denominator 'data.idle' is 0, ratio undefined; "
        "ratio no_numerator: field 'data.nothing' missing in reply"
    )
    assert by_metric(error.samples) == {"orders": 1520.0}


def test_a_zero_denominator_is_no_traffic_not_a_failure(web, build, now):
    # After the close the order API reports 0 submissions: the success ratio is undefined, and that is
    # no traffic (NaN, which the engine shows as such and pages nobody about), not a failed poll.
    url = web.route("/api/orders/stats", json_reply(STATS))
    ratio = {"numerator": "data.answered", "denominator": "data.idle"}
    api = build(JsonApiCollector, {"type": "json", "url": url, "fields": {"orders": "data.orders_total"},
                                   "ratios": {"answer_rate": ratio}})
    samples = {s.metric: s.value for s in api.collect(now)}
    assert samples["orders"] == 1520.0 and math.isnan(samples["answer_rate"])


def test_reply_that_is_not_json(web, build, now):
    url = web.route("/api", answer(200, "<html>oops</html>", "text/html"))
    api = build(JsonApiCollector, {"type": "json", "url": url, "fields": {"orders": "data.orders_total"}})

    assert failure(lambda: api.collect(now)).reason == (
        f"GET {url}: reply is not JSON: Expecting value at line 1 column 1"
    )


def test_server_error_is_reported_with_its_status(web, build, now):
    url = web.route("/api", json_reply({"error": "db down"}, status=503))
    api = build(JsonApiCollector, {"type": "json", "url": url, "fields": {"orders": "data.orders_total"}})

    assert failure(lambda: api.collect(now)).reason == f"GET {url}: HTTP 503 Service Unavailable"


def test_connection_refused(build, now):
    url = f"http://127.0.0.1:{free_port()}/api/orders/stats"
    api = build(JsonApiCollector, {"type": "json", "url": url, "fields": {"orders": "data.orders_total"}})

    error = failure(lambda: api.collect(now))

    assert error.reason == f"GET {url}: connection refused"
    assert error.samples == []


def test_timeout(web, build, now):
    url = web.route("/api", late(2.0, 200, json.dumps(STATS)))
    api = build(
        JsonApiCollector, {"type": "json", "url": url, "timeout": 0.3, "fields": {"o": "data.orders_total"}}
    )

    started = time.monotonic()
    error = failure(lambda: api.collect(now))

    assert time.monotonic() - started < 1.0
    assert error.reason == f"GET {url}: timed out after 300ms"
    assert error.samples == []


def test_a_10_mb_reply_is_capped_not_read_whole(web, build, now):
    url = web.route("/api", huge(10_000_000))
    api = build(JsonApiCollector, {"type": "json", "url": url, "timeout": "5s", "fields": {"o": "0"}})

    started = time.monotonic()
    error = failure(lambda: api.collect(now))

    assert time.monotonic() - started < 2.0
    assert error.reason == f"GET {url}: reply larger than {MAX_BODY_BYTES} bytes (capped, not read whole)"


def test_the_session_is_reused_between_polls(web, build, now):
    url = web.route("/api", json_reply(STATS))
    api = build(JsonApiCollector, {"type": "json", "url": url, "fields": {"orders": "data.orders_total"}})

    for _ in range(3):
        assert by_metric(api.collect(now)) == {"orders": 1520.0}
    assert len(web.seen) == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3.0), (2.5, 2.5), ("12.5", 12.5), (" 7 ", 7.0), ("-1e3", -1000.0), (0, 0.0)],
)
def test_numbers_and_numeric_strings_are_accepted(value, expected):
    assert as_number(value, "x") == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "field 'x' is true, not a number"),
        (None, "field 'x' is null, not a number"),
        ("abc", "field 'x' is 'abc', not a number"),
        ("NaN", "field 'x' is 'NaN', not a finite number"),
        ({"a": 1}, "field 'x' is {\"a\": 1}, not a number"),
        ("z" * 200, "..., not a number"),
    ],
)
def test_non_numbers_are_refused_readably(value, reason):
    with pytest.raises(FieldProblem) as caught:
        as_number(value, "x")
    assert reason in str(caught.value)


@pytest.mark.parametrize("path", ["data.orders_total.x", "items.-1.value", "items.2", "items.value", "nope"])
def test_paths_that_lead_nowhere_are_missing(path):
    with pytest.raises(FieldProblem, match=f"field '{path}' missing in reply"):
        pick(STATS, path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"fields": {}, "ratios": {}}, "at least one entry"),
        ({"fields": {"Orders": "data.orders_total"}}, "pattern"),
        ({"fields": {"orders": "data..orders_total"}}, "pattern"),
        (
            {"fields": {"x": "a"}, "ratios": {"x": {"numerator": "a", "denominator": "b"}}},
            "both fields and ratios",
        ),
        ({"ratios": {"r": {"numerator": "a", "denominator": "b", "percent": True}}}, "Extra inputs"),
        ({"url": "orders.internal/api"}, "http:// or https://"),
        ({"params": {"a": 1}}, "Extra inputs"),
    ],
)
def test_settings_refuse_mistakes(change, expected):
    raw = {
        "type": "json",
        "name": "orders",
        "url": "http://127.0.0.1/api",
        "fields": {"o": "data.x"},
        **change,
    }

    with pytest.raises(ValidationError, match=expected):
        JsonApiSettings.model_validate(raw)
