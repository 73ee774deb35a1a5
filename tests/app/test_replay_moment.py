"""`/replay?at=` read as people write it; anything else is a plain sentence naming the input (issue 18 item 7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.replay_moment import asked_moment

ZONE = "Asia/Shanghai"
# The demo night as recorded: 23:27:00 to 00:03:00 on the wall (UTC+8), across midnight.
START = datetime(2024, 11, 11, 15, 27, tzinfo=UTC).timestamp()
END = datetime(2024, 11, 11, 16, 3, tzinfo=UTC).timestamp()


def moment(raw, locale="en"):
    return asked_moment(raw, START, END, ZONE, locale)


def utc(hh, mm, ss=0):
    return datetime(2024, 11, 11, hh, mm, ss, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("raw, expected", [
    ("2024-11-11T23:31:00+08:00", utc(15, 31)),
    ("2024-11-11T15:31:00Z", utc(15, 31)),
    ("2024-11-11T23:31:00 08:00", utc(15, 31)),  # a link's unencoded `+` arrives as a space
    ("2024-11-11T23:31:00", utc(15, 31)),  # naive: the campaign's timezone
    ("23:31", utc(15, 31)),
    ("23:31:05", utc(15, 31, 5)),
    ("00:02", utc(16, 2)),  # after midnight: the occurrence inside the record
    ("now", END),
    ("NOW", END),
    ("-2m", END - 120),
    ("-1m30s", END - 90),
    ("", START),
    (None, START),
])
def test_what_people_write_is_the_moment_they_mean(raw, expected):
    asked = moment(raw)
    assert asked.epoch == pytest.approx(expected) and asked.problem is None, asked


@pytest.mark.parametrize("raw", ["garbage", "-2x", "25:00", "2024-13-45T99:00", "<script>alert(1)</script>",
                                 "-99999999999h", "1e9"])
def test_anything_else_is_a_plain_sentence_naming_it_and_the_start_is_shown(raw):
    asked = moment(raw)
    assert asked.epoch == START
    assert asked.problem is not None and raw[:80] in asked.problem and "Traceback" not in asked.problem
    assert "23:31" in asked.problem and "now" in asked.problem and "-2h" in asked.problem  # how to write it
    assert moment(raw, "zh-CN").problem.startswith("无法把")


def test_a_moment_outside_the_record_shows_its_nearest_edge_and_says_so():
    before = moment("-2h")
    assert before.epoch == START and "before the record starts" in before.problem and "23:27:00" in before.problem
    after = moment((datetime.fromtimestamp(END, UTC) + timedelta(hours=1)).isoformat())
    assert after.epoch == END and "after the record ends" in after.problem and "00:03:00" in after.problem
