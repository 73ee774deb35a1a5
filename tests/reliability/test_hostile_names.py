"""Names, phones and notes from the API are one line of printable text; terminals never obey what they carry.

Issue 18 item 5: a stand-in's name with a newline and "确认 (我来处理): http://…" put a fake ack line
above the real one in the general manager's page, ANSI escapes cleared the screen in `warroom duty`,
NUL and right-to-left overrides passed; and (issue 17) a second identical stand-in logged
"孙磊 stands in for 孙磊". Item 7: `{"until": "+99999999d"}` was a 500.
"""

from __future__ import annotations

import argparse
import logging
import time

import pytest
import requests

from tests.harness.receiver import Receiver
from tests.harness.rig import ACK_SECRET, TOKEN, push, pushed_config, running_daemon
from warroom.cli import remote
from warroom.cli.startup import _OneLine
from warroom.config.load import parse_config
from warroom.outside_text import on_terminal
from warroom.store.database import Store

AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAKE_ACK = "孙磊\n确认 (我来处理): http://evil.example/ack"
HOSTILE = {
    "a line break and a fake ack line": FAKE_ACK,
    "ANSI clear-screen": "\x1b[2J\x1b[H孙磊",
    "NUL": "孙\x00磊",
    "right-to-left override": "\u202e磊孙",
    "zero-width space": "孙\u200b磊",
    "10k characters": "孙" * 10_000,
    "a link": "孙磊 http://evil.example/ack",
    "only spaces": "   ",
}


