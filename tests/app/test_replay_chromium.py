"""`warroom replay --db` with its board in a real Chromium: the replay page, the slider moved, playing."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
import requests

from tests.app.board_kit import chromium, close_chromium, stop_group, wait_dom
from tests.daemon_kit import ROOT, wait_for
from tests.harness.night_record import record_demo_night

pytestmark = [pytest.mark.slow, pytest.mark.needs_chromium]

ARTIFACTS = ROOT / "tests" / "artifacts"
AT_JS = "(document.querySelector('[data-replay-at]') || {dataset: {}}).dataset.replayAt"


def test_replay_page_in_chromium(tmp_path):
    chrome = chromium()
    db = record_demo_night(tmp_path, seconds=30, speed=30)
    log = tmp_path / "replay.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "warroom.cli", "replay", "--db", str(db)], stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    try:
        board = wait_for(lambda: re.search(r"board (http://127\.0\.0\.1:\d+)/replay", log.read_text()), 30,
                         "the board line", proc, log).group(1)
        first = wait_for(lambda: re.search(r"recorded until (\S+)\)", log.read_text()), 5, "the API line").group(1)
        del first
        wait_for(lambda: requests.get(f"{board}/_stcore/health", timeout=2).text.strip() == "ok", 60, "the board",
                 proc, log)
        chrome.get(f"{board}/replay")
        start = wait_dom(chrome, AT_JS, 60, "the replay banner")
        assert "REPLAY" in chrome.execute_script("return document.querySelector('.wr-replay-banner').textContent")
        assert "at=" in chrome.current_url
        tiles = wait_dom(chrome, "document.querySelectorAll('[data-metric]').length", 30, "the tiles")
        assert tiles >= 6
        # the slider: focus its range input and step it with the keyboard, as a person would
        slider = "document.querySelector('[data-testid=stSlider] input[type=range]')"
        wait_dom(chrome, slider, 20, "the slider")
        chrome.execute_script(f"{slider}.focus()")
        for _ in range(5):
            chrome.switch_to.active_element.send_keys("\ue014")  # ArrowRight
        wait_dom(chrome, f"{AT_JS} > '{start}'", 20, "the slider to move the moment")
        chrome.execute_script(f"{slider}.blur()")
        time.sleep(2.0)  # let the last key presses reach the server before pressing play
        moved = chrome.execute_script(f"return {AT_JS}")
        # 1x, so a 30-second recording does not play to its end before we look
        next(b for b in chrome.find_elements("css selector", "button") if b.text.strip() == "1x").click()
        time.sleep(1.5)
        play = next(b for b in chrome.find_elements("css selector", "button") if b.text.strip() == "▶")
        play.click()
        wait_dom(chrome, f"{AT_JS} > '{moved}'", 20, "playing to move the moment on")
        assert "▶" in chrome.execute_script("return document.querySelector('.wr-replay-banner').textContent"), \
            chrome.execute_script("return document.querySelector('.wr-replay-banner').dataset.pausedBy")
        assert chrome.execute_script("return document.querySelectorAll('.js-plotly-plot').length") >= 1
        # Opened at /replay, Streamlit first probes /replay/_stcore/* for its base path (404) and then finds it.
        severe = [e for e in chrome.get_log("browser") if e["level"] == "SEVERE" and "/_stcore/" not in e["message"]]
        assert severe == [], severe
        time.sleep(1.0)
        ARTIFACTS.mkdir(exist_ok=True)
        chrome.save_screenshot(str(ARTIFACTS / "replay.png"))
    finally:
        close_chromium(chrome)
        stop_group(proc)
