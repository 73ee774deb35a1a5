"""Starting the board (Streamlit) and a headless Chromium for tests and the board benchmark.

Every process is started in its own session and stopped by its own process group id; every wait is
bounded; everything listens on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml

from tests.daemon_kit import ROOT, demo_config, wait_for
from tests.realparts import find_binary, free_port, missing_part

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1920,1080")
# Scenario times of the seed's T=0 run sheet.
RUN_SHEET = (("23:59:59", "23:59:59 关闭活动入口, 支付通道保持开放 / close the entry, keep payment open", "ops_lead"),
             ("00:05:00", "00:05 关闭支付通道, 导出订单, 生成快照 / close payment, export, snapshot", "tech_lead"),
             ("00:30:00", "00:30 全量备份, 首份活动报告 / full backup, first report", "ops_lead"))


def scenario_offset(start_at: str, moment: str, speed: float) -> str:
    """'+Ns': real seconds from a demo started at `start_at` until scenario time `moment` (past midnight ok)."""
    def secs(hms: str) -> int:
        h, m, s = (int(p) for p in hms.split(":"))
        return h * 3600 + m * 60 + s
    delta = (secs(moment) - secs(start_at)) % 86400
    return f"+{max(1.0, delta / speed):.3f}s"


def night_config(demo_url: str, db: Path, start_at: str = "23:29:00", speed: float = 9.0,
                 h5_timeout: str = "3s") -> dict[str, Any]:
    """The shipped config against a demo on `demo_url`, its campaign clock and run sheet on the scenario's."""
    raw = demo_config(demo_url, db, h5_timeout=h5_timeout)
    port = urlsplit(demo_url).port
    for person in raw["people"].values():
        # The pages go to this demo's inbox, so deliveries succeed as they do in `make run`.
        person["channels"] = [c.replace("json://127.0.0.1:8780", f"json://127.0.0.1:{port}")
                              for c in person.get("channels", [])]
    campaign = raw["campaign"]
    campaign["start"] = "+0s"
    campaign["end"] = scenario_offset(start_at, "23:59:59", speed)
    campaign["run_sheet"] = [{"at": scenario_offset(start_at, at, speed), "action": action, "owner": owner}
                             for at, action, owner in RUN_SHEET]
    return raw


def shipped_night_config(demo_url: str, db: Path) -> dict[str, Any]:
    """config.yaml as `make run` plays it (its demo section, so the daemon runs on the night's clock), pointed at
    the demo on `demo_url`, a temp database and a free API port."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text.replace("127.0.0.1:8780", demo_url.removeprefix("http://")))
    raw["demo"]["port"] = urlsplit(demo_url).port
    raw["server"].update(port=free_port(), database=str(db))
    return raw


def start_board(config: Path, api: str, port: int, log: Path, env: dict[str, str] | None = None,
                extra: list[str] | None = None) -> subprocess.Popen[bytes]:
    """`warroom board` (which runs Streamlit as its child) in a new process group."""
    argv = [sys.executable, "-m", "warroom.cli", "board", "-c", str(config), "--api", api, "--port", str(port)]
    with log.open("ab") as out:
        return subprocess.Popen(argv + (extra or []), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, **(env or {})}, start_new_session=True)


def wait_board(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 45) -> None:
    """Until Streamlit's health endpoint answers."""
    def healthy() -> bool:
        return requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text.strip() == "ok"
    wait_for(healthy, timeout, "the board's health endpoint", proc, log)


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM the process group we started (warroom board and its Streamlit child); SIGKILL if it lingers."""
    if proc.poll() is None or _group_alive(proc.pid):
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        if _group_alive(proc.pid):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(5)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def chromium(width: int = 1920, height: int = 1080, performance_log: bool = False) -> Any:
    """A headless Chromium driven by chromedriver (selenium), its viewport exactly width x height."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing_part("selenium is not installed (pip install 'selenium>=4.20,<5')")
    browser = find_binary("chromium", "chromium-browser")
    driver = find_binary("chromedriver")
    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="warroom-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = browser
    if performance_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    chrome.warroom_profile = profile
    chrome.set_page_load_timeout(30)
    chrome.set_script_timeout(30)
    # --window-size includes the (invisible) window frame; the wall is judged on a 1920x1080 viewport.
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return chrome


def close_chromium(chrome: Any) -> None:
    """Quit Chromium and chromedriver and remove the fresh profile."""
    try:
        chrome.quit()
    finally:
        shutil.rmtree(getattr(chrome, "warroom_profile", ""), ignore_errors=True)


def wait_dom(chrome: Any, script: str, timeout: float, what: str) -> Any:
    """Evaluate `script` (a JS expression) until it is truthy; fail naming `what` at the deadline."""
    return wait_for(lambda: chrome.execute_script(f"return ({script});"), timeout, what)
