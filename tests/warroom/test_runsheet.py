"""Run-sheet marks through the API: the confirming role is recorded, a double tap refused, undo within a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.warroom.test_actions_and_replay import AUTH, TOKEN, night_config
from warroom.daemon.daemon import Daemon


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def night(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    clock = Clock()
    daemon = Daemon(night_config(tmp_path), clock=clock)
    daemon.start()
    yield clock, f"http://127.0.0.1:{daemon.api.port}"
    daemon.stop()


def post(base: str, path: str, by: str, headers: dict | None = None) -> requests.Response:
    return requests.post(base + path, json={"by": by}, headers=AUTH if headers is None else headers, timeout=5)


def steps(base: str) -> list[dict]:
    return requests.get(f"{base}/api/v1/runsheet", timeout=5).json()["steps"]


def log(base: str) -> list[dict]:
    return requests.get(f"{base}/api/v1/annotations",
                        timeout=5).json()["annotations"]


def test_mark_records_who_confirmed_and_undo_within_a_minute_is_logged(night):
    clock, base = night
    # The ops lead's step, confirmed on the kiosk by the technical lead: credited to who confirmed.
    done = post(base, "/api/v1/runsheet/0/done", "tech_lead")
    assert done.status_code == 200 and done.json()["done_by"] == "tech_lead"
    step = steps(base)[0]
    assert step["done"] and step["done_by"] == "tech_lead"
    assert datetime.fromisoformat(step["undo_until"]) == datetime.fromisoformat(step["done_at"]) + timedelta(seconds=60)
    assert log(base)[-1]["text"] == "done: close the entry (confirmed by tech_lead for ops_lead)"
    again = post(base, "/api/v1/runsheet/0/done", "ops_lead")
    assert again.status_code == 409 and "already done (by tech_lead" in again.json()["error"]["message"]
    clock.now += timedelta(seconds=45)
    undone = post(base, "/api/v1/runsheet/0/undo", "tech_lead")
    assert undone.status_code == 200 and undone.json()["was_done_by"] == "tech_lead"
    assert not steps(base)[0]["done"]
    entries = log(base)
    assert [e["kind"] for e in entries[-2:]] == ["runsheet", "runsheet_undo"]
    assert entries[-1]["role"] == "tech_lead" and entries[-1]["text"].startswith("undone: close the entry")
    assert post(base, "/api/v1/runsheet/0/undo", "tech_lead").status_code == 409  # nothing left to undo
    assert post(base, "/api/v1/runsheet/0/done", "ops_lead").json()["done_by"] == "ops_lead"


def test_undo_after_a_minute_is_refused(night):
    clock, base = night
    assert post(base, "/api/v1/runsheet/1/done", "tech_lead").status_code == 200
    clock.now += timedelta(seconds=61)
    late = post(base, "/api/v1/runsheet/1/undo", "tech_lead")
    assert late.status_code == 409 and "undo is possible for 60s only" in late.json()["error"]["message"]
    assert steps(base)[1]["done"]
    assert post(base, "/api/v1/runsheet/1/undo", "tech_lead", headers={}).status_code == 403
    assert post(base, "/api/v1/runsheet/7/undo", "tech_lead").status_code == 404
