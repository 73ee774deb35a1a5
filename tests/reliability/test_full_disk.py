"""A full disk never silences a page: the record waits in memory, in order, and is written when space returns.

Issue 18 item 1: with the database on a nearly full filesystem a red push was accepted (202), the
alert log's write failed inside the engine and no alert opened; nobody was paged, and after space
was freed and the daemon restarted the alert never appeared. Here the database lives on a small
tmpfs filled to the last byte.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from app.wall_view import WallPlan, build_wall
from tests.harness.full_disk import NoSmallFilesystem, fill, small_filesystem
from tests.harness.receiver import Receiver
from tests.harness.rig import TOKEN, push, pushed_config, running_daemon
from tests.realparts import missing_part
from warroom.store.database import Store

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def disk(tmp_path):
    try:
        with small_filesystem(tmp_path / "disk", size_mb=24) as mounted:
            yield mounted
    except NoSmallFilesystem as err:
        missing_part(str(err))


@pytest.fixture
def phones():
    receiver = Receiver()
    yield receiver
    receiver.stop()


def _config(db: Path, phones: Receiver) -> dict:
    raw = pushed_config(db, {role: [phones.url(role)] for role in ("tech_lead", "ops_lead", "general_manager")},
                        group_window="0s")
    raw["levels"]["red"]["ack_timeout"] = "1h"
    raw["levels"]["orange"]["ack_timeout"] = "1h"
    return raw


def _health(base: str) -> dict:
    return requests.get(f"{base}/api/v1/health", timeout=5).json()


def _wait(what: Callable[[], Any], named: str, timeout: float = 30.0) -> Any:
    """What `what()` returns once it is truthy; fails naming the wait at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g}s for {named}")
        time.sleep(0.05)


def _active(base: str) -> list[dict]:
    return requests.get(f"{base}/api/v1/alerts", params={"state": "active"}, timeout=5).json()["alerts"]


def test_a_red_breach_on_a_full_disk_is_paged_and_recorded_once_space_returns(disk, phones, monkeypatch, caplog):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    caplog.set_level(logging.INFO)
    db = disk / "night.duckdb"
    raw = _config(db, phones)
    with running_daemon(raw) as (daemon, base):
        assert push(base, [{"metric": "failures", "value": 1.0}]).status_code == 202
        filler = fill(disk)

        def refused() -> str | None:
            push(base, [{"metric": "queue", "value": 1.0}])
            return _health(base)["writer_error"]

        assert "No space left on device" in _wait(refused, "the disk to refuse a commit")

        # The breach: accepted, opened from memory, paged to the general manager at once.
        assert push(base, [{"metric": "failures", "value": 80.0}]).status_code == 202
        page = _wait(lambda: phones.to("general_manager"), "the general manager's page")
        assert "RED" in page[0]["title"] and "Order failures" in page[0]["title"]
        record = _health(base)["record"]
        assert record["message"].startswith("DISK FULL: record incomplete since "), record
        board = requests.get(f"{base}/api/v1/board", timeout=5).json()
        assert board["record"]["disk_full"] and board["record"]["since"] == record["incomplete_since"]
        alert = next(a for a in _active(base) if a["metric"] == "failures")
        assert alert["level"] == "red" and alert["decider"]["role"] == "general_manager"
        assert [e["event"] for e in alert["events"]][:2] == ["opened", "notify"]

        # The technical lead (the no-data owner) hears about the record once, however many writes fail.
        disk_pages = _wait(lambda: phones.to("tech_lead"), "the technical lead's page about the disk")
        assert "DISK FULL" in disk_pages[0]["title"] and "night.duckdb" in disk_pages[0]["message"]
        for value in (85.0, 90.0, 95.0):
            assert push(base, [{"metric": "failures", "value": value}, {"metric": "queue", "value": value / 100}]
                        ).status_code == 202
        acked = requests.post(f"{base}/api/v1/alerts/{alert['id']}/ack", json={"by": "general_manager"},
                              headers=AUTH, timeout=5)
        assert acked.status_code == 200, acked.text
        health = _health(base)["record"]
        assert not health["complete"] and health["held"]["rows"] > 0 and health["held"]["samples"] > 0
        assert daemon.engine.record_alarm.pages == 1

        filler.unlink()  # space returns
        _wait(lambda: _health(base)["record"]["complete"], "the record to be complete again")
        assert _health(base)["record"]["refused_rows"] == 0
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("DISK FULL: record incomplete since ") for line in lines), lines
    assert any("record complete again" in line for line in lines)
    assert len(phones.to("tech_lead")) == 1

    # Everything decided while the disk was full is in the file now, in order and once.
    store = Store(db, read_only=True)
    try:
        row = store.execute("SELECT id, level, state, acked_by FROM alerts WHERE metric = 'failures'").fetchall()
        assert row == [(alert["id"], "red", "acked", "general_manager")]
        events = store.execute("SELECT event, step, channel FROM alert_events WHERE alert_id = ? ORDER BY rowid",
                               [alert["id"]]).fetchall()
        kinds = [e[0] for e in events]
        assert kinds.index("opened") < kinds.index("notify") < kinds.index("delivered") < kinds.index("acked")
        assert not [k for k, n in Counter(events).items() if n > 1], events
        values = {v for (v,) in store.execute("SELECT value FROM samples WHERE metric = 'failures'").fetchall()}
        assert {80.0, 85.0, 90.0, 95.0} <= values
        assert store.execute("SELECT count(*) FROM level_changes WHERE metric = 'failures' AND level = 'red'"
                             ).fetchall()[0][0] >= 1
    finally:
        store.close()

    # A restart finds the alert acknowledged, and pages nobody again.
    with running_daemon(raw) as (daemon, base):
        again = next(a for a in _active(base) if a["metric"] == "failures")
        assert again["id"] == alert["id"] and again["state"] == "acked"
        assert daemon.engine.log.pending_notices() == []
    assert len(phones.to("general_manager")) == 1 and len(phones.to("tech_lead")) == 1



