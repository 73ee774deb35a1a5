"""The report tells the night straight: a night played through the real daemon (pages to a local receiver, people
acting through the API) and its report read as the general manager reads it, in English and in Chinese.

Silenced alerts say silenced, by whom and why (not "not delivered"); a note written while acknowledging is a
decision; the KPI has its own line and no "worst"; the monitoring box's own alerts have their own section; the
night's escalation, its deputy and its stand-in are named.
"""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
import requests

from tests.daemon_kit import wait_for
from tests.harness.receiver import Receiver
from tests.harness.rig import TOKEN, running_daemon
from warroom.archive.report.make import make_report

NOTE = "已让客服加派人手 <b>now</b>"


def night_config(db, receiver: Receiver, locale: str) -> dict:
    people = {"tech_lead": ("Zhang", None), "ops_lead": ("Li", None), "general_manager": ("Wang", "deputy_gm"),
              "deputy_gm": ("Chen", None)}
    return {
        "campaign": {"name": "straight night", "end": "+1h", "locale": locale, "timezone": "Asia/Shanghai",
                     "kpi": {"metric": "orders", "target": 100, "title": "Orders"},
                     "run_sheet": [{"at": "+0s", "action": "close the entry", "owner": "ops_lead"}]},
        "people": {role: {"name": name, "phone": "1", "channels": [receiver.url(role)],
                          **({"deputy": deputy} if deputy else {})} for role, (name, deputy) in people.items()},
        "levels": {"yellow": {"owner": "tech_lead", "ack_timeout": "1s"}, "orange": {"owner": "ops_lead"},
                   "red": {"owner": "general_manager", "ack_timeout": "1h"}},
        "collectors": [],
        "metrics": {
            "failures": {"title": "Order failures", "unit": "%", "yellow": 5, "orange": 20, "red": 50, "pushed": True,
                         "stale_after": "1h"},
            "orders": {"title": "Orders", "decimals": 0, "pushed": True, "stale_after": "1h"},
            "calls": {"title": "Call queue", "yellow": 10, "pushed": True, "stale_after": "1h"},
            "box_cpu": {"title": "This box CPU", "unit": "%", "yellow": 80, "red": 95, "pushed": True,
                        "stale_after": "1h", "group": "host", "escalate": False,
                        "owner": {"yellow": "tech_lead", "orange": "tech_lead", "red": "tech_lead"}}},
        "alerts": {"resolve_after": "0s", "repeat_every": "0s", "group_window": "0s"},
        "server": {"port": 0, "database": str(db), "tick": "100ms"},
    }


