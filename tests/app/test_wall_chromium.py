"""The wall in a real headless Chromium at 1920x1080: tiles, levels and owners in the DOM, no scrolling,
no Streamlit chrome in kiosk mode, a screenshot under tests/artifacts/, and the banner when the daemon dies.
"""

from __future__ import annotations

import pytest
import requests

from tests.app.board_kit import (
    chromium,
    close_chromium,
    night_config,
    start_board,
    stop_group,
    wait_board,
    wait_dom,
)
from tests.daemon_kit import ROOT, api_base, start_collect, start_demo, stop, wait_for, write_config
from tests.realparts import free_port

pytestmark = [pytest.mark.slow, pytest.mark.needs_chromium]

ARTIFACTS = ROOT / "tests" / "artifacts"
PEOPLE = ("张伟 · 技术负责人", "李娜 · 运营负责人", "王强 · 总经理", "赵磊 · DBA")

TILES_JS = """Array.from(document.querySelectorAll('[data-metric]')).map(e => ({
  metric: e.dataset.metric, level: e.dataset.level,
  owner: e.querySelector('[data-owner]').textContent,
  word: e.querySelector('.wr-word').textContent,
  valuePx: parseFloat(getComputedStyle(e.querySelector('.wr-value')).fontSize),
  ownerPx: parseFloat(getComputedStyle(e.querySelector('[data-owner]')).fontSize),
  tint: getComputedStyle(e.closest('[class*=st-key-wr-tile-]')).backgroundColor}))"""


def test_wall_in_chromium(tmp_path):
    chrome = chromium()  # skips locally / fails in CI when Chromium, chromedriver or selenium is missing
    demo = start_demo("23:29:00")
    raw = night_config(demo.url, tmp_path / "night.duckdb")
    config = write_config(raw, tmp_path / "config.yaml")
    collect_log, board_log = tmp_path / "collect.log", tmp_path / "board.log"
    daemon = start_collect(config, collect_log)
    port = free_port()
    board = start_board(config, api_base(raw), port, board_log)
    try:
        wait_for(lambda: all(t["value"] is not None for t in
                             requests.get(f"{api_base(raw)}/api/v1/board", timeout=5).json()["tiles"]),
                 40, "live tiles", daemon, collect_log)
        wait_board(port, board, board_log)
        chrome.get(f"http://127.0.0.1:{port}/?kiosk=1")
        wanted = len(raw["walls"]["tech"]["metrics"])
        wait_dom(chrome, f"document.querySelectorAll('[data-metric]').length === {wanted} && "
                 "document.querySelectorAll('.js-plotly-plot').length === " + str(wanted), 45, "tiles and sparklines")
        # The 23:29 spike must have reached the tiles before the picture is taken.
        wait_dom(chrome, "document.querySelectorAll('[data-level=orange],[data-level=red]').length >= 2", 30,
                 "orange or red tiles")
        tiles = chrome.execute_script(f"return {TILES_JS};")
        assert [t["metric"] for t in tiles] == raw["walls"]["tech"]["metrics"]
        for tile in tiles:
            assert tile["valuePx"] >= 48 and tile["ownerPx"] >= 28, tile
            assert tile["level"] in ("green", "yellow", "orange", "red", "stale"), tile
            if tile["level"] in ("yellow", "orange", "red"):
                assert any(p in tile["owner"] for p in PEOPLE), tile
                assert tile["word"].endswith("预警"), tile
        # Colour and word: a red tile is tinted red, never the neutral panel colour.
        red = [t for t in tiles if t["level"] == "red"]
        assert all(t["tint"] == "rgb(90, 16, 16)" for t in red), red
        # Who decides now, readable from across the room: the decider's name at 40 px in the banner.
        decider = chrome.execute_script("const e = document.querySelector('[data-decision] [data-decider]');"
                                        "return e && [e.textContent, parseFloat(getComputedStyle(e).fontSize)];")
        assert decider and any(p in decider[0] for p in PEOPLE) and decider[1] >= 40, decider
        assert chrome.execute_script("return document.querySelector('[data-health=host_cpu]') !== null;")
        body = chrome.execute_script("return document.body.innerText;")
        assert "T-00:" in body and "/ 8,000" in body and "收官流程" in body
        layout = chrome.execute_script("""return {
            inner: window.innerHeight, doc: document.documentElement.scrollHeight,
            main: document.querySelector('[data-testid=stMain]').scrollHeight,
            header: (() => { const h = document.querySelector('[data-testid=stHeader]');
                             return h ? getComputedStyle(h).display : 'none'; })(),
            sidebar: document.querySelectorAll('[data-testid=stSidebar]:not([style*="display: none"])').length
                     && getComputedStyle(document.querySelector('[data-testid=stSidebar]')).display }""")
        assert layout["inner"] == 1080 and layout["doc"] <= 1080 and layout["main"] <= 1081, layout
        assert layout["header"] == "none" and layout["sidebar"] in (0, "none"), layout
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert chrome.save_screenshot(str(ARTIFACTS / "wall.png"))

        # The daemon goes away: a banner says so and since when, and every tile goes grey.
        stop(daemon)
        wait_dom(chrome, "document.querySelector('[data-banner=down]') !== null", 15, "the unreachable banner")
        wait_dom(chrome, "Array.from(document.querySelectorAll('[data-metric]')).every(e => e.dataset.level === "
                 "'stale')", 10, "every tile stale")
        assert "无法连接监控守护进程" in chrome.execute_script("return document.body.innerText;")
        chrome.save_screenshot(str(ARTIFACTS / "wall-daemon-down.png"))
    finally:
        close_chromium(chrome)
        stop_group(board)
        stop(daemon)
        demo.shutdown()
