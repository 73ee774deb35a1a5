"""A war-room screen gets touched: marking a run-sheet step done on the kiosk wall must not break the wall.

Issue 16, defect 5: tapping 标记完成 and confirming made Streamlit warn "a fragment rerun was triggered
with a callback that displays elements", and within two seconds the tiles, the banner and the header
lost their styling until the page was reloaded. Here a real Chromium taps it, confirms, and the wall is
checked over the next refreshes: tiles tinted, the banner's name at 40 px, the header laid out.
"""

from __future__ import annotations

import pytest
import requests

from tests.app.board_kit import chromium, close_chromium, night_config, start_board, stop_group, wait_board, wait_dom
from tests.daemon_kit import ROOT, api_base, start_collect, start_demo, stop, wait_for, write_config
from tests.realparts import free_port

pytestmark = [pytest.mark.slow, pytest.mark.needs_chromium]

TOKEN = "kiosk-mark-done-token-0123456789"
ARTIFACTS = ROOT / "tests" / "artifacts"
# What "styled" means on the wall: every tile tinted by its level (never the page's transparent default),
# the decision banner's name at 40 px, the header a flex row. All of it comes from the page's <style> blocks.
STYLED_JS = """(() => {
  const tiles = Array.from(document.querySelectorAll('[class*=st-key-wr-tile-]'));
  const name = document.querySelector('[data-decision] .wr-decision-name, [data-decision="none"]');
  const header = document.querySelector('.wr-header');
  return {
    tiles: tiles.length,
    tinted: tiles.filter(t => getComputedStyle(t).backgroundColor !== 'rgba(0, 0, 0, 0)').length,
    banner: name ? getComputedStyle(document.querySelector('[data-decision]')).height : null,
    header: header ? getComputedStyle(header).display : null,
    snapshot: Number((document.querySelector('[data-snapshot]') || {dataset: {}}).dataset.snapshot || 0),
  };
})()"""


def _click(chrome, label: str) -> None:
    """Click the (first) enabled button whose text contains `label`."""
    clicked = chrome.execute_script(
        "const b = Array.from(document.querySelectorAll('button')).find(b => b.innerText.includes(arguments[0])"
        " && !b.disabled); if (b) { b.click(); return true; } return false;", label)
    assert clicked, f"no enabled button {label!r} on the wall"


def test_mark_done_on_the_kiosk_wall_keeps_the_wall_styled(tmp_path):
    chrome = chromium()
    demo = start_demo("23:29:00")
    raw = night_config(demo.url, tmp_path / "night.duckdb")
    config = write_config(raw, tmp_path / "config.yaml")
    env = {"WARROOM_TOKEN": TOKEN}
    collect_log, board_log = tmp_path / "collect.log", tmp_path / "board.log"
    daemon = start_collect(config, collect_log, env)
    port = free_port()
    board = start_board(config, api_base(raw), port, board_log, env)
    try:
        wait_for(lambda: requests.get(f"{api_base(raw)}/api/v1/board", timeout=5).ok, 40, "the daemon", daemon,
                 collect_log)
        wait_board(port, board, board_log)
        chrome.get(f"http://127.0.0.1:{port}/?kiosk=1")
        wanted = len(raw["walls"]["tech"]["metrics"])
        styled = (f"(s => s.tiles === {wanted} && s.tinted === {wanted} && s.banner === '64px' && "
                  f"s.header === 'flex')({STYLED_JS})")
        wait_dom(chrome, styled, 60, "the styled wall")
        wait_dom(chrome, "Array.from(document.querySelectorAll('button')).some(b => b.innerText.includes('标记完成')"
                 " && !b.disabled)", 30, "an enabled 标记完成 button")

        _click(chrome, "标记完成")
        wait_dom(chrome, "Array.from(document.querySelectorAll('button')).some(b => b.innerText.includes('确认完成'))",
                 20, "the confirm button")
        _click(chrome, "确认完成")
        steps = f"{api_base(raw)}/api/v1/runsheet"
        wait_for(lambda: any(s.get("done") for s in requests.get(steps, timeout=5).json()["steps"]), 20,
                 "the step recorded as done")
        wait_dom(chrome, "document.querySelector('.wr-step-done') !== null", 20, "the done step on the wall")

        # The wall keeps refreshing and keeps its looks: judged on five fresh snapshots after the mark.
        seen = chrome.execute_script(f"return {STYLED_JS};")["snapshot"]
        for n in range(1, 6):
            wait_dom(chrome, f"({STYLED_JS}).snapshot >= {seen + n}", 20, f"refresh {n} after the mark")
            state = chrome.execute_script(f"return {STYLED_JS};")
            assert state["tiles"] == wanted and state["tinted"] == wanted, state
            assert state["banner"] == "64px" and state["header"] == "flex", state
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        chrome.save_screenshot(str(ARTIFACTS / "wall-after-mark-done.png"))
        assert "fragment rerun was triggered with a callback" not in board_log.read_text(errors="replace")
    finally:
        close_chromium(chrome)
        stop_group(board)
        stop(daemon)
        demo.shutdown()
