"""A night exported and imported into a fresh file answers as the original does: the same report, figure for
figure, and the same replay frame at every second of it (a night recorded by the real daemon and engine)."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.warroom.report.test_night_straight import play
from tests.warroom.test_transfer import full_night
from warroom.archive.replay import archive_app, open_archive
from warroom.archive.report.make import make_report
from warroom.store.database import Store
from warroom.store.transfer import export, import_record


def restored(db, folder, fmt):
    """`db` exported as `fmt` and imported into a new file."""
    export(db, folder / f"out-{fmt}", fmt)
    back = folder / f"back-{fmt}.duckdb"
    store = Store(back)
    try:
        import_record(store, folder / f"out-{fmt}")
    finally:
        store.close()
    return back


def report_of(db, out):
    page = make_report(db, out, stderr=io.StringIO()).read_text(encoding="utf-8")
    # the moment it was written and the file's name are the only things that may differ
    return re.sub(r"(Generated|生成时间) [0-9-]+ [0-9:]+ · (Recorded in|数据文件) \S+", "", page)


def frames(db):
    """The replay frame at every second from the first sample to the last, as the API answers it."""
    archive = open_archive(db)
    try:
        with TestClient(archive_app(archive)) as client:
            campaign = client.get("/api/v1/campaign").json()
            first = datetime.fromisoformat(campaign["first_sample"]).replace(microsecond=0)
            last = datetime.fromisoformat(campaign["last_sample"])
            out, at = {}, first
            while at <= last + timedelta(seconds=1):
                out[at.isoformat()] = client.get("/api/v1/frame", params={"at": at.isoformat()}).json()
                at += timedelta(seconds=1)
            return out
    finally:
        archive.close()


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    db = tmp_path_factory.mktemp("round-trip") / "night.duckdb"
    play(db, "zh-CN")
    return db


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_played_night_comes_back_with_the_same_report_and_replay(played, tmp_path, fmt):
    back = restored(played, tmp_path, fmt)
    original = report_of(played, tmp_path / "a.html")
    assert "Order failures" in original and "孙磊" in original
    assert report_of(back, tmp_path / "b.html") == original
    assert frames(back) == frames(played)


@pytest.mark.slow
def test_ten_minutes_come_back_the_same_at_every_second(tmp_path):
    night = full_night(tmp_path / "night.duckdb")
    back = restored(night, tmp_path, "csv")
    original = frames(night)
    assert len(original) >= 600
    assert frames(back) == original
