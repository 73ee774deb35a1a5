"""The demo night watched whole in Chromium: the README's pictures, and what each of them must show.

    python -m bench.demo_shots docs/            # about 11 minutes: the night at the shipped speed, unattended

One demo night at speed 9 from 23:00 with the shipped config.yaml (its demo clock, its 5-minute ack
timeouts), the daemon and the board on free ports, a headless Chromium at 1920x1080 with ?kiosk=1.
Nobody acknowledges. Two things are done to the night so the pictures prove what they must:

- this host's CPU (the monitoring box, `group: host`) has its lines lowered to 1/2/3 %, so a health
  alert is red all night: it must never take the banner from a business alert;
- at 23:20 the DBA silences the connection pool for 30 minutes: a silenced alert must never drive it;
- just after the close, somebody taps 标记完成 on the kiosk wall and confirms: the wall must survive it.

At 23:02, 23:23, 23:31, 23:41, 00:03 and 00:35 (five night minutes after the night held at 00:30) it
saves the wall and checks, failing loudly otherwise: one time base (the header's clock is the demo's,
every time on the wall is the night's), the banner names who the engine says is being paged now (the
first alert of the room's order, never a health or silenced one), and the wall is styled. Also saves
the metric detail and alerts pages, and the GM's deputy's phone view.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
from tests.daemon_kit import start_collect, start_demo, stop, wait_for, write_config
from tests.realparts import free_port

TOKEN = "demo-shots-token-0123456789"
SPEED = 9.0
ZONE = ZoneInfo("Asia/Shanghai")
# (night time to wait for, file name, page path, viewport): the wall six times, then the other pages.
SHOTS = (("23:02:00", "demo-2302.png", "/?kiosk=1", None), ("23:23:00", "demo-2323.png", "/?kiosk=1", None),
         ("23:31:00", "demo-2331.png", "/?kiosk=1", None),
         ("23:33:30", "demo-detail.png", "/detail?metric=response_time", None),
         ("23:34:00", "demo-alerts.png", "/alerts", None),
         ("23:35:00", "phone.png", "/phone?role=deputy_gm", (390, 844)),
         ("23:41:00", "demo-2341.png", "/?kiosk=1", None), ("00:03:00", "demo-0003.png", "/?kiosk=1", None),
         ("00:35:00", "demo-0035.png", "/?kiosk=1", None))
STYLED_JS = """(() => {
  const tiles = Array.from(document.querySelectorAll('[class*=st-key-wr-tile-]'));
  const banner = document.querySelector('[data-decision]');
  const header = document.querySelector('.wr-header');
  return {tiles: tiles.length,
          tinted: tiles.filter(t => getComputedStyle(t).backgroundColor !== 'rgba(0, 0, 0, 0)').length,
          banner: banner ? getComputedStyle(banner).height : null,
          header: header ? getComputedStyle(header).display : null};
})()"""
WALL_JS = """(() => {
  const b = document.querySelector('[data-decision]');
  const name = b && b.querySelector('[data-decider]');
  const missed = b && b.querySelector('[data-missed]');
  return {level: b && b.dataset.decision, alert: b && b.dataset.bannerAlert, role: b && b.dataset.role,
          name: name ? name.textContent : '', missed: missed ? missed.textContent : '',
          header: (document.querySelector('.wr-header') || {}).innerText || '',
          steps: Array.from(document.querySelectorAll('[data-step]')).map(e => e.innerText)};
})()"""


def night_minutes(clock: str) -> float:
    """Minutes after 23:00 of a time on the night (00:xx is after midnight)."""
    h, m, s = (int(p) for p in clock.split(":"))
    return ((h - 23) % 24) * 60 + m + s / 60


def shipped_config(demo_url: str, db: Path) -> dict[str, Any]:
    """config.yaml as `make run` plays it, pointed at this demo, with this host's CPU red all night."""
    raw = shipped_night_config(demo_url, db)
    raw["alerts"]["board_url"] = "http://127.0.0.1:8501/"
    # The monitoring box red all night: the banner must still name the business decider.
    raw["metrics"]["host_cpu"].update(yellow=1, orange=2, red=3, clear=0.5)
    return raw


def night_now(demo_url: str) -> str:
    """The demo's own clock, HH:MM:SS."""
    return requests.get(f"{demo_url}/api/clock", timeout=5).json()["scenario_time"]


def check_wall(chrome: Any, api: str, demo_url: str) -> dict[str, Any]:
    """One time base, the banner naming who the engine says acts now (never health or silenced), a styled wall."""
    styled = chrome.execute_script(f"return {STYLED_JS};")
    assert styled["tiles"] and styled["tinted"] == styled["tiles"], styled
    assert styled["banner"] == "64px" and styled["header"] == "flex", styled
    for _ in range(3):  # the DOM and the API are read a moment apart: the banner may just have moved on
        wall = chrome.execute_script(f"return {WALL_JS};")
        alerts = requests.get(f"{api}/api/v1/alerts", timeout=5).json()["alerts"]
        board = requests.get(f"{api}/api/v1/board", timeout=5).json()
        live = [a for a in alerts if a.get("acting") and a["state"] != "resolved"]
        first = min((a for a in live if a["acting"]["banner"]), key=lambda a: a["acting"]["rank"], default=None)
        if (first is None and wall["level"] == "none") or (first and str(first["id"]) == wall["alert"]):
            break
        time.sleep(1)
    if first is None:
        assert wall["level"] == "none", (wall, live)
    else:
        assert str(first["id"]) == wall["alert"] and first["acting"]["role"] == wall["role"], (wall, first)
        assert first["acting"]["name"] in wall["name"] and not first["acting"]["health"], (wall, first)
        assert not first["acting"]["silenced"], (wall, first)
    # One time base: the header's clock is the demo night's (within a refresh and a screenshot of 9x time).
    shown = next(part for part in wall["header"].split() if part.count(":") == 2 and len(part) == 8)
    demo = night_now(demo_url)
    assert abs(night_minutes(shown) - night_minutes(demo)) * 60 <= 45, (shown, demo)
    assert datetime.fromisoformat(board["at"]).astimezone(ZONE).strftime("%Y-%m-%d") in ("2024-11-11", "2024-11-12")
    assert all(any(t in s for t in ("23:59:59", "00:05:00", "00:30:00")) for s in wall["steps"]), wall["steps"]
    return {**wall, "night": demo, "banner_metric": first["metric"] if first else None,
            "aside": [a["metric"] for a in live if not a["acting"]["banner"]]}