def test_a_daemon_started_on_a_full_disk_pages_the_breach_and_the_no_data_owner(disk, phones, monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    raw = _config(disk / "night.duckdb", phones)
    with running_daemon(raw) as (_, base):
        assert push(base, [{"metric": "failures", "value": 1.0}]).status_code == 202
    filler = fill(disk)
    with running_daemon(raw) as (_, base):  # its own start is the first write the disk refuses
        assert push(base, [{"metric": "failures", "value": 80.0}]).status_code == 202
        assert "RED" in _wait(lambda: phones.to("general_manager"), "the general manager's page")[0]["title"]
        assert "DISK FULL" in _wait(lambda: phones.to("tech_lead"), "the page about the disk")[0]["title"]
        filler.unlink()
        _wait(lambda: _health(base)["record"]["complete"], "the record to be complete again")
    with running_daemon(raw) as (_, base):
        assert [a["level"] for a in _active(base) if a["metric"] == "failures"] == ["red"]


def test_the_wall_says_the_record_is_incomplete_without_growing_the_header():
    board = {"at": "2024-11-11T15:31:10+00:00", "campaign": {"name": "night", "timezone": "Asia/Shanghai"},
             "tiles": [], "record": {"complete": False, "since": "2024-11-11T15:31:05+00:00", "disk_full": True}}
    plan = WallPlan("", "", (), (), ())
    now = datetime(2024, 11, 11, 15, 31, 10, tzinfo=UTC)
    zh = build_wall(board, [], "ok", plan, "zh-CN", now).header
    assert 'data-record="incomplete"' in zh and "磁盘已满: 自 23:31:05 起记录不完整" in zh
    assert "DISK FULL: record incomplete since 23:31:05" in build_wall(board, [], "ok", plan, "en", now).header
    board["record"] = {"complete": True, "since": None}
    assert "data-record" not in build_wall(board, [], "ok", plan, "en", now).header
