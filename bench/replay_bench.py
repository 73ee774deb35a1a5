"""Replay, report, export and import with 24 h × 50 metrics × 1 Hz stored (4.32 M samples).

Goals: board?at= p50 <= 50 ms; a replay frame at 60x (GET /frame + the wall's HTML) p50 <= 150 ms;
the report of the whole day <= 10 s; export and import from Parquet >= 1 M samples/s each; the round trip
(export the whole record, import it into a fresh file, report both) gives the same report, figure for figure.

    python -m bench.replay_bench [--hours 24] [--requests 100]
"""

from __future__ import annotations

import argparse
import io
import random
import re
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import requests

from app.alert_lines import next_steps, step_line
from app.figures import sparkline
from app.wall_html import step_html
from app.wall_view import WallPlan, build_wall
from bench.common import T0, metrics_config, night_table, summary
from warroom.archive.replay import archive_app, open_archive
from warroom.archive.report.make import make_report
from warroom.daemon.daemon import ApiServer, bind_socket
from warroom.record.campaign import begin
from warroom.store.database import Store
from warroom.store.intake import import_file
from warroom.store.transfer import export, import_record

METRICS = 50
CHANGE_EVERY_S = 300


def level_changes(metrics: int, seconds: int) -> pa.Table:
    """A transition per metric every five minutes, cycling green → yellow → orange → red, as the engine writes."""
    words = np.array(["green", "yellow", "orange", "red"], dtype=object)
    steps = np.arange(0, seconds, CHANGE_EVERY_S)
    base = int(T0.timestamp() * 1_000_000)
    ts = np.repeat(base + steps.astype(np.int64) * 1_000_000, metrics) + 400_000  # applied 0.4 s after the sample
    names = np.tile(np.array([f"m{i:02d}" for i in range(metrics)], dtype=object), len(steps))
    level = words[(np.repeat(np.arange(len(steps)), metrics) + np.tile(np.arange(metrics), len(steps))) % 4]
    role = np.where(level == "green", None, np.where(level == "yellow", "tech_lead",
                                                     np.where(level == "orange", "ops_lead", "general_manager")))
    n = len(ts)
    return pa.table({"ts": pa.array(ts).cast(pa.timestamp("us")), "metric": pa.array(names, pa.string()),
                     "level": pa.array(level, pa.string()), "stale": pa.array(np.zeros(n, bool)),
                     "owner_role": pa.array(role, pa.string()), "owner_name": pa.array(role, pa.string()),
                     "value": pa.array(np.full(n, 55.0)), "alert_id": pa.array([None] * n, pa.int64()),
                     "detail": pa.array([None] * n, pa.string())})


def build(folder: Path, hours: float) -> Path:
    """The day's file: samples, rollup, transitions, a campaign with its config snapshot."""
    seconds = int(hours * 3600)
    loaded = metrics_config(METRICS, T0 + timedelta(seconds=seconds))
    db = folder / "day.duckdb"
    store = Store(db)
    t = time.perf_counter()
    begin(store, loaded, T0)
    store.append_arrow(night_table(METRICS, seconds))
    store.reader().from_arrow(level_changes(METRICS, seconds)).insert_into("level_changes")
    store.roll_up(T0 + timedelta(seconds=seconds))
    store.close()
    print(f"stored {seconds * METRICS:,} samples and {seconds // CHANGE_EVERY_S * METRICS:,} transitions "
          f"in {time.perf_counter() - t:.1f}s")
    return db


