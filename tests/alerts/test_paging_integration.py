"""The daemon pages real receivers: an Apprise json:// webhook per person, and a real Alertmanager."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from tests.collectors.conftest import LocalWeb, answer
from tests.daemon_kit import ROOT, stop, wait_for
from tests.harness.receiver import Receiver as Inbox
from tests.realparts import find_binary, free_port
from warroom.config.load import parse_config
from warroom.daemon.daemon import Daemon

pytestmark = pytest.mark.slow
TOKEN = "board-token-for-tests"


def daemon_for(tmp_path, target_url, inbox, forward=(), ack_timeout="1h"):
    raw = {
        "campaign": {"name": "paging", "end": "+1h", "locale": "en"},
        "people": {role: {"name": name, "phone": "1", "channels": [inbox.url(role)]}
                   for role, name in (("tech_lead", "Zhang"), ("ops_lead", "Li"), ("general_manager", "Wang"))},
        "levels": {"yellow": {"owner": "tech_lead", "ack_timeout": ack_timeout},
                   "orange": {"owner": "ops_lead"}, "red": {"owner": "general_manager"}},
        "collectors": [{"type": "json", "name": "orders", "interval": "200ms", "timeout": "1s", "url": target_url,
                        "fields": {"queue": "queue"}}],
        "metrics": {"queue": {"title": "Call queue", "yellow": 10, "orange": 20, "red": 50},
                    "failures": {"title": "Order failures", "yellow": 5, "red": 50, "pushed": True,
                                 "stale_after": "1h"}},
        "alerts": {"resolve_after": "0s", "repeat_every": "0s", "group_window": "1s", "forward": list(forward)},
        "server": {"port": 0, "database": str(tmp_path / "p.duckdb"), "tick": "100ms"},
    }
    return Daemon(parse_config(raw, env={}))


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    monkeypatch.setenv("WARROOM_ACK_SECRET", "ack-secret-for-tests")


@pytest.fixture
def rig(tmp_path, env):
    """A quiet target, an inbox, and `start(forward=...)` for a daemon watching them; all stopped after."""
    web, inbox, daemons = LocalWeb(), Inbox(), []
    web.route("/q", answer(200, '{"queue": 1}', "application/json"))

    def start(forward=()):
        daemon = daemon_for(tmp_path, web.url("/q"), inbox, forward=forward)
        daemon.start()
        daemons.append(daemon)
        return f"http://127.0.0.1:{daemon.api.port}"

    yield web, inbox, start
    for daemon in daemons:
        daemon.stop()
    web.stop()
    inbox.stop()


def test_each_owner_receives_their_level_then_acks_with_the_link(rig):
    web, inbox, start = rig
    base = start()
    web.route("/q", answer(200, '{"queue": 12}', "application/json"))
    wait_for(lambda: inbox.to("tech_lead"), 5, "the tech lead's page")
    page = inbox.to("tech_lead")[0]
    assert "Call queue 12.0" in page["title"] and "YELLOW" in page["title"]
    web.route("/q", answer(200, '{"queue": 60}', "application/json"))
    wait_for(lambda: inbox.to("general_manager"), 5, "the GM's page on red")
    wait_for(lambda: len(inbox.to("tech_lead")) >= 2, 5, "the tech lead told the GM decides now")
    assert "HANDED OVER" in inbox.to("tech_lead")[1]["title"] and "Wang" in inbox.to("tech_lead")[1]["message"]
    alerts = requests.get(f"{base}/api/v1/alerts", params={"state": "active"}, timeout=5).json()["alerts"]
    (alert,) = alerts
    assert alert["level"] == "red" and alert["owner"]["name"] == "Wang"
    events = [e["event"] for e in alert["events"]]
    assert events[:2] == ["opened", "notify"] and "raised" in events and "delivered" in events

    link = next(line.split(": ", 1)[1] for line in inbox.to("general_manager")[0]["message"].splitlines()
                if line.startswith("Acknowledge"))
    forged = link[:-3] + "abc"
    assert requests.post(forged, timeout=5).status_code == 403
    assert requests.get(f"{base}/api/v1/alerts", timeout=5).json()["alerts"][0]["state"] == "open"
    r = requests.post(link, timeout=5)
    assert r.status_code == 200 and r.json()["acked_by"] == "general_manager"

    # a decision tied to the alert, with the board token; without it nothing is written
    body = {"author": "Wang", "role": "general_manager", "level": "red", "alert_id": alert["id"],
            "text": "switch to backup servers, degrade the H5 page"}
    assert requests.post(f"{base}/api/v1/annotations", json=body, timeout=5).status_code == 403
    r = requests.post(f"{base}/api/v1/annotations", json=body, headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=5)
    assert r.status_code == 201
    trail = requests.get(f"{base}/api/v1/alerts", timeout=5).json()["alerts"][0]["events"]
    assert {"acked", "decision"} <= {e["event"] for e in trail} and "ack_rejected" not in {e["event"] for e in trail}
    assert requests.get(f"{base}/api/v1/health", timeout=5).json()["refusals"]["ack_link_by_alert"] == {"1": 1}

    web.route("/q", answer(200, '{"queue": 1}', "application/json"))
    wait_for(lambda: any("RESOLVED" in m["title"] for m in inbox.to("general_manager")), 5, "the resolved page")


def test_a_pushed_breach_is_paged_at_once(rig):
    _, inbox, start = rig
    base = start()
    bad = requests.post(f"{base}/api/v1/push", json={"samples": [{"metric": "nope", "value": 1}]},
                        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert bad.status_code == 404 and "samples[0].metric" in bad.json()["error"]["message"]
    r = requests.post(f"{base}/api/v1/push", json={"samples": [{"metric": "failures", "value": 60}]},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert r.status_code == 202
    # At once: the engine evaluated the sample and logged the page before the push was answered, not on a
    # later poll, tick or commit; the page is then on its way.
    active = requests.get(f"{base}/api/v1/alerts", params={"state": "active"}, timeout=5).json()["alerts"]
    assert len(active) == 1, f"when the push was answered the open alerts were {active}"
    opened = active[0]
    assert opened["metric"] == "failures" and opened["level"] == "red"
    assert [(e["event"], e["role"]) for e in opened["events"]][:2] == [("opened", "general_manager"),
                                                                        ("notify", "general_manager")]
    wait_for(lambda: inbox.to("general_manager"), 15, "the pushed red page")
    tiles = {t["metric"]: t for t in requests.get(f"{base}/api/v1/board", timeout=5).json()["tiles"]}
    wait_for(lambda: {t["metric"]: t for t in requests.get(f"{base}/api/v1/board", timeout=5).json()["tiles"]}
             ["failures"]["value"] == 60, 3, "the pushed sample stored")
    assert tiles["failures"]["title"] == "Order failures"

    # the command line acknowledges the same way, and says why when it cannot
    alert_id = requests.get(f"{base}/api/v1/alerts", timeout=5).json()["alerts"][0]["id"]
    cli = [sys.executable, "-m", "warroom.cli", "ack", "--api", base, "-c", str(ROOT / "config.yaml")]
    ok = subprocess.run([*cli, str(alert_id), "--as", "general_manager", "--note", "on it"],
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"alert #{alert_id} (Order failures, RED) acknowledged by Wang 1 at ")
    conflict = subprocess.run([*cli, str(alert_id), "--as", "ops_lead"], capture_output=True, text=True, timeout=30)
    # the operations lead cannot take a red alert, and it is the GM's already: refused with the reason
    assert conflict.returncode == 1 and "409" in conflict.stderr and "Wang" in conflict.stderr
    missing = subprocess.run([*cli, "999", "--as", "general_manager"], capture_output=True, text=True, timeout=30)
    assert missing.returncode == 1 and "alert 999 is not open" in missing.stderr
    listed = subprocess.run([sys.executable, "-m", "warroom.cli", "alerts", "--api", base, "-c",
                             str(ROOT / "config.yaml")], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert f"#{alert_id}" in listed.stdout and "RED" in listed.stdout and "acknowledged by Wang" in listed.stdout


def test_forwarding_to_a_real_alertmanager(tmp_path, rig):
    binary = find_binary("prometheus-alertmanager", "alertmanager")
    port = free_port()
    (tmp_path / "am.yml").write_text("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n")
    am = subprocess.Popen([binary, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am'}",
                           f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                          stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    web, _, start = rig
    try:
        wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).ok, 30, "alertmanager ready")
        start(forward=[f"alertmanager://127.0.0.1:{port}"])
        web.route("/q", answer(200, '{"queue": 25}', "application/json"))

        def forwarded():
            got = requests.get(f"http://127.0.0.1:{port}/api/v2/alerts", timeout=2).json()
            return [a for a in got if a["labels"].get("metric") == "queue"]

        (alert,) = wait_for(forwarded, 10, "the alert in Alertmanager")
        assert alert["labels"]["severity"] == "orange" and alert["labels"]["source"] == "warroom"
        assert alert["status"]["state"] == "active"
        web.route("/q", answer(200, '{"queue": 1}', "application/json"))
        wait_for(lambda: not forwarded(), 10, "the alert resolved in Alertmanager")
    finally:
        stop(am)
