"""The record's read routes over an archive: alerts and run sheet as they stood at T, timeline, one-call frames."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.warroom.record.kit import at, queue_config, recorded_night
from warroom.archive.replay import archive_app, open_archive
from warroom.record.timeline import time_at_levels


@pytest.fixture
def client(tmp_path):
    recorded_night(tmp_path / "n.duckdb", queue_config()).close()
    archive = open_archive(tmp_path / "n.duckdb")
    yield TestClient(archive_app(archive))
    archive.close()


def test_alerts_as_they_stood_at_a_moment(client):
    def active(seconds):
        return client.get("/api/v1/alerts", params={"state": "active", "at": at(seconds).isoformat()}).json()["alerts"]

    assert active(99) == []
    (a,) = active(102)
    assert (a["level"], a["state"], a["owner"]["name"], a["acked_by"], a["escalated_to"]) == \
        ("red", "open", "Wang", None, None)
    assert [e["event"] for e in a["events"]] == ["opened", "notify"]
    (a,) = active(135)
    assert a["escalated_to"]["role"] == "general_manager" and a["green_since"] == at(130).isoformat()
    (a,) = active(145)
    assert a["state"] == "acked" and a["acked_by"] == "general_manager"
    assert active(161) == []


def test_run_sheet_at_a_moment_counts_from_the_first_start(client):
    steps = client.get("/api/v1/runsheet", params={"at": at(149).isoformat()}).json()["steps"]
    assert steps[0]["at"] == at(600).isoformat() and steps[0]["seconds_until"] == 451 and not steps[0]["done"]
    steps = client.get("/api/v1/runsheet", params={"at": at(151).isoformat()}).json()["steps"]
    assert steps[0]["done"] and steps[0]["done_by"] == "ops_lead" and not steps[1]["done"]


def test_one_frame_is_the_board_the_strip_and_the_run_sheet(client):
    frame = client.get("/api/v1/frame", params={"at": at(115).isoformat()}).json()
    assert frame["board"]["tiles"][0]["level"] == "red" and frame["board"]["live"] is False
    assert [a["id"] for a in frame["alerts"]] == [1] and len(frame["runsheet"]) == 2


def test_timeline_in_time_order_with_bands(client):
    answer = client.get("/api/v1/timeline", params={"from": at(0).isoformat(), "to": at(300).isoformat()}).json()
    events = answer["events"]
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
    sources = {(e["source"], e["kind"]) for e in events}
    assert {("alert", "opened"), ("alert", "acked"), ("decision", "decision"), ("runsheet", "runsheet"),
            ("level", "red"), ("level", "stale")} <= sources
    decision = next(e for e in events if e["source"] == "decision")
    assert decision["who"] == "Wang" and decision["what"] == "switch to the backup servers"
    spans = answer["bands"]["queue"]
    assert [s["level"] for s in spans] == ["stale", "green", "red", "green", "stale"]
    assert time_at_levels(spans) == {"stale": 101.0, "green": 169.0, "red": 30.0}


def test_campaign_answer(client):
    c = client.get("/api/v1/campaign").json()
    assert c["name"] == "recorded night" and c["live"] is False and c["last_sample"] == at(170).isoformat()
