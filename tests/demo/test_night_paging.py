"""The shipped demo night, nobody acknowledging, on the night's clock with the seed's 5-minute ack timeout.

One clock (issue 16): the demo's timeouts are the night's minutes, so the shipped config uses the seed's
"respond within 5 minutes" and the night shows what it is for: the slow order page climbs from the
technical lead to the operations lead and on, and every red nobody takes reaches the GM's deputy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.scenario import load_scenario
from tests.daemon_kit import ROOT
from tests.demo.night_replay import play
from warroom.config.load import load_config

SPEED = 9.0
ASKING = ("opened", "raised", "escalated", "lowered")
TIMEOUT_S = 300.0
EVERY_S = 2.0  # the collectors' poll: the engine sees the night in steps of 18 night seconds at 9x


@pytest.mark.parametrize("phase_s", [0.0, 0.7, 1.4])
def test_the_demo_night_escalates_after_five_night_minutes_up_to_the_gms_deputy(tmp_path: Path, phase_s: float):
    loaded = load_config(ROOT / "config.yaml", env={})
    assert {getattr(loaded.config.levels, w).ack_timeout for w in ("yellow", "orange", "red")} == {TIMEOUT_S}
    scenario = load_scenario(ROOT / "demo" / "night.yaml")
    # The whole night and ten minutes past its end at the shipped speed, polled every 2 s as the collectors are.
    pages = play(loaded, scenario, tmp_path / "night.duckdb", SPEED, 100 * 60 / SPEED, every_s=EVERY_S,
                 phase_s=phase_s)
    clock = {t: scenario.datetime_at(t).strftime("%H:%M:%S") for t, *_ in pages}
    escalations = [(t, role, level, metric) for t, role, kind, level, metric in pages if kind == "escalated"]
    # The first of the night: the order page, slow from about 23:13, goes from the technical lead to the
    # operations lead five night minutes later (the wall's 23:23 shows her as the one to act).
    opened = next(p for p in pages if p[4] == "response_time" and p[2] == "opened")
    assert opened[1] == "tech_lead" and "23:13:00" <= clock[opened[0]] <= "23:16:00"
    first = escalations[0]
    assert first[1:] == ("ops_lead", "yellow", "response_time") and "23:18:00" <= clock[first[0]] <= "23:21:00"
    # Never early, never more than one poll late: five night minutes after the page that asked the last person.
    for t, role, _level, metric in escalations:
        asked = max(p[0] for p in pages if p[4] == metric and p[2] in ASKING and p[0] < t)
        assert TIMEOUT_S <= t - asked <= TIMEOUT_S + EVERY_S * SPEED + 1, (clock[t], role, metric)
    # Every red nobody acknowledged reached a second person with authority: the GM's deputy.
    reds = {metric for _, role, kind, level, metric in pages if kind == "raised" and level == "red"}
    assert reds >= {"order_success", "pickup_rate", "server_cpu"}
    assert {metric for _, role, level, metric in escalations if role == "deputy_gm"} >= \
        {"order_success", "pickup_rate", "server_cpu"}
    # This host's own CPU (the monitoring box) never pages anyone here (20 % all night).
    assert not [p for p in pages if p[4] == "host_cpu"]
