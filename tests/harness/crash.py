"""SIGKILL the daemon at random moments while it ingests and pages; check what survived each kill.

Shared by tests/reliability/test_crash.py (a few trials in `make test`) and bench/crash_bench.py.
A feeder pushes a numbered sample stream (`seq`), a metric swinging green↔red (new alerts and pages
all the time), one steady yellow metric (acknowledged once) and one steady orange metric (escalated
after 1 s). Receivers: fast, slow (1.5 s) and failing (HTTP 500).
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.daemon_kit import write_config
from tests.harness.receiver import Receiver
from tests.harness.rig import ACK_SECRET, TOKEN, pushed_config

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class CrashReport:
    """What the trials measured; `problems` is empty when every check held."""

    trials: int = 0
    restart_s: list[float] = field(default_factory=list)
    committed_checked: int = 0
    lost_samples: list[int] = field(default_factory=list)
    alerts_not_restored: list[str] = field(default_factory=list)
    duplicate_pages: list[str] = field(default_factory=list)
    pages_without_outcome: list[str] = field(default_factory=list)
    pages_received: int = 0
    pushes: int = 0

    def problems(self) -> list[str]:
        """Every failed check of samples and alert state, one line each (paging: `pager_problems`)."""
        out = []
        if self.lost_samples:
            out.append(f"{len(self.lost_samples)} committed samples lost, e.g. seq {self.lost_samples[:5]}")
        out += [f"alert not restored: {a}" for a in self.alerts_not_restored]
        return out

    def pager_problems(self) -> list[str]:
        """Pages delivered twice, or neither delivered nor given up after the restarts (issue 9 items 3/4)."""
        return ([f"delivered twice: {p}" for p in self.duplicate_pages]
                + [f"never delivered nor given up: {p}" for p in self.pages_without_outcome])

    def lines(self) -> list[str]:
        """The figures, for the bench and for a failing test's message."""
        r = sorted(self.restart_s)
        return [f"trials (SIGKILLs)            {self.trials}",
                f"restart → serving            p50 {statistics.median(r):.2f} s, max {max(r):.2f} s" if r else "",
                f"committed samples checked    {self.committed_checked}, lost {len(self.lost_samples)}",
                f"open alerts restored         {'all' if not self.alerts_not_restored else self.alerts_not_restored}",
                f"pages received               {self.pages_received}, delivered twice: {len(self.duplicate_pages)}",
                f"pages with no outcome        {len(self.pages_without_outcome)}",
                f"pushes accepted              {self.pushes}"]


