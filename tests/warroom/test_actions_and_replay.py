"""Silences, the run sheet and tokens through the API; then the same night replayed read-only."""

from __future__ import annotations

import time

import pytest
import requests
from fastapi.testclient import TestClient

from tests.daemon_kit import wait_for
from warroom.archive.replay import archive_app, open_archive
from warroom.config.load import parse_config
from warroom.daemon.daemon import Daemon

TOKEN = "tok-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def night_config(tmp_path):
    raw = {
        "campaign": {"name": "replayed night", "end": "+1h", "locale": "en",
                     "run_sheet": [{"at": "+10m", "action": "close the entry", "owner": "ops_lead"},
                                   {"at": "+20m", "action": "close payment", "owner": "tech_lead"}]},
        "people": {"tech_lead": {"name": "Zhang"}, "ops_lead": {"name": "Li"}, "general_manager": {"name": "Wang"}},
        "collectors": [],
        "metrics": {"queue": {"title": "Queue", "yellow": 10, "red": 50, "clear": 5, "pushed": True,
                               "stale_after": "1h"}},
        "alerts": {"resolve_after": "0s", "repeat_every": "0s"},
        "server": {"port": 0, "database": str(tmp_path / "night.duckdb"), "tick": "50ms"},
    }
    return parse_config(raw, env={})


@pytest.fixture
def daemon(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    d = Daemon(night_config(tmp_path))
    d.start()
    yield d, f"http://127.0.0.1:{d.api.port}"
    d.stop()


def push(base, value):
    r = requests.post(f"{base}/api/v1/push", json={"samples": [{"metric": "queue", "value": value}]}, headers=AUTH,
                      timeout=5)
    assert r.status_code == 202, r.text


def test_state_changes_need_the_token(daemon):
    _, base = daemon
    for path, body in [("/api/v1/silences", {"author": "Li", "reason": "x"}),
                       ("/api/v1/annotations", {"author": "Li", "text": "x"}),
                       ("/api/v1/push", {"samples": [{"metric": "queue", "value": 1}]}),
                       ("/api/v1/runsheet/0/done", {"by": "ops_lead"})]:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            r = requests.post(base + path, json=body, headers=headers, timeout=5)
            assert r.status_code == 403, (path, r.text)
            assert r.json()["error"]["field"] == "authorization"


def test_silence_records_but_does_not_page_and_can_be_ended(daemon):
    d, base = daemon
    r = requests.post(f"{base}/api/v1/silences", headers=AUTH, timeout=5,
                      json={"metric": "queue", "duration": "10m", "author": "Li", "reason": "planned scale-out"})
    assert r.status_code == 201
    silence_id = r.json()["id"]
    push(base, 60)
    (alert,) = wait_for(lambda: requests.get(f"{base}/api/v1/alerts", timeout=5).json()["alerts"], 5, "the alert")
    assert alert["silenced"] is True
    assert "silenced" in {e["event"] for e in alert["events"]} and "notify" not in {e["event"] for e in alert["events"]}
    assert requests.get(f"{base}/api/v1/silences", timeout=5).json()["silences"][0]["reason"] == "planned scale-out"
    assert requests.delete(f"{base}/api/v1/silences/{silence_id}", headers=AUTH, timeout=5).status_code == 200
    assert requests.get(f"{base}/api/v1/silences", timeout=5).json()["silences"] == []
    bad = requests.post(f"{base}/api/v1/silences", headers=AUTH, timeout=5,
                        json={"metric": "queue", "duration": "forever", "author": "Li", "reason": "x"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "duration"
    unknown = requests.post(f"{base}/api/v1/silences", headers=AUTH, timeout=5,
                            json={"metric": "nope", "author": "Li", "reason": "x"})
    assert unknown.status_code == 404


def test_run_sheet_countdown_and_done_is_a_decision(daemon):
    _, base = daemon
    steps = requests.get(f"{base}/api/v1/runsheet", timeout=5).json()["steps"]
    assert [s["action"] for s in steps] == ["close the entry", "close payment"]
    assert 590 < steps[0]["seconds_until"] <= 600 and steps[0]["owner"]["name"] == "Li"
    r = requests.post(f"{base}/api/v1/runsheet/0/done", json={"by": "ops_lead"}, headers=AUTH, timeout=5)
    assert r.status_code == 200
    steps = requests.get(f"{base}/api/v1/runsheet", timeout=5).json()["steps"]
    assert steps[0]["done"] and steps[0]["done_by"] == "ops_lead" and not steps[1]["done"]
    log = requests.get(f"{base}/api/v1/annotations", timeout=5).json()["annotations"]
    assert log[-1]["kind"] == "runsheet" and "close the entry" in log[-1]["text"]
    assert requests.post(f"{base}/api/v1/runsheet/9/done", json={"by": "ops_lead"}, headers=AUTH,
                         timeout=5).status_code == 404
    assert requests.post(f"{base}/api/v1/runsheet/1/done", json={"by": "ceo"}, headers=AUTH,
                         timeout=5).status_code == 422


def test_replay_shows_the_board_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    loaded = night_config(tmp_path)
    d = Daemon(loaded)
    d.start()
    base = f"http://127.0.0.1:{d.api.port}"
    try:
        push(base, 5)
        time.sleep(0.3)
        quiet = d.clock()
        time.sleep(0.3)
        push(base, 60)
        wait_for(lambda: requests.get(f"{base}/api/v1/alerts", timeout=5).json()["alerts"], 5, "the red alert")
        time.sleep(0.3)
    finally:
        d.stop()
    archive = open_archive(tmp_path / "night.duckdb")
    try:
        client = TestClient(archive_app(archive))
        then = client.get("/api/v1/board", params={"at": quiet.isoformat()}).json()
        assert then["live"] is False and then["campaign"]["name"] == "replayed night"
        assert then["tiles"][0]["value"] == 5 and then["tiles"][0]["level"] == "green"
        now = client.get("/api/v1/board").json()["tiles"][0]
        assert now["value"] == 60 and now["level"] == "red" and now["owner"]["name"] == "Wang"
        (alert,) = client.get("/api/v1/alerts", params={"from": "-1h"}).json()["alerts"]
        assert alert["level"] == "red" and alert["events"][0]["event"] == "opened"
        # an archive is read-only: every action answers 409, token or not
        for method, path in [("post", "/api/v1/push"), ("post", "/api/v1/alerts/1/ack"),
                             ("post", "/api/v1/annotations"), ("post", "/api/v1/runsheet/0/done"),
                             ("delete", "/api/v1/silences/1")]:
            r = getattr(client, method)(path, json={"samples": []}, headers=AUTH) if method == "post" else \
                client.delete(path, headers=AUTH)
            assert r.status_code == 409 and "read-only replay" in r.json()["error"]["message"], (path, r.text)
    finally:
        archive.close()


def test_live_tile_shows_the_engine_level_inside_the_clear_band(daemon):
    _, base = daemon
    push(base, 60)
    push(base, 47)  # below red's 50 but inside its 5-wide clear band: still red, as the alert says

    def tile():
        t = requests.get(f"{base}/api/v1/board", timeout=5).json()["tiles"][0]
        return t if t["value"] == 47 else None

    t = wait_for(tile, 5, "the second value on the board")
    assert t["level"] == "red" and t["owner"]["name"] == "Wang"
    (alert,) = requests.get(f"{base}/api/v1/alerts", timeout=5).json()["alerts"]
    assert alert["level"] == t["level"]