def post(base, path, body):
    reply = requests.post(f"{base}{path}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert reply.ok, reply.text
    return reply.json()


def events(base, kind):
    alerts = requests.get(f"{base}/api/v1/alerts", params={"state": "all"}, timeout=10).json()["alerts"]
    return [(a, e) for a in alerts for e in a["events"] if e["event"] == kind]


def play(db, locale):
    """Orders climb past the target; failures go yellow (nobody acknowledges: escalated to Li), then red with 孙磊
    standing in for Wang, who acknowledges with a note; the call queue and the box's CPU breach under silences."""
    receiver = Receiver()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("WARROOM_TOKEN", TOKEN)  # the gate reads the board token from the environment
            _play(db, locale, receiver)
    finally:
        receiver.stop()


def _play(db, locale, receiver):
    with running_daemon(night_config(db, receiver, locale)) as (_, base):
        post(base, "/api/v1/push", {"samples": [{"metric": "orders", "value": 90}, {"metric": "failures", "value": 1},
                                                {"metric": "box_cpu", "value": 10}]})
        post(base, "/api/v1/runsheet/0/done", {"by": "ops_lead"})
        post(base, "/api/v1/duty", {"role": "general_manager", "name": "孙磊", "phone": "139", "by": "Wang"})
        post(base, "/api/v1/silences", {"metric": "box_cpu", "duration": "30m", "author": "张伟",
                                        "reason": "the monitoring box itself"})
        post(base, "/api/v1/silences", {"metric": "calls", "duration": "30m", "author": "李娜",
                                        "reason": "call centre switching lines"})
        post(base, "/api/v1/push", {"samples": [{"metric": "failures", "value": 6}, {"metric": "box_cpu", "value": 99},
                                                {"metric": "orders", "value": 120}, {"metric": "calls", "value": 30}]})
        wait_for(lambda: events(base, "escalated"), 30, "the yellow alert escalated to the ops lead")
        post(base, "/api/v1/push", {"samples": [{"metric": "failures", "value": 60}]})
        (alert, _), = wait_for(lambda: [x for x in events(base, "raised") if x[0]["metric"] == "failures"], 10,
                               "the rise to red")
        wait_for(lambda: receiver.to("general_manager"), 10, "the stand-in paged on the GM's channel")
        post(base, f"/api/v1/alerts/{alert['id']}/ack", {"by": "general_manager", "note": NOTE})
        wait_for(lambda: len(events(base, "silenced")) >= 2, 10, "the silenced pages of the box's CPU and the queue")
        post(base, "/api/v1/push", {"samples": [{"metric": "failures", "value": 1}, {"metric": "box_cpu", "value": 5},
                                                {"metric": "orders", "value": 130}, {"metric": "calls", "value": 1}]})
        wait_for(lambda: len(events(base, "resolved")) >= 3, 10, "every alert resolved")


def text_of(page):
    """The report's words without markup (the inlined plotly.js removed first)."""
    body = re.sub(r"<script>.*?</script>", "", page, flags=re.DOTALL)
    return unescape(re.sub(r"<[^>]+>", " ", body))


def section(page, heading, next_heading):
    words = text_of(page)
    return words[words.index(heading):words.index(next_heading)]


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    db = tmp_path_factory.mktemp("straight") / "night.duckdb"
    play(db, "en")
    return db


def test_the_report_tells_the_night_straight_in_english(night, tmp_path):
    page = make_report(night, tmp_path / "r.html", stderr=io.StringIO()).read_text(encoding="utf-8")
    words = text_of(page)
    business = section(page, "Alerts: how long", "Escalations, deputies and stand-ins")
    assert "Order failures" in business and "This box CPU" not in business
    assert re.search(rf"孙磊\s*:\s*{re.escape(NOTE)}", business)  # the note written while acknowledging is a decision
    assert "silenced by 李娜 call centre switching lines" in " ".join(business.split())
    assert "not delivered" not in words
    health = section(page, "Monitoring health", "Metrics: level bands")
    assert "This box CPU" in health and "1 alert(s) about warroom's own machines" in health
    assert "张伟: the monitoring box itself" in health
    decisions = words[words.index("Decision log"):]
    assert f"孙磊 · through the API decision {NOTE}" in " ".join(decisions.split())  # who, where, what
    reached = " ".join(section(page, "Escalations, deputies and stand-ins", "Monitoring health").split())
    assert "escalated to Li" in reached and "not acknowledged within 1s" in reached
    assert "stand-in 孙磊 holds general_manager (Wang); set by Wang" in reached
    outcome = " ".join(section(page, "Outcome", "Alerts: how long").split())
    assert "Orders 130 / target 100 KPI MET" in outcome and "target reached at" in outcome
    assert "pace at the close" in outcome or "no pace at the close" in outcome
    worst = outcome[outcome.index("Worst value"):]
    assert "Order failures 60.0 %" in worst and "Orders" not in worst  # a counter has no worst


def test_a_silenced_alert_says_by_whom_and_why_in_chinese(night, tmp_path):
    page = make_report(night, tmp_path / "r.html", lang="zh-CN", stderr=io.StringIO()).read_text(encoding="utf-8")
    words = " ".join(text_of(page).split())
    health = words[words.index("监控自身状态"):words.index("指标: 级别区间")]
    assert "This box CPU" in health and "张伟: the monitoring box itself" in health
    assert "已静默 (由 李娜)" in words and "未送达" not in words
    assert "升级至 Li" in words and "代班" in words
