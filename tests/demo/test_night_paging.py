"""The shipped demo night, nobody acknowledging, shows exactly one escalation: tech lead → ops lead."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.scenario import load_scenario
from tests.daemon_kit import ROOT
from tests.demo.night_replay import play
from warroom.config.load import load_config

SPEED = 9.0


@pytest.mark.parametrize("phase_s", [0.0, 0.7, 1.4])
def test_the_demo_night_escalates_once_from_the_tech_lead_to_the_ops_lead(tmp_path: Path, phase_s: float) -> None:
    loaded = load_config(ROOT / "config.yaml", env={})
    scenario = load_scenario(ROOT / "demo" / "night.yaml")
    # The whole night and ten minutes past its end at the shipped speed, polled every 2 s as the collectors are.
    pages = play(loaded, scenario, tmp_path / "night.duckdb", SPEED, 100 * 60 / SPEED, phase_s=phase_s)
    escalations = [p for p in pages if p[2] == "escalated"]
    assert [(role, level, metric) for _, role, _, level, metric in escalations] == \
        [("ops_lead", "yellow", "response_time")]
    night_time = scenario.datetime_at(escalations[0][0] * SPEED).strftime("%H:%M")
    assert "23:20" <= night_time <= "23:25"
    opened = next(p for p in pages if p[4] == "response_time" and p[2] == "opened")
    assert opened[1] == "tech_lead" and opened[0] < escalations[0][0]
