"""The faults a campaign night brings, measured: each part is a function returning its figures; one line each.

- disk full: breach → page with the database on a small tmpfs, first with space, then filled to the
  last byte (goal: the same delay as with space, every breach paged, every held row written once space
  returns). Needs root to mount the tmpfs; otherwise the part says it was not measured.
- clock step: orange alerts (ack timeout 5 min) and one yellow (3 s) opened, then the wall clock stepped
  −10 min and +20 min, with the daemon's SteadyClock (goal: all visible in /api/v1/alerts?state=active
  after each step; the yellow one escalates after its own 3 s across the step back, and no orange one
  escalates early after the step forward).
- channels: a healthy channel's page delay with 0, 1, 8 and 32 hanging chat providers, and duplicates
  (goal: within 100 ms of none at p50 and p95; 0 duplicates): bench/faults_channels.py.

    python -m bench.faults_bench [--breaches 20] [--alerts 12] [--part disk|clock|channels]
                                 [--trials 30] [--hanging 0,1,8,32] [--timeout 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench.faults_channels import channels
from tests.harness.full_disk import NoSmallFilesystem, fill, free_bytes, small_filesystem
from tests.harness.receiver import Receiver
from tests.harness.rig import TOKEN, pushed_config
from warroom.clock import SteadyClock
from warroom.config.load import parse_config
from warroom.daemon.daemon import Daemon

AUTH = {"Authorization": f"Bearer {TOKEN}"}
STEP = timedelta(minutes=10)


def _wait(what: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := what()):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)
    return found


def _config(db: Path, phones: Receiver, metrics: int, orange_ack: str = "1h", **yellow: Any) -> dict[str, Any]:
    raw = pushed_config(db, {r: [phones.url(r)] for r in ("tech_lead", "ops_lead", "general_manager")},
                        group_window="0s")
    raw["metrics"] = {f"m{i:02d}": {"title": f"Metric {i}", "yellow": 10, "orange": 20, "red": 50, "pushed": True,
                                    "stale_after": "1h"} for i in range(metrics)}
    raw["levels"]["yellow"].update(yellow)
    raw["levels"]["orange"]["ack_timeout"] = orange_ack
    raw["levels"]["red"]["ack_timeout"] = "1h"
    return raw


def _breaches(base: str, phones: Receiver, metrics: list[str]) -> tuple[list[float], int]:
    """Push each metric red in turn; seconds from sending the push to the general manager's page, and misses."""
    delays, missed = [], 0
    session = requests.Session()
    for metric in metrics:
        before = len(phones.to("general_manager"))
        sent = time.time()  # the page may arrive before the push's own answer does
        reply = session.post(f"{base}/api/v1/push", json={"samples": [{"metric": metric, "value": 90.0}]},
                             headers=AUTH, timeout=10)
        got = _wait(lambda b=before: [m for m in phones.snapshot() if m.path == "general_manager"][b:])
        if reply.status_code != 202 or not got:
            missed += 1
            continue
        delays.append(got[0].t - sent)
    return delays, missed


def disk_full(breaches: int = 20) -> dict[str, Any]:
    """Breach → page with space and with the database's filesystem full; held rows written when space returns."""
    with tempfile.TemporaryDirectory(prefix="warroom-faults-") as tmp:
        try:
            with small_filesystem(Path(tmp) / "disk", size_mb=48) as disk:
                phones = Receiver()
                daemon = Daemon(parse_config(_config(disk / "night.duckdb", phones, 2 * breaches), env={}))
                daemon.start()
                base = f"http://127.0.0.1:{daemon.api.port}"
                try:
                    names = [f"m{i:02d}" for i in range(2 * breaches)]
                    with_space, missed_space = _breaches(base, phones, names[:breaches])
                    filler = fill(disk)
                    _wait(lambda: _refused(base))
                    full, missed_full = _breaches(base, phones, names[breaches:])
                    record = requests.get(f"{base}/api/v1/health", timeout=5).json()["record"]
                    disk_pages = len(phones.to("tech_lead"))
                    filler.unlink()
                    drained = _wait(lambda: requests.get(f"{base}/api/v1/health", timeout=5).json()["record"]
                                    ["complete"], timeout=60)
                    after = requests.get(f"{base}/api/v1/health", timeout=5).json()["record"]
                finally:
                    daemon.stop()
                    phones.stop()
                held_free = free_bytes(disk)
        except NoSmallFilesystem as err:
            return {"error": str(err)}
    return {"with_space": with_space, "full": full, "missed_space": missed_space, "missed_full": missed_full,
            "held": record["held"], "message": record["message"], "disk_pages": disk_pages,
            "drained": bool(drained), "written_late": after["written_late"], "refused_rows": after["refused_rows"],
            "free_after": held_free}


def _refused(base: str) -> bool:
    requests.post(f"{base}/api/v1/push", json={"samples": [{"metric": "m00", "value": 1.0}]}, headers=AUTH,
                  timeout=5)
    return not requests.get(f"{base}/api/v1/health", timeout=5).json()["record"]["complete"]


