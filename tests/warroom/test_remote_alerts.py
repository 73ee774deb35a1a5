"""`warroom alerts` as an on-call engineer reads it: values with their unit against their line, who took an alert
(also once it resolved, as the person who did), and who it was escalated to, against the real daemon."""

from __future__ import annotations

import pytest
import requests

from tests.daemon_kit import wait_for
from tests.harness.rig import TOKEN, push, pushed_config, running_daemon
from warroom.cli.remote import alerts_now
from warroom.config.load import parse_config

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def board_token(monkeypatch):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)


def test_alerts_lists_units_and_who_took_a_resolved_alert(tmp_path, capsys):
    raw = pushed_config(tmp_path / "n.duckdb", {})
    raw["metrics"]["failures"].update(unit="%", decimals=1)
    raw["metrics"]["queue"].update(unit="calls", decimals=0, stale_after="1h")
    raw["levels"]["yellow"]["ack_timeout"] = "1s"
    with running_daemon(raw) as (_, base):
        push(base, [{"metric": "failures", "value": 62.25}, {"metric": "queue", "value": 12}])
        alerts = wait_for(lambda: requests.get(f"{base}/api/v1/alerts", timeout=5).json()["alerts"], 10, "alerts")
        red = next(a for a in alerts if a["metric"] == "failures")
        requests.post(f"{base}/api/v1/duty", headers=AUTH, timeout=5,
                      json={"role": "general_manager", "name": "孙磊", "phone": "139", "by": "Wang"}).raise_for_status()
        requests.post(f"{base}/api/v1/alerts/{red['id']}/ack", json={"by": "general_manager"}, headers=AUTH,
                      timeout=5).raise_for_status()
        wait_for(lambda: [e for a in requests.get(f"{base}/api/v1/alerts", timeout=5).json()["alerts"]
                          for e in a["events"] if e["event"] == "escalated"], 20, "the queue escalated")
        push(base, [{"metric": "failures", "value": 1}, {"metric": "queue", "value": 1}])
        wait_for(lambda: len([a for a in requests.get(f"{base}/api/v1/alerts", timeout=5).json()["alerts"]
                              if a["state"] == "resolved"]) == 2, 20, "both alerts resolved")
        loaded = parse_config(raw, env={})
        capsys.readouterr()
        assert alerts_now(loaded, base, "2h", False) == 0
    lines = capsys.readouterr().out.splitlines()
    failures = next(line for line in lines if "Order failures" in line)
    queue = next(line for line in lines if "Call queue" in line)
    assert "Order failures 1.0%" in failures and "resolved" in failures and "(peak red)" in failures
    assert "acknowledged by 孙磊 at" in failures  # the person who took it then, not the role's configured name
    assert "Call queue 1 calls" in queue and "never acknowledged" in queue
    assert "escalated to Wang at" in queue and "(yellow)" in queue  # the escalation stays in the listing
