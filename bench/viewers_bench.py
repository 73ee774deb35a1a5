"""Many viewers on one board: 1, 10 and 30 kiosk walls open in real Chromium on the demo night.

For each count, over a window (45 s by default): CPU (share of one core) and RSS of the board process
(`warroom board` and its Streamlit child) and of the daemon; the server time of a tile refresh (each
wall's `data-refresh-ms`); sample -> wall latency on the first wall (a value pushed to the daemon,
timed until that wall's DOM shows it); `GET /api/v1/board` p50/p95 timed by the benchmark while the
walls run; and how many walls kept refreshing each second (their header clock ticking).

Goals (issue 12): 10 walls <= 30 % of a core for the board; 30 walls all refreshing each second with
sample -> wall p95 <= 2 s on the first wall; memory flat per viewer count.

    python -m bench.viewers_bench [--walls 1,10,30] [--seconds 45] [--board-root /work/main]

`--board-root` runs the board from another checkout (the code before the shared snapshot) against the
same daemon, config and Chromium, for a before/after comparison. All walls are tabs of one headless
Chromium, as a real wall PC would hold them; Chromium shares the machine's cores with the board, so
figures on a small machine are an upper bound of the board's cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import requests

from bench.common import pct
from tests.app.board_kit import chromium, close_chromium, night_config, start_board, stop_group, wait_board, wait_dom
from tests.daemon_kit import ROOT, api_base, start_collect, start_demo, stop, wait_for, write_config
from tests.realparts import free_port

TOKEN = "bench-viewers-token-0123456789"
PROBE = "bench_probe"

WAIT_PROBE_JS = """
const [want, done] = arguments;
const started = Date.now();
const tick = () => {
  const el = document.querySelector('[data-metric="bench_probe"] .wr-value');
  if (el && el.firstChild && el.firstChild.textContent === want) { done(Date.now()); return; }
  if (Date.now() - started > 15000) { done(null); return; }
  setTimeout(tick, 10);
};
tick();
"""
# Installed in every wall at the start of a window: records each distinct header clock text (one per
# refresh that reached the browser) and each tile refresh's server time, whatever the tab's timers do.
WATCH_JS = """
window.__wr = {ticks: new Set(), refresh: []};
const seen = () => {
  const c = document.querySelector('.wr-clock'), r = document.querySelector('[data-refresh-ms]');
  if (c) window.__wr.ticks.add(c.textContent);
  if (r && r.dataset.refreshMs !== window.__wr.last) { window.__wr.last = r.dataset.refreshMs;
                                                       window.__wr.refresh.push(parseFloat(r.dataset.refreshMs)); }
};
if (window.__wrObserver) window.__wrObserver.disconnect();
window.__wrObserver = new MutationObserver(seen);
window.__wrObserver.observe(document.body, {subtree: true, childList: true, characterData: true});
"""
READ_JS = "return window.__wr ? [window.__wr.ticks.size, window.__wr.refresh] : [0, []];"


class Usage:
    """CPU seconds and RSS of a process tree, sampled from outside."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)

    def procs(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_s(self) -> float:
        """User + system CPU seconds of the tree so far."""
        total = 0.0
        for p in self.procs():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss(self) -> int:
        """Resident bytes of the tree."""
        total = 0
        for p in self.procs():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total


def bench_night(demo_url: str, db: Path) -> dict[str, Any]:
    """The demo night's config, one wall with every metric, plus a pushed probe metric for the latency."""
    raw = night_config(demo_url, db)
    raw.pop("walls", None)  # the same wall for the code before `walls:` existed
    raw["metrics"][PROBE] = {"title": "探针 / probe", "unit": "", "yellow": 1e9, "pushed": True, "decimals": 1}
    return raw


def board_from(root: Path, config: Path, api: str, port: int, log: Path,
               env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`warroom board` from another checkout: its own directory first on the path (`python -m` puts the cwd there)."""
    argv = [sys.executable, "-m", "warroom.cli", "board", "-c", str(config), "--api", api, "--port", str(port)]
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=root,
                                env={**os.environ, **env, "PYTHONPATH": str(root)}, start_new_session=True)


def board_times(base: str, stop_at: float, out: list[float]) -> None:
    """GET /api/v1/board every 0.5 s until `stop_at`, timing each answer."""
    session = requests.Session()
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        try:
            session.get(f"{base}/api/v1/board", timeout=5).raise_for_status()
            out.append((time.perf_counter() - started) * 1000)
        except requests.RequestException:
            pass
        time.sleep(0.5)


def open_walls(chrome: Any, url: str, count: int, handles: list[str]) -> None:
    """Open kiosk walls, each in its own window (a hidden tab would be throttled), until there are `count`."""
    while len(handles) < count:
        if handles:
            chrome.switch_to.new_window("window")
        chrome.get(url)
        handles.append(chrome.current_window_handle)
    for handle in handles:
        chrome.switch_to.window(handle)
        wait_dom(chrome, "document.querySelectorAll('[data-metric]').length > 0", 120, "a wall's tiles")


def latency(chrome: Any, base: str, first: str, changes: int) -> list[float]:
    """Push a new probe value with the current time; seconds until the first wall shows it."""
    chrome.switch_to.window(first)
    out = []
    for k in range(changes):
        value = round(100.0 + k + (time.time() % 1), 1)
        sampled = time.time()
        requests.post(f"{base}/api/v1/push", json={"samples": [{"metric": PROBE, "value": value}]},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).raise_for_status()
        shown = chrome.execute_async_script(WAIT_PROBE_JS, f"{value:.1f}")
        out.append((shown / 1000 - sampled) if shown else 15.0)
        time.sleep(0.4 + (k % 5) * 0.17)  # spread the pushes over the refresh phase
    return out


def measure(chrome: Any, handles: list[str], board: Usage, daemon: Usage, base: str, seconds: float,
            changes: int) -> dict[str, Any]:
    """One window with len(handles) walls open."""
    stop_at = time.monotonic() + seconds
    timings: list[float] = []
    poller = threading.Thread(target=board_times, args=(base, stop_at, timings), daemon=True)
    browser = Usage(chrome.service.process.pid)  # chromedriver and the Chromium it started
    cpu0 = (board.cpu_s(), daemon.cpu_s(), time.monotonic(), browser.cpu_s())
    poller.start()
    for handle in handles:
        chrome.switch_to.window(handle)
        chrome.execute_script(WATCH_JS)
    rss_b, rss_d = [board.rss()], [daemon.rss()]
    lat = latency(chrome, base, handles[0], changes)
    # The window is at least `seconds`; on a busy machine the latency runs alone may take longer.
    while time.monotonic() < stop_at:
        rss_b.append(board.rss())
        rss_d.append(daemon.rss())
        time.sleep(1.0)
    live, refresh = [], []
    for handle in handles:
        chrome.switch_to.window(handle)
        ticks, ms = chrome.execute_script(READ_JS)
        live.append(ticks)
        refresh += [m for m in ms if m]
    elapsed = time.monotonic() - cpu0[2]
    poller.join(10)
    cpu_b, cpu_d = (board.cpu_s() - cpu0[0]) / elapsed, (daemon.cpu_s() - cpu0[1]) / elapsed
    cpu_c = (browser.cpu_s() - cpu0[3]) / elapsed
    return {"walls": len(handles), "board_cpu": cpu_b, "daemon_cpu": cpu_d, "browser_cpu": cpu_c,
            "board_rss": statistics.median(rss_b),
            "daemon_rss": statistics.median(rss_d), "refresh": refresh, "latency": lat, "board_ms": timings,
            "ticks": live, "elapsed": elapsed}


def report(rows: list[dict[str, Any]], root: str) -> None:
    """Print one line per wall count."""
    print(f"viewers bench: demo night, board from {root}, 1 s tile refresh, {os.cpu_count()} cores; "
          "quote medians, the machine is shared")
    print(f"{'walls':>5} {'board CPU':>10} {'board RSS':>10} {'daemon CPU':>10} {'daemon RSS':>10} "
          f"{'refresh p50/p95 ms':>19} {'sample->wall p50/p95/max s':>27} {'/board p50/p95 ms':>18} "
          f"{'clock ticks per wall min/med (of s)':>36} {'Chromium CPU':>12}")
    for r in rows:
        ref = r["refresh"] or [float("nan")]
        print(f"{r['walls']:>5} {r['board_cpu'] * 100:>9.0f}% {r['board_rss'] / 2**20:>8.0f}MB "
              f"{r['daemon_cpu'] * 100:>9.0f}% {r['daemon_rss'] / 2**20:>8.0f}MB "
              f"{statistics.median(ref):>9.1f} / {pct(ref, 95):>6.1f} "
              f"{statistics.median(r['latency']):>10.2f} / {pct(r['latency'], 95):>5.2f} / {max(r['latency']):>5.2f} "
              f"{statistics.median(r['board_ms']):>9.1f} / {pct(r['board_ms'], 95):>5.1f} "
              f"{min(r['ticks']):>18} / {statistics.median(r['ticks']):>4.0f} (of {r['elapsed']:.0f}) "
              f"{r['browser_cpu'] * 100:>11.0f}%")


def run(args: argparse.Namespace) -> None:
    """Start the night, the daemon, the board and Chromium; measure each wall count in turn."""
    counts = [int(c) for c in args.walls.split(",")]
    chrome = chromium()
    demo = start_demo("23:05:00", speed=2.0)  # slow enough that the night lasts the whole benchmark
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        raw = bench_night(demo.url, tmpdir / "night.duckdb")
        config = write_config(raw, tmpdir / "config.yaml")
        env = {"WARROOM_TOKEN": TOKEN}
        daemon = start_collect(config, tmpdir / "collect.log", env)
        port = free_port()
        board = start_board(config, api_base(raw), port, tmpdir / "board.log", env) if not args.board_root else \
            board_from(Path(args.board_root), config, api_base(raw), port, tmpdir / "board.log", env)
        base = api_base(raw)
        try:
            wait_for(lambda: requests.get(f"{base}/api/v1/health", timeout=2).ok, 40, "the daemon", daemon,
                     tmpdir / "collect.log")
            requests.post(f"{base}/api/v1/push", json={"samples": [{"metric": PROBE, "value": 1.0}]},
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).raise_for_status()
            wait_board(port, board, tmpdir / "board.log")
            handles: list[str] = []
            for count in counts:
                open_walls(chrome, f"http://127.0.0.1:{port}/?kiosk=1", count, handles)
                time.sleep(5)  # let the new tabs settle into their refresh rhythm
                rows.append(measure(chrome, handles, Usage(board.pid), Usage(daemon.pid), base, args.seconds,
                                    args.changes))
                report(rows[-1:], args.board_root or str(ROOT))
        finally:
            close_chromium(chrome)
            stop_group(board)
            stop(daemon)
            demo.shutdown()
    print()
    report(rows, args.board_root or str(ROOT))


def main() -> None:
    """Parse options and run."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--walls", default="1,10,30", help="comma-separated wall counts, measured in this order")
    ap.add_argument("--seconds", type=float, default=45.0, help="measurement window per count")
    ap.add_argument("--changes", type=int, default=15, help="probe values timed from push to the first wall")
    ap.add_argument("--board-root", help="run the board from this checkout (e.g. the code before this change)")
    run(ap.parse_args())


if __name__ == "__main__":
    main()
