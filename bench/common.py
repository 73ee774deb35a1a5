"""Helpers shared by the benchmarks: percentiles, a synthetic night, a config of N metrics."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from warroom.config.load import LoadedConfig, parse_config

T0 = datetime(2024, 11, 10, 15, 0, tzinfo=UTC)


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`."""
    return float(np.percentile(np.asarray(values), q))


def summary(name: str, seconds: list[float], goal: str = "") -> str:
    """One printed line: median, p95, p99 in milliseconds."""
    ms = [s * 1000 for s in seconds]
    line = (f"{name:<48} n={len(ms):>5}  p50={statistics.median(ms):8.2f} ms  p95={pct(ms, 95):8.2f} ms  "
            f"p99={pct(ms, 99):8.2f} ms")
    return f"{line}  {goal}" if goal else line


def night_table(metrics: int, seconds: int, start: datetime = T0) -> pa.Table:
    """`seconds` × `metrics` samples at 1 Hz in time order, as an Arrow table."""
    base = int(start.timestamp() * 1_000_000)
    ts = np.repeat(base + np.arange(seconds, dtype=np.int64) * 1_000_000, metrics)
    names = np.tile(np.array([f"m{i:02d}" for i in range(metrics)], dtype=object), seconds)
    rng = np.random.default_rng(7)
    values = 50 + 10 * rng.standard_normal(metrics * seconds)
    return pa.table({"ts": pa.array(ts).cast(pa.timestamp("us")), "metric": pa.array(names, pa.string()),
                     "value": pa.array(values)})


def metrics_config(metrics: int, end: datetime) -> LoadedConfig:
    """A valid config with `metrics` pushed tiles and no collectors."""
    raw = {
        "campaign": {"name": "bench", "end": end.isoformat()},
        "people": {"tech_lead": {"name": "T"}, "ops_lead": {"name": "O"}, "general_manager": {"name": "G"}},
        "collectors": [],
        "metrics": {f"m{i:02d}": {"title": f"Metric {i}", "yellow": 60, "orange": 70, "red": 80, "pushed": True}
                    for i in range(metrics)},
    }
    return parse_config(raw, "bench", env={})


def span(hours: float) -> timedelta:
    """A timedelta of `hours`."""
    return timedelta(hours=hours)
