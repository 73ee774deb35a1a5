"""The daemon's cold start: `warroom collect` started → first answered /api/v1/health, and the import time.

Starts the daemon on the crash benchmark's config (pushed metrics, three people with channels), waits
for its first 200 on /api/v1/health, kills it, N times. With `--before-root DIR` it alternates, run by
run, with the checkout in DIR (e.g. main before the lazy imports), so both sides see the same machine;
`--load N` runs N busy loops beside it (the load of a test suite on two cores). Goal: ≤ 1 s under load.

    python -m bench.cold_start_bench [--runs 15] [--before-root /work/main] [--load 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.daemon_kit import write_config
from tests.harness.crash import crash_config
from tests.harness.receiver import Receiver
from tests.harness.rig import ACK_SECRET, TOKEN
from tests.realparts import free_port

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 1.0
IMPORT = "import time; t = time.perf_counter(); import warroom.daemon.daemon; print(time.perf_counter() - t)"


def python_of(root: Path) -> str:
    """The checkout's own interpreter (its venv), else this one."""
    venv = root / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def to_health(root: Path, config: Path, port: int, log: Path) -> float:
    """Seconds from starting `warroom collect` in `root` to its first answered /api/v1/health; then kill it."""
    env = {**os.environ, "PYTHONPATH": str(root), "WARROOM_TOKEN": TOKEN, "WARROOM_ACK_SECRET": ACK_SECRET}
    session = requests.Session()
    with log.open("ab") as out:
        started = time.monotonic()
        proc = subprocess.Popen([python_of(root), "-m", "warroom.cli", "collect", "-c", str(config)], cwd=root,
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        while time.monotonic() - started < 60:
            if proc.poll() is not None:
                raise RuntimeError(f"daemon in {root} exited with {proc.returncode}; see {log}")
            try:
                if session.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).ok:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"daemon in {root} did not answer within 60 s; see {log}")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


def import_time(root: Path) -> float:
    """Seconds to import the daemon in a fresh interpreter of `root`."""
    out = subprocess.run([python_of(root), "-c", IMPORT], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                         capture_output=True, text=True, check=True, timeout=120)
    return float(out.stdout.strip())


def busy_loops(count: int) -> list[subprocess.Popen[bytes]]:
    """`count` processes spinning on a core each."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> int:
    """Alternate the checkouts run by run and print medians; exit 1 when this checkout misses the goal."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before-root", type=Path)
    parser.add_argument("--load", type=int, default=0, help="busy loops beside the daemon")
    args = parser.parse_args()
    roots = {"after": ROOT, **({"before": args.before_root.resolve()} if args.before_root else {})}
    fast, slow, failing = Receiver(), Receiver(delay_s=1.5), Receiver(fail=True)
    load = busy_loops(args.load)
    health: dict[str, list[float]] = {name: [] for name in roots}
    imports: dict[str, list[float]] = {name: [] for name in roots}
    try:
        with tempfile.TemporaryDirectory(prefix="warroom-cold-") as tmp:
            for run in range(args.runs):
                for name, root in roots.items():
                    port = free_port()
                    db = Path(tmp) / f"{name}.duckdb"
                    config = write_config(crash_config(db, fast, slow, failing, port), Path(tmp) / f"{name}.yaml")
                    health[name].append(to_health(root, config, port, Path(tmp) / f"{name}.log"))
                    imports[name].append(import_time(root))
                print(f"run {run + 1}/{args.runs}: " + "  ".join(
                    f"{n} health {health[n][-1]:.2f} s import {imports[n][-1]:.2f} s" for n in roots), flush=True)
    finally:
        for proc in load:
            proc.kill()
            proc.wait(5)
        for receiver in (fast, slow, failing):
            receiver.stop()
    print(f"load: {args.load} busy loop(s); load average now {os.getloadavg()[0]:.1f}")
    for name, root in roots.items():
        h, i = sorted(health[name]), sorted(imports[name])
        print(f"{name:<6} ({root}): start → first /health p50 {statistics.median(h):.2f} s, max {h[-1]:.2f} s; "
              f"import warroom.daemon.daemon p50 {statistics.median(i):.2f} s")
    p50 = statistics.median(health["after"])
    print(f"cold start p50 / goal {GOAL_S:g} s: {p50 / GOAL_S:.2f}x")
    return 0 if p50 <= GOAL_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