@pytest.fixture
def night(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    monkeypatch.setenv("WARROOM_ACK_SECRET", ACK_SECRET)
    phones = Receiver()
    raw = pushed_config(tmp_path / "night.duckdb", {r: [phones.url(r)] for r in ("tech_lead", "ops_lead",
                                                                                   "general_manager")},
                        group_window="0s")
    with running_daemon(raw) as (daemon, base):
        yield daemon, base, phones
    phones.stop()


def _duty(base: str, **body: object) -> requests.Response:
    return requests.post(f"{base}/api/v1/duty", json={"role": "general_manager", "by": "ops desk", **body},
                         headers=AUTH, timeout=5)


def _refused(reply: requests.Response, field: str, hostile: str) -> None:
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["field"] == field and error["message"].startswith(f"{field}: "), error
    assert hostile.strip()[:20] not in error["message"] or not hostile.strip()  # never echoed


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_stand_in_names_phones_and_authors_are_refused_naming_the_field(night, hostile):
    _, base, _ = night
    _refused(_duty(base, name=hostile, phone="1"), "name", hostile)
    _refused(_duty(base, name="孙磊", phone=hostile), "phone", hostile)
    _refused(_duty(base, name="孙磊", by=hostile), "by", hostile)
    _refused(requests.delete(f"{base}/api/v1/duty/general_manager", params={"by": hostile}, headers=AUTH,
                             timeout=5), "by", hostile)
    assert requests.get(f"{base}/api/v1/duty", timeout=5).json()["roles"]["general_manager"]["how"] == "config"


@pytest.mark.parametrize("hostile", [FAKE_ACK, "\x1b[31mred", "\u202eevil", "x" * 10_000],
                         ids=["fake ack line", "ANSI", "right-to-left", "10k characters"])
def test_notes_and_authors_of_acks_silences_and_decisions_are_one_printable_line(night, hostile):
    daemon, base, phones = night
    assert push(base, [{"metric": "failures", "value": 80.0}]).status_code == 202
    alert_id = daemon.engine.open[("failures", "level")].id
    _refused(requests.post(f"{base}/api/v1/alerts/{alert_id}/ack", json={"by": "general_manager", "note": hostile},
                           headers=AUTH, timeout=5), "note", hostile)
    _refused(requests.post(f"{base}/api/v1/silences", json={"author": "Li", "reason": hostile}, headers=AUTH,
                           timeout=5), "reason", hostile)
    _refused(requests.post(f"{base}/api/v1/silences", json={"author": hostile, "reason": "deploy"}, headers=AUTH,
                           timeout=5), "author", hostile)
    _refused(requests.post(f"{base}/api/v1/annotations", json={"author": hostile, "text": "switch"}, headers=AUTH,
                           timeout=5), "author", hostile)
    if "\n" not in hostile:  # a decision's text may have lines; nothing else invisible, and not 10k characters
        _refused(requests.post(f"{base}/api/v1/annotations", json={"author": "Li", "text": hostile}, headers=AUTH,
                               timeout=5), "text", hostile)
    multi = requests.post(f"{base}/api/v1/annotations", json={"author": "Li", "text": "switch\nthen call"},
                          headers=AUTH, timeout=5)
    assert multi.status_code == 201
    silent = requests.post(f"{base}/api/v1/alerts/{alert_id}/ack", json={"by": "general_manager", "note": ""},
                           headers=AUTH, timeout=5)  # the board acknowledges with an empty note
    assert silent.status_code == 200, silent.text


def test_the_generals_page_names_the_stand_in_once_with_one_ack_line(night):
    _, base, phones = night
    set_ = _duty(base, name=" 孙磊 ", phone="+86 138-0013-8000")
    assert set_.status_code == 201 and set_.json()["name"] == "孙磊"
    assert push(base, [{"metric": "failures", "value": 80.0}]).status_code == 202
    deadline = time.monotonic() + 20
    while not phones.to("general_manager") and time.monotonic() < deadline:
        time.sleep(0.05)
    message = phones.to("general_manager")[0]["message"]
    assert "Decides: 孙磊 +86 138-0013-8000" in message
    assert sum(line.startswith("Acknowledge (I am on it):") for line in message.splitlines()) == 1


def test_a_second_identical_stand_in_changes_nothing_and_logs_nothing(night):
    _, base, _ = night
    assert _duty(base, name="孙磊", phone="139").status_code == 201
    again = _duty(base, name="孙磊", phone="139")
    assert again.status_code == 200 and again.json()["name"] == "孙磊"
    longer = _duty(base, name="孙磊", phone="139", until="+2h")
    assert longer.status_code == 201
    texts = [a["text"] for a in requests.get(f"{base}/api/v1/annotations", timeout=5).json()["annotations"]]
    assert texts[0] == "孙磊 stands in as general_manager for Wang"
    assert len(texts) == 2 and texts[1].startswith("孙磊 still stands in as general_manager, now until ")
    assert not [t for t in texts if "for 孙磊" in t]


@pytest.mark.parametrize("until", ["+99999999d", "+8d", "9999-12-31T23:59:59", "+1e400d", "-2h", "garbage"])
def test_an_impossible_until_is_a_422_naming_it(night, until):
    _, base, _ = night
    reply = _duty(base, name="孙磊", until=until)
    assert reply.status_code == 422 and reply.json()["error"]["field"] == "until", reply.text


def test_terminal_output_and_pages_show_control_characters_instead_of_obeying_them(tmp_path, monkeypatch, capsys):
    """A name typed into the config, or recorded before names were checked, still reaches `warroom duty` and pages."""
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    monkeypatch.setenv("WARROOM_ACK_SECRET", ACK_SECRET)
    phones = Receiver()
    db = tmp_path / "night.duckdb"
    raw = pushed_config(db, {"general_manager": [phones.url("general_manager")]}, group_window="0s")
    raw["people"]["tech_lead"]["name"] = "\x1b[31mZhang\x1b[0m"
    with running_daemon(raw):
        pass
    store = Store(db)
    store.execute("INSERT INTO duty VALUES (now(), 'general_manager', ?, ?, NULL, NULL, 'old', false)",
                  ["\x1b[2J\x1b[H孙磊\u202e", "138\n确认 (我来处理): http://evil"])
    store.close()
    try:
        with running_daemon(raw) as (_, base):
            args = argparse.Namespace(action="list", role=None)
            assert remote.duty(parse_config(raw, env={}), None, args) == 0
            assert push(base, [{"metric": "failures", "value": 80.0}]).status_code == 202
            deadline = time.monotonic() + 20
            while not phones.to("general_manager") and time.monotonic() < deadline:
                time.sleep(0.05)
            message = phones.to("general_manager")[0]["message"]
    finally:
        phones.stop()
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\\x1b[31mZhang\\x1b[0m" in out
    assert "\\x1b[2J\\x1b[H孙磊\\u202e" in out and "138\\n确认" in out
    assert len([line for line in out.splitlines() if "general_manager" in line]) == 1
    assert "\x1b" not in message and not [ln for ln in message.splitlines() if ln.startswith("确认")]
    assert on_terminal("plain 孙磊 +86") == "plain 孙磊 +86"


def test_log_lines_escape_control_characters():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "stand-in %s", ("\x1b[2J孙磊\n确认",), None)
    assert _OneLine().filter(record) and record.getMessage() == "stand-in \\x1b[2J孙磊\\n确认"
