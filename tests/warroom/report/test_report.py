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
from tests.realparts import missing_part
from tests.warroom.record.kit import T0, queue_config, recorded_night
from warroom.archive.report.make import make_report
from warroom.record.campaign import begin
from warroom.store.database import Store

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


def report_cli(*args):
    return subprocess.run([sys.executable, "-m", "warroom.cli", "report", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


@pytest.fixture
def kit_night(tmp_path):
    db = tmp_path / "n.duckdb"
    recorded_night(db, queue_config()).close()
    return db


def window_of(page):
    return re.search(r"(?:Window|时间范围): ([^<]*) \(Asia/Shanghai\)", page).group(1)


def test_report_cli_reads_the_window_as_its_help_says(kit_night, tmp_path):
    out = tmp_path / "r.html"
    # naive = the campaign's timezone (Asia/Shanghai): 23:00:50 there is 15:00:50 UTC, 50 s into the kit's night
    done = report_cli("--db", str(kit_night), "-o", str(out), "--from", "2024-11-11T23:00:50", "--to", "now")
    assert done.returncode == 0, done.stderr
    assert window_of(out.read_text(encoding="utf-8")) == "11-11 23:00:50 – 11-11 23:02:50"
    done = report_cli("--db", str(kit_night), "-o", str(out), "--from=-1m", "--lang", "en")  # 'now' is its last moment
    assert done.returncode == 0, done.stderr
    assert window_of(out.read_text(encoding="utf-8")) == "11-11 23:01:50 – 11-11 23:02:50"


BAD_WINDOWS = [
    (("--from", "garbage"), "--from: 'garbage' is not an ISO-8601 time"),
    (("--to", "yesterday"), "--to: 'yesterday' is not an ISO-8601 time"),
    (("--from", "now", "--to=-1h"), "must be after --from"),
    (("--from", "0001-01-01T00:00:00"), "--from: '0001-01-01T00:00:00' is more than 3660 days from now"),
    (("--from=-30d",), "longer than the 8-day limit"),
]


@pytest.mark.parametrize(("args", "why"), BAD_WINDOWS)
def test_report_cli_refuses_a_bad_window_in_one_line_before_any_work(kit_night, tmp_path, args, why):
    done = report_cli("--db", str(kit_night), "-o", str(tmp_path / "r.html"), *args)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and why in lines[0] and lines[0].startswith("warroom report: ")
    assert "[#" not in done.stderr  # refused before the first answer was fetched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.duckdb"]


def test_report_of_an_archive_with_no_samples_covers_its_campaign(tmp_path):
    db = tmp_path / "empty-night.duckdb"
    store = Store(db)
    begin(store, queue_config(), T0)
    store.close()
    done = report_cli("--db", str(db), "-o", str(tmp_path / "r.html"), "--lang", "en")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert window_of(page) == "11-11 23:00:00 – 11-12 00:00:00" and "No alert was opened" in page


def test_report_cli_refuses_an_unusable_output_in_one_line_before_any_work(kit_night, tmp_path):
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("x")
    cases = {str(tmp_path / "a-folder"): "is a folder; give a file name",
             str(tmp_path / "a-file" / "r.html"): "a-file is a file, not a folder"}
    for out, why in cases.items():
        done = report_cli("--db", str(kit_night), "-o", out)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and why in lines[0] and out in lines[0], done.stderr
        assert "[#" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "a-folder", "n.duckdb"]
    assert list((tmp_path / "a-folder").iterdir()) == []


@pytest.fixture
def read_only_folder(tmp_path):
    """A read-only filesystem (a small tmpfs mounted ro): what a full or failing disk looks like to a writer."""
    folder = tmp_path / "ro"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        missing_part(f"cannot mount a read-only tmpfs (needs root): {done.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_report_and_export_on_a_read_only_filesystem_are_one_line_before_any_work(kit_night, read_only_folder):
    for command, out in (("report", read_only_folder / "r.html"), ("export", read_only_folder / "out")):
        done = subprocess.run([sys.executable, "-m", "warroom.cli", command, "--db", str(kit_night), "-o", str(out)],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert lines[0] == f"warroom {command}: {out}: cannot write in {read_only_folder}: the filesystem is read-only"
