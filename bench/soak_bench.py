"""Soak: the demo night looped for `--minutes` with `--walls` wall pages open in Chromium.

Sampled every `--every` seconds: daemon RSS, board RSS (`warroom board` + Streamlit), scheduler
tick lag, the wall's own tile refresh time (the `data-refresh-ms` the panel writes), and API
`/board` p50 over 10 calls. Prints the first and last sample and their ratio.
Goal: each flat within 10 %.

    python -m bench.soak_bench [--minutes 60] [--walls 10] [--every 30]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import requests

from bench.board_bench import board_rss
from demo.scenario import DEFAULT_NIGHT, load_scenario
from demo.server import DemoNight
from tests.app.board_kit import chromium, close_chromium, night_config, start_board, stop_group, wait_board
from tests.daemon_kit import api_base, start_collect, stop, wait_for, write_config
from tests.realparts import free_port

TOKEN = "soak-board-token-0123456789"


def sample(base: str, daemon: Any, board: Any, walls: list[Any]) -> dict[str, float]:
    """One row of figures."""
    took = []
    for _ in range(10):
        t0 = time.perf_counter()
        requests.get(f"{base}/api/v1/board", timeout=5)
        took.append(time.perf_counter() - t0)
    health = requests.get(f"{base}/api/v1/health", timeout=5).json()
    refresh = [w.execute_script("const e = document.querySelector('[data-refresh-ms]');"
                                "return e ? parseFloat(e.dataset.refreshMs) : null;") for w in walls]
    refresh = [r for r in refresh if r]
    return {"daemon_rss_mb": psutil.Process(daemon.pid).memory_info().rss / 1e6,
            "board_rss_mb": board_rss(board) / 1e6 if board else 0.0,
            "tick_lag_ms": (health.get("tick_lag_s") or 0.0) * 1000,
            "refresh_ms": statistics.median(refresh) if refresh else 0.0,
            "api_board_p50_ms": statistics.median(took) * 1000}


def run(args: argparse.Namespace) -> list[dict[str, float]]:
    """Start everything, sample until the time is up, stop everything."""
    demo = DemoNight(load_scenario(DEFAULT_NIGHT), "127.0.0.1", 0, speed=9.0, loop=True).start()
    rows: list[dict[str, float]] = []
    walls: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="warroom-soak-") as tmp:
        tmpdir = Path(tmp)
        raw = night_config(demo.url, tmpdir / "soak.duckdb")
        config = write_config(raw, tmpdir / "config.yaml")
        env = {"WARROOM_TOKEN": TOKEN}
        daemon = start_collect(config, tmpdir / "collect.log", env)
        board = None
        try:
            base = api_base(raw)
            wait_for(lambda: requests.get(f"{base}/api/v1/health", timeout=2).ok, 60, "the daemon", daemon,
                     tmpdir / "collect.log")
            if args.walls:
                port = free_port()
                board = start_board(config, base, port, tmpdir / "board.log", env)
                wait_board(port, board, tmpdir / "board.log")
                for _ in range(args.walls):
                    wall = chromium()
                    wall.get(f"http://127.0.0.1:{port}/?kiosk=1")
                    walls.append(wall)
            time.sleep(10)
            deadline = time.monotonic() + args.minutes * 60
            while True:
                rows.append(sample(base, daemon, board, walls))
                print("  ".join(f"{k} {v:8.1f}" for k, v in rows[-1].items()), flush=True)
                if time.monotonic() >= deadline:
                    break
                time.sleep(min(args.every, max(0.0, deadline - time.monotonic())))
        finally:
            for wall in walls:
                close_chromium(wall)
            if board is not None:
                stop_group(board)
            stop(daemon)
            demo.shutdown()
    return rows


def main() -> None:
    """Print start, end and their ratio for every figure."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--walls", type=int, default=10, help="wall pages open in Chromium (0: none)")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    args = parser.parse_args()
    rows = run(args)
    first, last = rows[0], rows[-1]
    print(f"\nsoak of {args.minutes:g} min with {args.walls} walls: start → end (goal: flat within 10 %)")
    for key in first:
        ratio = f"{(last[key] / first[key] - 1) * 100:+.1f} %" if first[key] else "n/a"
        print(f"  {key:<18} {first[key]:9.1f} → {last[key]:9.1f}   {ratio}")


if __name__ == "__main__":
    main()
