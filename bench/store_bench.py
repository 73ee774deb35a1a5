"""Store: per-tick commit of 50 samples (goal p99 <= 5 ms) and bulk load rate (goal >= 500k samples/s).

    python -m bench.store_bench [--ticks 2000] [--bulk 5000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.common import T0, night_table, summary
from warroom.store.database import Store
from warroom.values import Sample


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--ticks", type=int, default=2000)
    ap.add_argument("--bulk", type=int, default=5_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        # A realistic file under the ticks: one hour of 50 metrics already stored.
        store.append_arrow(night_table(50, 3600))
        times = []
        for tick in range(args.ticks):
            ts = T0 + timedelta(hours=1, seconds=tick)
            batch = [Sample(ts, f"m{i:02d}", 50.0 + i) for i in range(50)]
            t0 = time.perf_counter()
            store.append(batch)
            times.append(time.perf_counter() - t0)
        print(summary("commit of one 50-sample tick", times, "(goal p99 <= 5 ms)"))
        store.close()

        store = Store(Path(tmp) / "bulk.duckdb")
        seconds = args.bulk // 50
        table = night_table(50, seconds)
        rates = []
        for _ in range(3):
            store.execute("DELETE FROM samples")
            t0 = time.perf_counter()
            store.append_arrow(table)
            rates.append(table.num_rows / (time.perf_counter() - t0))
        print(f"{'bulk load (Arrow, 50 metrics, time order)':<48} rows={table.num_rows:,}  "
              f"median={statistics.median(rates):,.0f} samples/s  min={min(rates):,.0f}  (goal >= 500,000/s)")
        store.close()


if __name__ == "__main__":
    main()
