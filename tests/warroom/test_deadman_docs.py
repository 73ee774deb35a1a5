"""The README's HA chapter as people copy it: its Alertmanager route for the WarroomWatchdog, checked by the real
`amtool` (Debian package prometheus-alertmanager), and its `ha:` / `heartbeat:` example, checked by the config.

The blocks are read from the README, so what people copy is what is tested.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import yaml

from tests.daemon_kit import ROOT
from tests.harness.rig import pushed_config
from tests.realparts import find_binary
from warroom.config.load import parse_config
from warroom.daemon.deadman import watchdog_alert

ALERTMANAGER_BLOCK = re.compile(r"<!-- alertmanager\.yml[^>]*-->\n```yaml\n(.*?)```", re.S)
HA_CHAPTER = re.compile(r"### Running a pair \(or three\)\n.*?```yaml\n(.*?)```", re.S)


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _documented_alertmanager(tmp_path: Path) -> Path:
    found = ALERTMANAGER_BLOCK.search(_readme())
    assert found, "README.md has no alertmanager.yml block"
    path = tmp_path / "alertmanager.yml"
    path.write_text(found.group(1), encoding="utf-8")
    return path


def test_the_documented_alertmanager_config_passes_amtool(tmp_path: Path) -> None:
    amtool = find_binary("amtool")
    checked = subprocess.run([amtool, "check-config", str(_documented_alertmanager(tmp_path))],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_the_documented_route_sends_warrooms_watchdog_to_the_dead_mans_switch(tmp_path: Path) -> None:
    amtool = find_binary("amtool")
    config = _documented_alertmanager(tmp_path)
    # the labels the leader actually posts (warroom.daemon.deadman), not a copy of them
    labels = watchdog_alert("night", "node-a", datetime(2024, 11, 11, 15, 31, tzinfo=UTC), 30)[0]["labels"]

    def receiver(*pairs: str) -> str:
        routed = subprocess.run([amtool, "config", "routes", "test", f"--config.file={config}", *pairs],
                                capture_output=True, text=True, timeout=60)
        assert routed.returncode == 0, routed.stdout + routed.stderr
        return routed.stdout.strip()

    assert receiver(*(f"{k}={v}" for k, v in labels.items())) == "deadmans-snitch"
    assert receiver("alertname=OrderFailures") == "ops-team"  # nothing else goes to the switch


def test_the_documented_ha_and_heartbeat_keys_are_a_valid_config(tmp_path: Path) -> None:
    found = HA_CHAPTER.search(_readme())
    assert found, "README.md's HA chapter has no config example"
    example = yaml.safe_load(found.group(1))
    raw = pushed_config(tmp_path / "n.duckdb", {})
    raw["ha"], raw["heartbeat"] = example["ha"], example["heartbeat"]
    raw["server"].update(example["server"])
    loaded = parse_config(raw, env={"WARROOM_HA_DSN": "postgresql://warroom:secret@127.0.0.1:5432/warroom",
                                    "WARROOM_HEARTBEAT_URL": "https://hc-ping.com/0f3e5c7a"})
    ha, beat = loaded.config.ha, loaded.config.heartbeat
    assert (ha.cluster, ha.node, ha.lease_ttl, ha.renew_every) == ("singles-day", "node-a", 3.0, 1.0)
    assert beat.every == 30.0 and beat.alertmanagers == ["http://10.0.0.9:9093"]
