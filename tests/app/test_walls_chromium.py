"""Walls in a real headless Chromium: 24 metrics on one 1920x1080 wall without scrolling or cut words; two board
processes against one daemon both live; many open walls cost the daemon about one fetch per period.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.app.board_kit import chromium, close_chromium, start_board, stop_group, wait_board, wait_dom
from tests.daemon_kit import api_base, start_collect, stop, wait_for, write_config
from tests.realparts import free_port

pytestmark = [pytest.mark.slow, pytest.mark.needs_chromium]

TOKEN = "walls-test-token-0123456789"
TITLES = ("转化率 / Conversion", "客单价 / Average order value", "广告点击率 / Click-through rate",
          "千次展示成本 / CPM", "舆情 / Sentiment", "GMV 成交额 / Gross merchandise value")
PEOPLE = {"tech_lead": "张伟 · 技术负责人", "ops_lead": "李娜 · 运营负责人", "general_manager": "王强 · 总经理"}

CLIPPED_JS = """return Array.from(document.querySelectorAll('[data-metric]')).map(e => {
  const box = e.closest('[class*=st-key-wr-tile-]').getBoundingClientRect();
  const cut = s => { const x = e.querySelector(s); return x ? (x.scrollWidth > x.clientWidth + 1 ||
                     x.scrollHeight > x.clientHeight + 1) : false; };
  const inside = s => { const r = e.querySelector(s).getBoundingClientRect();
                        return r.right <= box.right + 1 && r.bottom <= box.bottom + 1; };
  return {metric: e.dataset.metric, level: e.dataset.level, owner: e.querySelector('[data-owner]').textContent,
          ownerPx: parseFloat(getComputedStyle(e.querySelector('[data-owner]')).fontSize),
          cut: ['.wr-title', '[data-owner]', '.wr-value'].filter(cut).map(s => { const x = e.querySelector(s);
    return [s, x.scrollWidth, x.clientWidth, x.scrollHeight, x.clientHeight]; }),
          inside: inside('.wr-word') && inside('.wr-value') && inside('[data-owner]') && inside('.wr-age'),
          bottom: box.bottom};
});"""


def pushed_config(db: Path, metrics: int) -> dict[str, Any]:
    """`metrics` pushed metrics with seed-like titles on one wall (the holiday plan's extra numbers)."""
    return {
        "campaign": {"name": "双十一 · 24 指标", "timezone": "Asia/Shanghai", "start": "+0s", "end": "+1h",
                     "locale": "zh-CN"},
        "people": {r: {"name": n, "phone": f"+86 138 0000 000{i}"} for i, (r, n) in enumerate(PEOPLE.items(), 1)},
        "collectors": [],
        "metrics": {f"m{i:02d}": {"title": f"{TITLES[i % len(TITLES)]} {i}", "unit": "%", "yellow": 80, "orange": 90,
                                  "red": 95, "pushed": True} for i in range(metrics)},
        "server": {"port": free_port(), "database": str(db), "tick": "100ms"},
    }


def push(base: str, values: dict[str, float]) -> None:
    samples = [{"metric": m, "value": v} for m, v in values.items()]
    requests.post(f"{base}/api/v1/push", json={"samples": samples}, headers={"Authorization": f"Bearer {TOKEN}"},
                  timeout=5).raise_for_status()


def test_24_metrics_on_one_wall_fit_without_scrolling_or_cut_words(tmp_path):
    chrome = chromium()
    raw = pushed_config(tmp_path / "w.duckdb", 24)
    config = write_config(raw, tmp_path / "config.yaml")
    env = {"WARROOM_TOKEN": TOKEN}
    daemon = start_collect(config, tmp_path / "collect.log", env)
    port = free_port()
    board = start_board(config, api_base(raw), port, tmp_path / "board.log", env)
    base = api_base(raw)
    try:
        wait_for(lambda: requests.get(f"{base}/api/v1/health", timeout=2).ok, 30, "the daemon", daemon,
                 tmp_path / "collect.log")
        push(base, {f"m{i:02d}": (50.0, 85.0, 92.0, 97.0)[i % 4] for i in range(24)})
        wait_board(port, board, tmp_path / "board.log")
        chrome.get(f"http://127.0.0.1:{port}/?kiosk=1")
        wait_dom(chrome, "document.querySelectorAll('[data-metric][data-level=red]').length === 6", 45,
                 "24 tiles, six of them red")
        tiles = chrome.execute_script(CLIPPED_JS)
        assert len(tiles) == 24
        for tile in tiles:
            assert tile["cut"] == [] and tile["inside"] and tile["bottom"] <= 1080, tile
            if tile["level"] != "green":
                assert tile["ownerPx"] >= 28 and tile["owner"] in {n.split(" · ")[0] for n in PEOPLE.values()}, tile
        layout = chrome.execute_script("return [window.innerHeight, document.documentElement.scrollHeight, "
                                       "document.querySelector('[data-testid=stMain]').scrollHeight];")
        assert layout[0] == 1080 and layout[1] <= 1080 and layout[2] <= 1081, layout
        assert chrome.execute_script("return document.querySelector('[data-decision=red] [data-decider]')"
                                     ".textContent;").startswith("王强")
        (Path(__file__).resolve().parents[1] / "artifacts").mkdir(exist_ok=True)
        chrome.save_screenshot(str(Path(__file__).resolve().parents[1] / "artifacts" / "wall-24.png"))
    finally:
        close_chromium(chrome)
        stop_group(board)
        stop(daemon)


class CountingProxy(ThreadingHTTPServer):
    """Forwards GETs to the daemon and counts them per path: what the board really asks of the daemon."""

    daemon_threads = True

    def __init__(self, upstream: str):
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's dispatch name
                with proxy.lock:
                    path = self.path.split("?")[0]
                    proxy.counts[path] = proxy.counts.get(path, 0) + 1
                resp = requests.get(upstream + self.path, timeout=5)
                self.send_response(resp.status_code)
                self.send_header("Content-Type", resp.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def count(self, path: str) -> int:
        with self.lock:
            return self.counts.get(path, 0)


def snapshot_seq(chrome: Any) -> int:
    return int(chrome.execute_script("const e = document.querySelector('[data-snapshot]');"
                                     "return e ? e.dataset.snapshot : 0;"))


def test_two_boards_on_one_daemon_both_live_and_walls_share_one_fetch(tmp_path):
    chrome = chromium()
    raw = pushed_config(tmp_path / "w.duckdb", 6)
    config = write_config(raw, tmp_path / "config.yaml")
    env = {"WARROOM_TOKEN": TOKEN}
    daemon = start_collect(config, tmp_path / "collect.log", env)
    base = api_base(raw)
    proxy = CountingProxy(base)
    boards = []
    try:
        wait_for(lambda: requests.get(f"{base}/api/v1/health", timeout=2).ok, 30, "the daemon", daemon,
                 tmp_path / "collect.log")
        push(base, {f"m{i:02d}": 50.0 for i in range(6)})
        ports = [free_port(), free_port()]
        # Board A reaches the daemon through the counting proxy; board B directly.
        for i, (port, api) in enumerate(zip(ports, (f"http://127.0.0.1:{proxy.server_address[1]}", base),
                                            strict=True)):
            boards.append(start_board(config, api, port, tmp_path / f"board{i}.log", env))
        for port, board in zip(ports, boards, strict=True):
            wait_board(port, board, tmp_path / "board.log")
        tabs = []
        for k, port in enumerate([ports[0]] * 4 + [ports[1]]):
            if k:
                chrome.switch_to.new_window("tab")
            chrome.get(f"http://127.0.0.1:{port}/?kiosk=1")
            wait_dom(chrome, "document.querySelectorAll('[data-metric]').length === 6", 45, f"tab {k}'s tiles")
            tabs.append(chrome.current_window_handle)
        time.sleep(2)
        before = proxy.count("/api/v1/board")
        started = time.monotonic()
        seqs = {}
        for handle in tabs:
            chrome.switch_to.window(handle)
            seqs[handle] = snapshot_seq(chrome)
        push(base, {"m00": 97.0})
        time.sleep(8)
        for handle in tabs:
            chrome.switch_to.window(handle)
            # Every wall on both boards kept refreshing and shows the pushed red value.
            wait_dom(chrome, "document.querySelector('[data-metric=m00][data-level=red]') !== null", 10, "m00 red")
            assert snapshot_seq(chrome) > seqs[handle]
        fetched = proxy.count("/api/v1/board") - before
        elapsed = time.monotonic() - started
        # Four walls on board A at 1 s each: unshared that is four /board a second; shared, at most two
        # (a kiosk wall takes no snapshot older than half a period).
        assert fetched <= elapsed * 2.0 + 2, (fetched, elapsed)
        assert fetched >= elapsed * 0.5, (fetched, elapsed)
    finally:
        close_chromium(chrome)
        for board in boards:
            stop_group(board)
        stop(daemon)
        proxy.shutdown()
        proxy.server_close()