class _SteppingWall:
    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def clock_step(alerts: int = 12, ack_timeout_s: float = 3.0) -> dict[str, Any]:
    """Alerts opened, the wall clock stepped back 10 min, then forward 20: how many stay visible, when they escalate."""
    with tempfile.TemporaryDirectory(prefix="warroom-faults-") as tmp:
        phones, wall = Receiver(), _SteppingWall()
        raw = _config(Path(tmp) / "night.duckdb", phones, alerts + 1, orange_ack="5m",
                      ack_timeout=f"{ack_timeout_s:g}s")
        daemon = Daemon(parse_config(raw, env={}), clock=SteadyClock(wall))
        daemon.start()
        base = f"http://127.0.0.1:{daemon.api.port}"
        try:
            for i in range(alerts):
                requests.post(f"{base}/api/v1/push", json={"samples": [{"metric": f"m{i:02d}", "value": 25.0}]},
                              headers=AUTH, timeout=5)

            def visible() -> int:
                listed = requests.get(f"{base}/api/v1/alerts", params={"state": "active"}, timeout=5).json()
                return len([a for a in listed["alerts"] if a["kind"] == "level"])

            _wait(lambda: visible() == alerts)
            # a fresh alert whose ack timeout runs across the step back
            requests.post(f"{base}/api/v1/push", json={"samples": [{"metric": f"m{alerts:02d}", "value": 15.0}]},
                          headers=AUTH, timeout=5)
            opened = time.monotonic()
            wall.offset -= STEP
            after_back = visible()
            got = _wait(lambda: [m for m in phones.to("ops_lead") if f"Metric {alerts}" in m.get("title", "")],
                        timeout=ack_timeout_s + 60)
            escalated_after = time.monotonic() - opened if got else None
            wall.offset += 2 * STEP
            daemon.engine.tick(daemon.clock())
            after_forward = visible()
            early = sum(1 for a in daemon.engine.open.values() if a.escalated_to and a.metric != f"m{alerts:02d}")
            steps = requests.get(f"{base}/api/v1/health", timeout=5).json()["clock"]["steps"]
        finally:
            daemon.stop()
            phones.stop()
    return {"opened": alerts + 1, "after_back": after_back, "after_forward": after_forward,
            "escalated_after_s": escalated_after, "ack_timeout_s": ack_timeout_s, "early": early,
            "steps": [s["seconds"] for s in steps]}


def _ms(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


def disk_line(r: dict[str, Any]) -> str:
    """One line for the disk-full part."""
    if "error" in r:
        return f"disk full: not measured ({r['error']})"
    ratio = statistics.median(r["full"]) / statistics.median(r["with_space"]) if r["full"] and r["with_space"] else 0
    return (f"breach → page, database filesystem full: {_ms(r['full'])} (paged {len(r['full'])}/"
            f"{len(r['full']) + r['missed_full']}) vs with space {_ms(r['with_space'])} (paged {len(r['with_space'])}/"
            f"{len(r['with_space']) + r['missed_space']}); median ratio {ratio:.2f} (goal: the same); held "
            f"{r['held']}, written late {r['written_late']} once space returned (complete again: {r['drained']}, "
            f"refused rows {r['refused_rows']}); disk-full pages to the no-data owner: {r['disk_pages']}")


def clock_line(r: dict[str, Any]) -> str:
    """One line for the clock-step part."""
    escalated = f"{r['escalated_after_s']:.2f} s" if r["escalated_after_s"] is not None else "never (within 60 s)"
    return (f"alerts visible after the wall clock stepped −10 min: {r['after_back']}/{r['opened']}, after +10 min: "
            f"{r['after_forward']}/{r['opened']} (goal: all); escalation of an alert across the step back after "
            f"{escalated} (ack timeout {r['ack_timeout_s']:g} s); escalated early by the step forward: {r['early']}; "
            f"steps logged: {r['steps']}")


def main() -> int:
    """Run the parts and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--breaches", type=int, default=20)
    parser.add_argument("--alerts", type=int, default=12)
    parser.add_argument("--part", choices=["disk", "clock", "channels"], action="append")
    parser.add_argument("--trials", type=int, default=30, help="channels: breaches per run")
    parser.add_argument("--hanging", default="0,1,8,32", help="channels: hanging channel counts")
    parser.add_argument("--timeout", type=float, default=5.0, help="channels: delivery_timeout in seconds")
    parser.add_argument("--seed", type=int, default=1, help="channels: the pauses between breaches")
    args = parser.parse_args()
    # The daemons run in this process: they take pushes only with a token (as any daemon does).
    os.environ.update(WARROOM_TOKEN=TOKEN)
    parts = args.part or ["disk", "clock", "channels"]
    if "disk" in parts:
        print(disk_line(disk_full(args.breaches)), flush=True)
    if "clock" in parts:
        print(clock_line(clock_step(args.alerts)), flush=True)
    if "channels" in parts:
        # every page to a hanging channel is a warning line; the figures are the output here
        logging.getLogger("warroom").setLevel(logging.ERROR)
        print(channels(args.trials, args.hanging, args.timeout, args.seed), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