def mark_done(chrome: Any) -> None:
    """Tap 标记完成 on the first step and confirm it, as someone at the wall would."""
    def click(label: str) -> bool:
        return chrome.execute_script(
            "const b = Array.from(document.querySelectorAll('button')).find(b => b.innerText.includes(arguments[0])"
            " && !b.disabled); if (b) { b.click(); return true; } return false;", label)
    wait_for(lambda: click("标记完成"), 30, "the 标记完成 button")
    wait_for(lambda: click("确认完成"), 30, "the 确认完成 button")
    wait_dom(chrome, "document.querySelector('.wr-step-done') !== null", 30, "the step marked done")


def take(out: Path) -> None:
    """Play the night and save every shot under `out`."""
    chrome = chromium()
    demo = start_demo("23:00:00", speed=SPEED)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        raw = shipped_config(demo.url, tmpdir / "night.duckdb")
        config = write_config(raw, tmpdir / "config.yaml")
        env = {"WARROOM_TOKEN": TOKEN}
        api = f"http://127.0.0.1:{raw['server']['port']}"
        daemon = start_collect(config, tmpdir / "collect.log", env)
        port = free_port()
        board = start_board(config, api, port, tmpdir / "board.log", env)
        silenced = marked = False
        try:
            wait_for(lambda: requests.get(f"{api}/api/v1/health", timeout=5).ok, 60, "the daemon", daemon,
                     tmpdir / "collect.log")
            wait_board(port, board, tmpdir / "board.log")
            out.mkdir(parents=True, exist_ok=True)
            for clock, name, path, viewport in SHOTS:
                if not silenced and night_minutes(clock) >= night_minutes("23:20:00"):
                    wait_for(lambda: night_minutes(night_now(demo.url)) >= night_minutes("23:20:00"), 900, "23:20")
                    answer = requests.post(f"{api}/api/v1/silences", headers={"Authorization": f"Bearer {TOKEN}"},
                                           json={"metric": "db_connections", "duration": "30m", "author": "赵磊 DBA",
                                                 "reason": "known: pool resize under way"}, timeout=5)
                    print(f"23:20 silence db_connections for 30 night minutes: HTTP {answer.status_code}", flush=True)
                    silenced = True
                if not marked and night_minutes(clock) >= night_minutes("00:01:00"):
                    wait_for(lambda: night_minutes(night_now(demo.url)) >= night_minutes("00:01:00"), 900, "00:01")
                    chrome.get(f"http://127.0.0.1:{port}/?kiosk=1")
                    wait_dom(chrome, "document.querySelector('[data-metric]') !== null", 60, "the wall")
                    mark_done(chrome)
                    print(f"{night_now(demo.url)} marked the 23:59:59 step done on the kiosk wall", flush=True)
                    marked = True

                def reached(clock: str = clock, early_s: float = 0.0) -> bool:
                    """The night at `clock` (minus `early_s` night seconds); 00:35 is 33 real s after the 00:30 hold."""
                    wanted = night_minutes(clock) * 60 - early_s
                    if night_minutes(clock) > night_minutes("00:30:00"):
                        return requests.get(f"{demo.url}/api/clock", timeout=5).json()["elapsed_s"] >= wanted / SPEED
                    return night_minutes(night_now(demo.url)) * 60 >= wanted
                # Load the page a night minute early (the charts draw in a few real seconds), shoot on the minute.
                wait_for(lambda c=clock: reached(c, 60.0), 900, f"night time {clock} less a minute")
                width, height = viewport or (1920, 1080)
                chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
                if not (path == "/?kiosk=1" and marked and chrome.current_url.endswith("/?kiosk=1")):
                    chrome.get(f"http://127.0.0.1:{port}{path}")
                wait_dom(chrome, "document.querySelector('[data-metric],[data-headline],[data-alerts],"
                                 "[data-phone-alerts],[data-decision],[data-alert]') !== null", 60, f"{path} drawn")
                wait_for(reached, 900, f"night time {clock}")
                time.sleep(1.5)  # one more refresh of the wall at that moment
                report = check_wall(chrome, api, demo.url) if path == "/?kiosk=1" else {"night": night_now(demo.url)}
                chrome.save_screenshot(str(out / name))
                print(f"saved {out / name} at night time {report['night']}: {report}", flush=True)
            inbox = requests.get(f"{demo.url}/im", timeout=5).text
            print(f"inbox: {inbox.count('→')} pages, {inbox.count('已上报]')} escalation(s)")
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
