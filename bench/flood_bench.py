"""The read path under six posters of 33 MB bodies: GET /board latency quiet and flooded, and the RSS it costs.

tests/reliability/test_hostile_api.py checks that every read is answered and memory stays flat while the
posters run; how fast the answers come is this figure. Goals (the bounds the test used to assert):
flooded p50 <= 250 ms, max <= 1.5 s; RSS growth < 120 MB.

    python -m bench.flood_bench [--requests 200] [--posters 6]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

import psutil
import requests

from bench.common import summary
from tests.harness.flood import BODY_MB, Flood
from tests.harness.rig import ACK_SECRET, TOKEN, push, pushed_config, running_daemon


def timed_reads(session: requests.Session, base: str, n: int) -> tuple[list[float], int]:
    """`n` GET /board, 50 ms apart: their durations, and the highest RSS of this process meanwhile."""
    me, took, rss = psutil.Process(), [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        session.get(f"{base}/api/v1/board", timeout=60).raise_for_status()
        took.append(time.perf_counter() - t0)
        rss = max(rss, me.memory_info().rss)
        time.sleep(0.05)
    return took, rss


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--posters", type=int, default=6)
    args = ap.parse_args()
    os.environ.update(WARROOM_TOKEN=TOKEN, WARROOM_ACK_SECRET=ACK_SECRET)
    logging.getLogger("warroom.api").setLevel(logging.ERROR)  # one "refused" line per poster's round otherwise
    with tempfile.TemporaryDirectory(prefix="warroom-flood-") as tmp:
        with running_daemon(pushed_config(Path(tmp) / "flood.duckdb", {})) as (daemon, base):
            push(base, [{"metric": "failures", "value": 60}]).raise_for_status()
            session = requests.Session()
            start_rss = psutil.Process().memory_info().rss
            quiet, _ = timed_reads(session, base, args.requests)
            with Flood(daemon.api.port, TOKEN, posters=args.posters) as flood:
                flooded, flooded_rss = timed_reads(session, base, args.requests)
                sent, running = flood.sent, flood.running()
    print(summary("GET /board, quiet", quiet))
    print(summary(f"GET /board under {args.posters} posters of {BODY_MB} MB", flooded,
                  "(goal p50 <= 250 ms, max <= 1500 ms)") + f"  max={max(flooded) * 1000:8.2f} ms")
    print(f"posters still running at the end: {running}/{args.posters}; {sent / 1e6:.0f} MB of bodies sent")
    print(f"RSS growth of the daemon's process while flooded: {(flooded_rss - start_rss) / 1e6:.0f} MB "
          "(goal < 120 MB)")
    print(f"flooded / quiet p50: {sorted(flooded)[len(flooded) // 2] / sorted(quiet)[len(quiet) // 2]:.1f}x")


if __name__ == "__main__":
    main()
