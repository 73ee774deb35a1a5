"""One file per campaign: a restart resumes it with the same window; a new night archives the old file."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.warroom.record.kit import T0, queue_config
from warroom.archive.replay import open_archive
from warroom.config.load import parse_config
from warroom.record.campaign import config_from_snapshot, open_campaign


def rehearsal():
    return queue_config(start="+0s", end="+6m40s",
                        run_sheet=[{"at": "+10m", "action": "report", "owner": "ops_lead"}])


def test_a_restart_resumes_the_night_without_moving_the_countdown(tmp_path):
    db = tmp_path / "warroom.duckdb"
    store, first, archived = open_campaign(db, rehearsal(), T0)
    store.close()
    assert archived is None and first.end == T0 + timedelta(minutes=6, seconds=40)
    store, again, archived = open_campaign(db, rehearsal(), T0 + timedelta(minutes=3))
    try:
        assert archived is None and again == first  # same id, same anchor, same end
        assert store.execute("SELECT count(*) FROM daemon_starts").fetchall()[0][0] == 2
        assert store.execute("SELECT count(*) FROM campaigns").fetchall()[0][0] == 1
    finally:
        store.close()


def test_after_the_night_is_over_the_next_start_is_a_fresh_record_and_the_old_one_an_archive(tmp_path):
    db = tmp_path / "warroom.duckdb"
    store, first, _ = open_campaign(db, rehearsal(), T0)
    store.execute("INSERT INTO annotations (ts, author, role, level, alert_id, kind, text, ref) "
                  "VALUES (?, 'Li', 'ops_lead', NULL, NULL, 'runsheet', 'done', 'runsheet:0')",
                  [T0.replace(tzinfo=None)])
    store.close()
    # the end (+6m40s) has passed but the last run-sheet step (+10m) has not: still tonight
    store, same, archived = open_campaign(db, rehearsal(), T0 + timedelta(minutes=8))
    store.close()
    assert archived is None and same.id == first.id
    later = T0 + timedelta(minutes=11)
    store, fresh, archived = open_campaign(db, rehearsal(), later)
    try:
        assert archived is not None and archived.parent == tmp_path / "campaigns"
        assert archived.name.startswith("warroom-20241111T150000Z-recorded-night")
        assert fresh.id != first.id and fresh.anchor == later and fresh.end == later + timedelta(minutes=6, seconds=40)
        # the new night inherits nothing: no run-sheet step done
        assert store.execute("SELECT count(*) FROM annotations").fetchall()[0][0] == 0
    finally:
        store.close()
    old = open_archive(archived)  # still readable as its own night, against its own config
    try:
        assert old.campaign.id == first.id and old.loaded.config.campaign.end == "+6m40s"
    finally:
        old.close()


def test_another_campaign_in_the_config_archives_the_file(tmp_path):
    db = tmp_path / "warroom.duckdb"
    store, first, _ = open_campaign(db, queue_config(), T0)
    store.close()
    store, second, archived = open_campaign(db, queue_config(name="next night"), T0 + timedelta(minutes=1))
    store.close()
    assert archived is not None and second.name == "next night" and second.id != first.id


def test_the_config_snapshot_is_masked_and_reads_back(tmp_path):
    raw = json.loads(json.dumps(queue_config().config.model_dump(mode="json", by_alias=True)))
    raw["people"]["ops_lead"]["channels"] = ["json://127.0.0.1:9/im?token=${IM_TOKEN}"]
    raw["people"]["ops_lead"]["phone"] = "${OPS_PHONE}"
    loaded = parse_config(raw, "secret", env={"IM_TOKEN": "s3cr3t-token", "OPS_PHONE": "+86 139"})
    store, record, _ = open_campaign(tmp_path / "w.duckdb", loaded, T0)
    store.close()
    assert "s3cr3t-token" not in record.config_snapshot and "+86 139" not in record.config_snapshot
    back = config_from_snapshot(record.config_snapshot, "archive").config
    assert back.people["ops_lead"].phone == "***" and back.people["ops_lead"].channels == []
    assert list(back.metrics) == ["queue", "calls"]  # the wall's order survives
    assert back.metrics["queue"].clear == 5 and back.campaign.run_sheet[1].action == "close payment"
