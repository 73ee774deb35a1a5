"""The README's pictures of the demo night: the kiosk wall at 23:00, 23:31, 23:40 and after the close (T+).

    python -m bench.demo_shots docs/            # about 7 minutes: the night at the shipped speed, unattended

One demo night at speed 9 from 23:00, the shipped config (its ack timeouts, its demo clock), the daemon
and the board on free ports, a headless Chromium at 1920x1080. Nobody acknowledges, so the 23:31 wall
shows the one escalation of the night. Also saves the metric detail and alerts pages at 23:33.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
import yaml

from tests.app.board_kit import chromium, close_chromium, night_config, start_board, stop_group, wait_board, wait_dom
from tests.daemon_kit import ROOT, api_base, start_collect, start_demo, stop, wait_for, write_config
from tests.realparts import free_port

TOKEN = "demo-shots-token-0123456789"
SPEED = 9.0
# (scenario time to wait for, file name, page path): the wall four times, then the two other pages.
SHOTS = (("23:01:10", "wall-2300.png", "/?kiosk=1"), ("23:31:00", "wall-2331.png", "/?kiosk=1"),
         ("23:33:00", "detail-2333.png", "/detail?metric=response_time"),
         ("23:34:00", "alerts-2334.png", "/alerts"),
         ("23:40:00", "wall-2340.png", "/?kiosk=1"), ("00:02:00", "wall-tplus.png", "/?kiosk=1"))


def night_minutes(clock: str) -> float:
    """Minutes after 23:00 of a time on the night (00:xx is after midnight)."""
    h, m, s = (int(p) for p in clock.split(":"))
    return ((h - 23) % 24) * 60 + m + s / 60


def take(out: Path) -> None:
    """Play the night and save every shot under `out`."""
    chrome = chromium()
    demo = start_demo("23:00:00", speed=SPEED)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        raw = night_config(demo.url, tmpdir / "night.duckdb", "23:00:00", SPEED, h5_timeout="20s")
        # As `make run` plays it: the shipped thresholds and poll intervals, not the test kit's.
        shipped = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        raw["metrics"]["response_time"] = shipped["metrics"]["response_time"]
        for ours, theirs in zip(raw["collectors"], shipped["collectors"], strict=True):
            ours["interval"] = theirs["interval"]
        # The shipped config's demo section, pointed at this demo: the wall learns the night's time from it.
        raw["demo"] = {"port": urlsplit(demo.url).port, "speed": SPEED}
        config = write_config(raw, tmpdir / "config.yaml")
        env = {"WARROOM_TOKEN": TOKEN}
        daemon = start_collect(config, tmpdir / "collect.log", env)
        port = free_port()
        board = start_board(config, api_base(raw), port, tmpdir / "board.log", env)
        try:
            wait_board(port, board, tmpdir / "board.log")
            out.mkdir(parents=True, exist_ok=True)
            for clock, name, path in SHOTS:
                def reached(clock: str = clock) -> bool:
                    now = requests.get(f"{demo.url}/api/clock", timeout=5).json()["scenario_time"]
                    return night_minutes(now) >= night_minutes(clock)
                wait_for(reached, 600, f"scenario time {clock}")
                chrome.get(f"http://127.0.0.1:{port}{path}")
                wait_dom(chrome, "document.querySelector('[data-metric],[data-headline],[data-alerts],"
                                 "[data-alert]') !== null", 60, f"{path} drawn")
                time.sleep(6)  # the sparklines and charts draw after the text
                chrome.save_screenshot(str(out / name))
                shown = requests.get(f"{demo.url}/api/clock", timeout=5).json()["scenario_time"]
                print(f"saved {out / name} at scenario time {shown}", flush=True)
            inbox = requests.get(f"{demo.url}/im", timeout=5).text
            # An escalation's title says 已上报] (its body names who it went to with 已上报: too).
            print(f"inbox: {inbox.count('→')} pages, {inbox.count('已上报]')} escalation(s)")
            lines = inbox.splitlines()
            for i, line in enumerate(lines):
                if "已上报]" in line:
                    print("  ", lines[i - 1].strip(), "|", line.strip())
            (out / "inbox.txt").write_text(inbox, encoding="utf-8")
        finally:
            close_chromium(chrome)
            stop_group(board)
            stop(daemon)
            demo.shutdown()


def main() -> None:
    """Parse the output folder and take the shots."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, nargs="?", default=Path("docs"))
    take(ap.parse_args().out)


if __name__ == "__main__":
    main()