class Feeder(threading.Thread):
    """Pushes at ~20 Hz until stopped; connection errors while the daemon is down are expected."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base, self.seq, self.accepted = base, 0, 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        """Push until stopped (bounded by the stop event and a 1-hour cap)."""
        session = requests.Session()
        deadline = time.monotonic() + 3600
        while not self.stop_event.wait(0.05) and time.monotonic() < deadline:
            self.seq += 1
            swing = 60.0 if (self.seq // 10) % 2 else 0.0
            samples = [{"metric": "seq", "value": float(self.seq)}, {"metric": "queue", "value": swing},
                       {"metric": "failures", "value": 8.0}, {"metric": "latency", "value": 25.0}]
            try:
                if session.post(f"{self.base}/api/v1/push", json={"samples": samples}, headers=AUTH,
                                timeout=1).status_code == 202:
                    self.accepted += 1
            except requests.RequestException:
                time.sleep(0.05)


def crash_config(db: Path, fast: Receiver, slow: Receiver, failing: Receiver, port: int) -> dict[str, Any]:
    """Pushed metrics only; each role with a fast, a slow or a failing channel."""
    raw = pushed_config(db, {"tech_lead": [fast.url("tech_lead")],
                             "ops_lead": [slow.url("ops_lead"), fast.url("ops_lead")],
                             "general_manager": [fast.url("general_manager"), failing.url("general_manager")]},
                        port=port, max_delivery_failures=2, retry_backoff="200ms", group_window="1s")
    raw["levels"]["orange"]["ack_timeout"] = "1s"
    raw["metrics"].update({"seq": {"title": "Sequence", "yellow": 1e15, "pushed": True},
                           "latency": {"title": "Latency", "yellow": 10, "orange": 20, "red": 90, "pushed": True,
                                       "stale_after": "1h"}})
    raw["metrics"]["queue"]["stale_after"] = "1h"
    return raw


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WARROOM_TOKEN": TOKEN, "WARROOM_ACK_SECRET": ACK_SECRET}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "warroom.cli", "collect", "-c", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def _serving(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"daemon exited with {proc.returncode} during restart")
        try:
            if requests.get(f"{base}/api/v1/board", timeout=1).ok:
                return time.monotonic() - t0
        except requests.RequestException:
            pass
        time.sleep(0.02)
    raise RuntimeError("daemon did not serve within 60 s")


def _alerts(base: str) -> dict[int, tuple]:
    """Steady alerts (not the swinging metric's) by id: state, who acked, who it was escalated to."""
    items = requests.get(f"{base}/api/v1/alerts", params={"state": "active"}, timeout=5).json()["alerts"]
    return {a["id"]: (a["metric"], a["state"], a["acked_by"], (a["escalated_to"] or {}).get("role"))
            for a in items if a["metric"] in ("failures", "latency")}


def _committed(base: str) -> set[int]:
    """seq values the API can read back, i.e. committed to the file."""
    answer = requests.get(f"{base}/api/v1/series", params={"metric": "seq", "from": "-10m", "points": 5000},
                          timeout=5).json()
    return {int(value) for _, value in answer["series"].get("seq", [])}


def run_trials(trials: int, workdir: Path, seed: int = 1, log=print) -> CrashReport:  # noqa: ANN001
    """`trials` SIGKILLs at random moments, then one clean run to let pending pages finish."""
    rng = random.Random(seed)
    fast, slow, failing = Receiver(), Receiver(delay_s=1.5), Receiver(fail=True)
    port = _free_port()
    config = write_config(crash_config(workdir / "crash.duckdb", fast, slow, failing, port), workdir / "crash.yaml")
    base, daemon_log = f"http://127.0.0.1:{port}", workdir / "daemon.log"
    report, feeder = CrashReport(trials=trials), Feeder(base)
    committed: set[int] = set()
    before: dict[int, tuple] | None = None
    proc = _start(config, daemon_log)
    try:
        _serving(base, proc)
        feeder.start()
        time.sleep(1.5)  # the steady alerts open, the orange one escalates
        for a in requests.get(f"{base}/api/v1/alerts", params={"state": "active"}, timeout=5).json()["alerts"]:
            if a["metric"] == "failures":
                requests.post(f"{base}/api/v1/alerts/{a['id']}/ack", json={"by": "tech_lead"}, headers=AUTH, timeout=5)
        for trial in range(trials):
            time.sleep(rng.uniform(0.3, 2.5))
            before = _alerts(base)
            seen = _committed(base)
            committed |= seen
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            proc = _start(config, daemon_log)
            report.restart_s.append(_serving(base, proc))
            after = _alerts(base)
            report.alerts_not_restored += [f"trial {trial}: #{i} {v} became {after.get(i)}"
                                           for i, v in before.items() if after.get(i) != v]
            log(f"trial {trial + 1}/{trials}: killed with {len(seen)} samples readable, "
                f"serving again after {report.restart_s[-1]:.2f} s")
        feeder.stop_event.set()
        feeder.join(5)
        time.sleep(5)  # retries and the slow receiver finish
        report.pages_without_outcome = _without_outcome(base)
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(20)
    finally:
        feeder.stop_event.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for r in (fast, slow, failing):
            r.stop()
    stored = _stored_seq(workdir / "crash.duckdb")
    report.committed_checked = len(committed)
    report.lost_samples = sorted(committed - stored)
    report.pushes = feeder.accepted
    report.pages_received = len(fast.snapshot()) + len(slow.snapshot())
    report.duplicate_pages = _duplicates([(f"fast/{m.path}", m.body) for m in fast.snapshot()]
                                         + [(f"slow/{m.path}", m.body) for m in slow.snapshot()])
    return report


def _free_port() -> int:
    from tests.realparts import free_port

    return free_port()


def _stored_seq(db: Path) -> set[int]:
    from warroom.store.database import Store

    store = Store(db, read_only=True)
    try:
        rows = store.execute("SELECT value FROM samples WHERE metric = 'seq'").fetchall()
    finally:
        store.close()
    return {int(r[0]) for r in rows}


def _duplicates(messages: list[tuple[str, dict]]) -> list[str]:
    """Pages that reached one channel (receiver/path) more than once; the ack link, signed anew each send, left out."""
    keys = Counter((channel, m.get("title"), "\n".join(line for line in str(m.get("message", "")).splitlines()
                                                       if "token=" not in line)) for channel, m in messages)
    return [f"{channel}: {title} ×{n}" for (channel, title, _), n in keys.items() if n > 1]


def _without_outcome(base: str) -> list[str]:
    """Notify intents with no final outcome (delivered, undelivered, unconfirmed) on the same channel."""
    alerts = requests.get(f"{base}/api/v1/alerts", params={"state": "all", "from": "-1h"}, timeout=10).json()["alerts"]
    missing = []
    for a in alerts:
        outcomes = Counter((e["channel"], e["role"]) for e in a["events"]
                           if e["event"] in ("delivered", "undelivered", "unconfirmed"))
        for e in a["events"]:
            if e["event"] == "notify":
                key = (e["channel"], e["role"])
                if outcomes[key] > 0:
                    outcomes[key] -= 1
                else:
                    missing.append(f"alert #{a['id']} {e['detail']} to {e['role']} via {e['channel']}")
    return missing
