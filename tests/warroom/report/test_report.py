"""`warroom report`: one self-contained HTML file holding every alert and decision; Chromium renders it offline."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import subprocess
import sys
import time
from html import escape
from pathlib import Path

import duckdb
import pytest

from tests.daemon_kit import ROOT
from tests.harness.night_record import record_demo_night
from tests.warroom.record.kit import queue_config, recorded_night
from warroom.archive.report.make import make_report

ARTIFACTS = ROOT / "tests" / "artifacts"
# Anything that would make a browser reach out: attributes with a scheme, CSS url()/@import, protocol-relative.
EXTERNAL = re.compile(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:|//|ftp:)|url\(|@import""",
                      re.IGNORECASE)


def markup(page: str) -> str:
    """The page without its inlined plotly.js (which holds no URL either; checked separately)."""
    return re.sub(r"<script>.*?</script>", "", page, count=1, flags=re.DOTALL)


def test_report_of_a_recorded_night(tmp_path):
    db = tmp_path / "n.duckdb"
    recorded_night(db, queue_config()).close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    err = io.StringIO()
    out = make_report(db, tmp_path / "out" / "report.html", lang="en", stderr=err)
    page = out.read_text(encoding="utf-8")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert "#1 Queue" in page and "switch to the backup servers" in page and "close the entry" in page
    assert 'data-alerts="1"' in page and "KPI MET" not in markup(page)  # no KPI configured
    assert page.count('class="metric"') == 2 and "Red" in page
    assert not EXTERNAL.search(markup(page)) and "://" not in page.split("</script>")[0]
    assert "\r[" in err.getvalue() and err.getvalue().rstrip().endswith("decisions_html")


def test_report_cli_on_a_bad_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "x.duckdb"
    bad.write_text("nope")
    done = subprocess.run([sys.executable, "-m", "warroom.cli", "report", "--db", str(bad), "-o",
                           str(tmp_path / "r.html")], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists()


@pytest.fixture(scope="module")
def demo_night(tmp_path_factory):
    return record_demo_night(tmp_path_factory.mktemp("report-night"), seconds=40, speed=30)


@pytest.mark.slow
@pytest.mark.needs_chromium
def test_report_of_the_demo_night_in_chromium(demo_night, tmp_path):
    from tests.app.board_kit import chromium, close_chromium

    out = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "warroom.cli", "report", "--db", str(demo_night), "-o", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[##############################]" in done.stderr  # the progress bar reached the end
    page = out.read_text(encoding="utf-8")
    con = duckdb.connect(str(demo_night), read_only=True)
    try:
        ids = [r[0] for r in con.execute("SELECT id FROM alerts").fetchall()]
        decisions = [r[0] for r in con.execute("SELECT text FROM annotations").fetchall()]
    finally:
        con.close()
    assert ids and decisions
    for alert_id in ids:
        assert f"#{alert_id} " in page
    for text in decisions:
        assert escape(text) in page
    assert not EXTERNAL.search(markup(page))
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1920, 390):
        chrome = chromium(width, 1000, performance_log=True)
        try:
            if width < 500:
                chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": True})
            chrome.get(out.as_uri())
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and chrome.execute_script(
                    "return document.querySelectorAll('.js-plotly-plot .main-svg').length") == 0:
                time.sleep(0.2)
            charts = chrome.execute_script("return document.querySelectorAll('.js-plotly-plot').length")
            assert charts == page.count('class="metric"') > 0
            assert chrome.execute_script("return document.documentElement.scrollWidth") <= width
            errors = [e for e in chrome.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == [], errors
            requested = {json.loads(e["message"])["message"].get("params", {}).get("request", {}).get("url", "")
                         for e in chrome.get_log("performance")}
            outside = {u for u in requested if u and not u.startswith(("file:", "data:", "chrome:", "about:"))}
            assert outside == set(), outside
            height = chrome.execute_script("return document.documentElement.scrollHeight")
            shot = chrome.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True, "clip": {
                "x": 0, "y": 0, "width": width, "height": min(height, 8000), "scale": 1}})
            Path(ARTIFACTS / f"report-{width}.png").write_bytes(base64.b64decode(shot["data"]))
        finally:
            close_chromium(chrome)
