"""API under load: /board and /series with 24 h × 50 metrics × 1 Hz stored while ingest runs.

The live board is served as the daemon serves it: from the alert engine's snapshot, fed every sample
before the writer queue. The board without an engine (recomputed from the record, what an API built
without the engine would do) is measured too, and labelled as that fallback.

Goals: live board p50 <= 20 ms; a 24 h all-metric overview p50 <= 60 ms.

    python -m bench.api_bench [--hours 24] [--requests 200]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import requests

from alerts.engine import AlertEngine
from bench.common import T0, metrics_config, night_table, summary
from warroom.api.app import create_app
from warroom.api.read_model import BoardReader
from warroom.daemon.daemon import ApiServer, bind_socket
from warroom.store.database import Store
from warroom.store.writer import LatestValues, Writer
from warroom.values import CampaignWindow, PollResult, Sample

METRICS = 50


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24)
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    seconds = int(args.hours * 3600)
    end = T0 + timedelta(seconds=seconds)
    loaded = metrics_config(METRICS, end)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "night.duckdb")
        t0 = time.perf_counter()
        store.append_arrow(night_table(METRICS, seconds))
        store.roll_up(end)  # what the daemon's writer does minute by minute during the night
        print(f"stored {seconds * METRICS:,} samples in {time.perf_counter() - t0:.1f}s")
        now = [end]
        latest = LatestValues()
        writer = Writer(store, latest, tick=0.25)
        writer.start()
        # As in the daemon: the engine sees every sample first, and the live board reads its snapshot.
        engine = AlertEngine(loaded, store, lambda: now[0])
        engine.start(latest.snapshot()[0])
        stop = threading.Event()

        def deliver(result: PollResult) -> None:
            engine.observe(result)  # as Daemon.deliver: the engine first, then the writer queue
            writer.put(result)

        def ingest() -> None:
            # The daemon's own load while the board is read: 50 samples a second, one commit a tick.
            while not stop.wait(1.0):
                now[0] += timedelta(seconds=1)
                deliver(PollResult([Sample(now[0], f"m{i:02d}", 55.0) for i in range(METRICS)], None))

        feeder = threading.Thread(target=ingest, daemon=True)
        feeder.start()
        window = CampaignWindow("bench", None, end + timedelta(hours=1))
        live = BoardReader(loaded.config, store, window, latest, engine.views, engine.phone_of)
        fallback = BoardReader(loaded.config, store, window, latest)  # no engine: every /board is recomputed
        apps = (create_app(live, lambda: now[0], engine=engine, deliver=deliver), create_app(fallback, lambda: now[0]))
        apis = [ApiServer(app, bind_socket("127.0.0.1", 0)) for app in apps]
        for api in apis:
            api.start()
        live_base, fallback_base = (f"http://127.0.0.1:{api.port}" for api in apis)
        session = requests.Session()
        time.sleep(1.5)

        def timed(base: str, path: str, params: dict[str, object]) -> tuple[list[float], requests.Response]:
            times = []
            for _ in range(args.requests):
                t = time.perf_counter()
                r = session.get(base + path, params=params, timeout=30)
                times.append(time.perf_counter() - t)
                r.raise_for_status()
            return times, r

        cases = [
            ("GET /board (live, engine snapshot)", live_base, "/api/v1/board", {}, True, "(goal p50 <= 20 ms)"),
            ("GET /board (no engine: recomputed fallback)", fallback_base, "/api/v1/board", {}, False, ""),
            ("GET /board?at= (replay, 12 h ago)", live_base, "/api/v1/board",
             {"at": (end - timedelta(hours=12)).isoformat()}, False, ""),
            ("GET /series 1 metric, 2 h, 600 pts", live_base, "/api/v1/series",
             {"metric": "m07", "from": "-2h", "points": 600}, None, ""),
            ("GET /series 50 metrics, 24 h, 300 pts (overview)", live_base, "/api/v1/series",
             {"from": "-24h", "points": 300}, None, "(goal p50 <= 60 ms)"),
        ]
        for name, base, path, params, from_engine, goal in cases:
            times, last = timed(base, path, params)
            if from_engine is not None and last.json()["live"] is not from_engine:
                raise SystemExit(f"{name}: the board answered live={last.json()['live']}, not the path named")
            print(summary(name, times, goal) + f"  {len(last.content) / 1024:.0f} KiB")
        stop.set()
        for api in apis:
            api.stop()
        engine.stop()
        writer.stop()
        print(f"ingest during the run: {writer.commits} commits, {writer.committed_samples} samples")
        store.close()


if __name__ == "__main__":
    main()
