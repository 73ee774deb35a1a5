"""T=0 without a keyboard: a `do: report` step writes the night's copy and report at its time, is recorded done
by warroom and pages its owner where they are; a failure is recorded and paged, never fatal; nothing twice."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest
import requests

from alerts.roster import Roster
from tests.daemon_kit import wait_for
from tests.harness.receiver import Receiver
from tests.harness.rig import TOKEN, push, running_daemon
from tests.warroom.record.kit import T0
from warroom.config.load import parse_config
from warroom.record import decisions
from warroom.record.runsheet import ACTOR
from warroom.record.runsheet_actions import MAX_TRIES, RETRY_AFTER, RunSheetActions
from warroom.store.database import Store


def config(db, receiver, steps, locale="en"):
    people = {"tech_lead": "Zhang", "ops_lead": "Li", "general_manager": "Wang"}
    return {
        "campaign": {"name": "t zero", "end": "+1h", "locale": locale, "timezone": "Asia/Shanghai",
                     "run_sheet": steps},
        "people": {role: {"name": name, "phone": "1", "channels": [receiver.url(role)]}
                   for role, name in people.items()},
        "collectors": [],
        "metrics": {"failures": {"title": "Order failures", "yellow": 5, "pushed": True, "stale_after": "1h"}},
        "alerts": {"resolve_after": "0s", "repeat_every": "0s", "group_window": "0s", "board_url": "http://board/"},
        "server": {"port": 0, "database": str(db), "tick": "100ms"},
    }


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def board_token(monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)


def log_rows(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT author, role, kind, ref, text FROM annotations ORDER BY ts, rowid").fetchall()
    finally:
        con.close()


def test_a_report_step_writes_the_copy_and_the_report_records_it_and_pages_the_owner(tmp_path, receiver):
    db = tmp_path / "data" / "night.duckdb"
    steps = [{"at": "+1s", "action": "00:30 full backup, first report", "owner": "ops_lead", "do": "report"}]
    with running_daemon(config(db, receiver, steps)) as (daemon, base):
        push(base, [{"metric": "failures", "value": 1}])
        (page,) = wait_for(lambda: receiver.to("ops_lead"), 120, "the owner's page with the report")
        body = page["message"]
        report = next(line.split(": ", 1)[1].rsplit(" (", 1)[0] for line in body.splitlines()
                      if line.startswith("Report: "))
        link = next(line.split(": ", 1)[1] for line in body.splitlines() if line.startswith("Open the report: "))
        assert "DONE BY WARROOM" in page["title"] and "Owner: Li" in body and "Board: http://board/" in body
        served = requests.get(link, timeout=10)
        assert served.ok and served.text.startswith("<!doctype html>") and "t zero" in served.text
        listed = requests.get(f"{base}/api/v1/reports", timeout=10).json()["reports"]
        assert [r["name"] for r in listed] == [link.rsplit("/", 1)[1]]
        steps_now = requests.get(f"{base}/api/v1/runsheet", timeout=10).json()["steps"]
        assert steps_now[0]["done"] and steps_now[0]["done_by"] == "warroom"
        assert steps_now[0]["undo_until"] is None  # nothing to undo: the files are there
        # the copy is a whole database of its own: the report was made from it, replay can open it
        copy = next(line.split(": ", 1)[1].rsplit(" (", 1)[0] for line in body.splitlines()
                    if line.startswith("Database copy"))
        con = duckdb.connect(copy, read_only=True)
        assert con.execute("SELECT count(*) FROM campaigns").fetchall() == [(1,)]
        con.close()
        assert report.endswith("-report.html") and (db.parent / "reports").is_dir()
        assert not [p for p in (db.parent / "reports").iterdir() if ".partial-" in p.name]
    rows = [r for r in log_rows(db) if r[0] == "warroom"]
    assert rows == [("warroom", "warroom", "runsheet", "runsheet:0",
                     f"done: 00:30 full backup, first report (by warroom: {report}, {copy})")]


def test_a_failed_step_is_recorded_and_paged_never_fatal_and_a_restart_does_not_repeat_a_done_one(tmp_path,
                                                                                                   receiver):
    db = tmp_path / "data" / "night.duckdb"
    db.parent.mkdir()
    (db.parent / "reports").write_text("a file where the folder should be")
    steps = [{"at": "+0s", "action": "snapshot", "owner": "tech_lead", "do": "archive"}]
    with running_daemon(config(db, receiver, steps, locale="zh-CN")) as (_, base):
        (page,) = wait_for(lambda: receiver.to("tech_lead"), 60, "the page saying the step failed")
        assert "warroom 未能完成" in page["title"] and "原因:" in page["message"]
        assert "warroom 将于" in page["message"]  # and when it tries again
        # paging and the API go on: an alert opened after the failure reaches its owner
        push(base, [{"metric": "failures", "value": 9}])
        wait_for(lambda: [m for m in receiver.to("tech_lead") if "Order failures" in m.get("title", "")], 30,
                 "the alert's page after the failed step")
    (failed,) = [r for r in log_rows(db) if r[0] == "warroom"]
    assert failed[2] == "runsheet_failed" and f"attempt 1 of {MAX_TRIES}" in failed[4]


def test_a_step_is_done_once_a_failed_one_is_tried_again_after_a_while_and_not_forever(tmp_path):
    loaded = parse_config({
        "campaign": {"name": "t zero", "end": "+1h",
                     "run_sheet": [{"at": "+10m", "action": "report", "owner": "ops_lead", "do": "report"}]},
        "people": {r: {"name": r} for r in ("tech_lead", "ops_lead", "general_manager")},
        "collectors": [], "metrics": {"failures": {"title": "F", "yellow": 5, "pushed": True}}}, env={})
    store = Store(tmp_path / "n.duckdb")
    try:
        actions = RunSheetActions(loaded.config, store, Roster(loaded.config, store), lambda: T0, T0,
                                  tmp_path / "n.duckdb")
        step_at = T0 + timedelta(minutes=10)
        assert actions.due(step_at - timedelta(seconds=1)) == [] and actions.due(step_at) == [0]
        moment = step_at
        for attempt in range(1, MAX_TRIES + 1):
            decisions.record(store, moment, ACTOR, f"could not (attempt {attempt})", role=ACTOR,
                             kind="runsheet_failed", ref="runsheet:0")
            assert actions.due(moment + RETRY_AFTER - timedelta(seconds=1)) == []
            moment += RETRY_AFTER
            assert actions.due(moment) == ([0] if attempt < MAX_TRIES else [])
        store.execute("DELETE FROM annotations")
        decisions.record(store, step_at, ACTOR, "done", role=ACTOR, kind="runsheet", ref="runsheet:0")
        assert actions.due(step_at + timedelta(hours=1)) == []  # done once, also after a restart
    finally:
        store.close()


def test_a_failure_whose_record_still_waits_for_the_disk_is_not_done_again_every_second(tmp_path):
    loaded = parse_config({
        "campaign": {"name": "t zero", "end": "+1h",
                     "run_sheet": [{"at": "+0s", "action": "snapshot", "owner": "ops_lead", "do": "archive"}]},
        "people": {r: {"name": r} for r in ("tech_lead", "ops_lead", "general_manager")},
        "collectors": [], "metrics": {"failures": {"title": "F", "yellow": 5, "pushed": True}}}, env={})
    (tmp_path / "reports").write_text("a file where the folder should be")
    store = Store(tmp_path / "n.duckdb")
    try:
        actions = RunSheetActions(loaded.config, store, Roster(loaded.config, store), lambda: T0, T0,
                                  tmp_path / "n.duckdb")
        assert actions.run(0).error is not None
        # a full disk: the failure's row waits in the store's backlog, not yet in the table
        store.execute("DELETE FROM annotations")
        assert actions.due(T0 + timedelta(seconds=1)) == []
        assert actions.due(T0 + RETRY_AFTER) == [0]
    finally:
        store.close()