def frame_html(answer: dict, loc: str = "en", series: dict[str, list] | None = None, tiles: int | None = None) -> int:
    """The wall of one frame as the replay page builds it (`build_wall`, sparklines from `series`); its size."""
    board = answer["board"]
    moment = datetime.fromisoformat(answer["at"])
    plan = WallPlan("", "", tuple(t["metric"] for t in board["tiles"][:tiles]), (), ())
    wall = build_wall(board, answer["alerts"], "ok", plan, loc, moment, compact=len(plan.metrics) > 12)
    size = sum(len(p) for p in (wall.styles, wall.header, wall.decision, wall.strip, wall.health, *wall.tiles))
    size += sum(len(step_html(step_line(s, loc, moment, "UTC"), loc)) for s in next_steps(answer["runsheet"], 4))
    by_metric = {t["metric"]: t for t in board["tiles"]}
    for metric, points in (series or {}).items():
        size += len(sparkline(points, by_metric[metric], moment, 180).to_json())
    return size


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24)
    ap.add_argument("--requests", type=int, default=100)
    args = ap.parse_args()
    seconds = int(args.hours * 3600)
    samples = seconds * METRICS
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = build(folder, args.hours)
        archive = open_archive(db)
        api = ApiServer(archive_app(archive), bind_socket("127.0.0.1", 0))
        api.start()
        base = f"http://127.0.0.1:{api.port}"
        session = requests.Session()
        rng = random.Random(7)
        times = []
        for _ in range(args.requests):
            at = T0 + timedelta(seconds=rng.uniform(600, seconds))
            t = time.perf_counter()
            session.get(f"{base}/api/v1/board", params={"at": at.isoformat()}, timeout=30).raise_for_status()
            times.append(time.perf_counter() - t)
        print(summary("GET /board?at= (random moments of the day)", times, "(goal p50 <= 50 ms)"))
        times, html = [], 0
        at = T0 + timedelta(hours=args.hours / 2)
        for _ in range(args.requests):
            at += timedelta(seconds=60)  # 60x: a minute of the night per one-second frame
            t = time.perf_counter()
            answer = session.get(f"{base}/api/v1/frame", params={"at": at.isoformat()}, timeout=30).json()
            html = frame_html(answer)
            times.append(time.perf_counter() - t)
        print(summary("replay frame at 60x (GET /frame + wall HTML)", times, "(goal p50 <= 150 ms)")
              + f"  {html / 1024:.0f} KiB HTML")
        # A wall of 12 full tiles: each frame also reads the 30 minutes before it for the sparklines.
        times, html = [], 0
        for _ in range(args.requests):
            at += timedelta(seconds=60)
            t = time.perf_counter()
            answer = session.get(f"{base}/api/v1/frame", params={"at": at.isoformat()}, timeout=30).json()
            wanted = [tile["metric"] for tile in answer["board"]["tiles"][:12]]
            series = session.get(f"{base}/api/v1/series", params=[
                ("from", (at - timedelta(minutes=30)).isoformat()), ("to", at.isoformat()), ("points", 150),
                *(("metric", m) for m in wanted)], timeout=30).json()["series"]
            html = frame_html(answer, series=series, tiles=12)
            times.append(time.perf_counter() - t)
        print(summary("replay frame, 12 tiles + sparklines (+ /series)", times, "(goal p50 <= 150 ms)")
              + f"  {html / 1024:.0f} KiB")
        t = time.perf_counter()
        session.get(f"{base}/api/v1/timeline", params={"from": T0.isoformat(), "levels": "false",
                                                       "to": (T0 + timedelta(seconds=seconds)).isoformat()},
                    timeout=60).raise_for_status()
        print(f"{'GET /timeline (whole day, bands; once per window)':<48} {(time.perf_counter() - t) * 1000:8.1f} ms")
        api.stop()
        archive.close()
        t = time.perf_counter()
        out = make_report(db, folder / "report.html", stderr=io.StringIO())
        took = time.perf_counter() - t
        print(f"{'report of the whole day':<48} {took:8.2f} s  {out.stat().st_size / 1e6:.1f} MB  (goal <= 10 s)")
        for fmt in ("parquet", "csv"):
            t = time.perf_counter()
            export(db, folder / fmt, fmt)
            took = time.perf_counter() - t
            print(f"{'export ' + fmt + ' (samples + record tables)':<48} {took:8.2f} s  "
                  f"{samples / took / 1e6:6.2f} M samples/s  (goal >= 1 M/s)")
        store = Store(folder / "samples-only.duckdb")
        t = time.perf_counter()
        n = import_file(store, folder / "parquet" / "samples.parquet").rows["samples"]
        took = time.perf_counter() - t
        store.close()
        print(f"{'import samples parquet (checked, all or nothing)':<48} {took:8.2f} s  {n / took / 1e6:6.2f} M "
              "samples/s  (goal >= 1 M/s)")
        round_trip(db, folder, samples)


def _figures(page: str) -> str:
    """A report without the moment it was written and its file's name: every figure it states."""
    return re.sub(r"(Generated|生成时间) [0-9-]+ [0-9:]+ · (Recorded in|数据文件) \S+", "", page)


def round_trip(db: Path, folder: Path, samples: int) -> None:
    """Export the whole record, import it into a fresh file, report both: the same figures, and how long it took."""
    t0 = time.perf_counter()
    export(db, folder / "whole", "parquet")
    t1 = time.perf_counter()
    store = Store(folder / "restored.duckdb")
    try:
        rows = import_record(store, folder / "whole").rows
    finally:
        store.close()
    t2 = time.perf_counter()
    restored = make_report(folder / "restored.duckdb", folder / "restored.html", stderr=io.StringIO())
    t3 = time.perf_counter()
    original = make_report(db, folder / "original.html", stderr=io.StringIO())
    same = _figures(original.read_text(encoding="utf-8")) == _figures(restored.read_text(encoding="utf-8"))
    print(f"{'round trip: export the whole record (parquet)':<48} {t1 - t0:8.2f} s  {samples / (t1 - t0) / 1e6:6.2f} "
          f"M samples/s  ({sum(rows.values()):,} rows in {len(rows)} tables)")
    print(f"{'round trip: import it into a fresh file (checked)':<48} {t2 - t1:8.2f} s  "
          f"{samples / (t2 - t1) / 1e6:6.2f} M samples/s")
    print(f"{'round trip: report of the restored file':<48} {t3 - t2:8.2f} s")
    print(f"{'round trip: export + import + report':<48} {t3 - t0:8.2f} s  figures equal: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
