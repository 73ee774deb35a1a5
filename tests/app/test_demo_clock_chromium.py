"""The demo night on one clock, seen in Chromium: the wall's times are the night's, and the README's replay link
(`/replay?at=2024-11-11T23:31:00+08:00`) shows that moment of the night, not an empty grey wall.

Issue 16, "One clock in demo mode": before, the record was stamped in real time (2026) and only the header and
run sheet were mapped onto the night, so the replay of 23:31 found nothing.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.app.board_kit import (
    chromium,
    close_chromium,
    shipped_night_config,
    start_board,
    stop_group,
    wait_board,
    wait_dom,
)
from tests.daemon_kit import ROOT, api_base, start_collect, start_demo, stop, wait_for, write_config
from tests.realparts import free_port

pytestmark = [pytest.mark.slow, pytest.mark.needs_chromium]

ARTIFACTS = ROOT / "tests" / "artifacts"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_wall_and_the_replay_link_speak_the_nights_time(tmp_path):
    chrome = chromium()
    demo = start_demo("23:29:00")
    raw = shipped_night_config(demo.url, tmp_path / "night.duckdb")
    config = write_config(raw, tmp_path / "config.yaml")
    collect_log, board_log = tmp_path / "collect.log", tmp_path / "board.log"
    daemon = start_collect(config, collect_log)
    port = free_port()
    board = start_board(config, api_base(raw), port, board_log)
    try:
        def night() -> str:
            return requests.get(f"{demo.url}/api/clock", timeout=5).json()["scenario_time"]
        wait_for(lambda: requests.get(f"{api_base(raw)}/api/v1/health", timeout=5).ok, 40, "the daemon", daemon,
                 collect_log)
        wait_board(port, board, board_log)
        wait_for(lambda: night() >= "23:31:30", 60, "the night past 23:31:30")
        answer = requests.get(f"{api_base(raw)}/api/v1/board", params={"at": "2024-11-11T23:31:00+08:00"},
                              timeout=5).json()
        assert datetime.fromisoformat(answer["at"]) == datetime(2024, 11, 11, 23, 31, tzinfo=SHANGHAI)
        assert [t["metric"] for t in answer["tiles"] if t["value"] is not None], answer["tiles"]

        chrome.get(f"http://127.0.0.1:{port}/?kiosk=1")
        wait_dom(chrome, "document.querySelector('.wr-header') !== null && "
                 "document.querySelectorAll('[data-metric]').length > 0", 60, "the wall")
        header = chrome.execute_script("return document.querySelector('.wr-header').innerText;")
        shown = next(p for p in header.split() if p.count(":") == 2 and len(p) == 8)
        assert abs(datetime.strptime(shown, "%H:%M:%S") - datetime.strptime(night(), "%H:%M:%S")).seconds < 60, \
            (shown, header)
        assert "演示" in header and "距结束 23:59:59" in header

        chrome.get(f"http://127.0.0.1:{port}/replay?at=2024-11-11T23:31:00+08:00")
        wait_dom(chrome, "document.querySelector('[data-replay-at]') !== null && "
                 "Array.from(document.querySelectorAll('[data-metric]')).some(e => e.dataset.level !== 'stale')",
                 60, "the replayed wall with live tiles")
        replayed = chrome.execute_script("return document.querySelector('[data-replay-at]').innerText;")
        assert "2024-11-11 23:31:00" in replayed, replayed
        levels = chrome.execute_script(
            "return Array.from(document.querySelectorAll('[data-metric]')).map(e => e.dataset.level);")
        assert sum(level in ("orange", "red") for level in levels) >= 2, levels  # 23:31 is the night's spike
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        chrome.save_screenshot(str(ARTIFACTS / "replay-2331.png"))
    finally:
        close_chromium(chrome)
        stop_group(board)
        stop(daemon)
        demo.shutdown()
