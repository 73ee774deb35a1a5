"""SIGKILL the daemon N times at random moments while it ingests pushed samples and pages local receivers.

Checks after every kill: no committed sample lost (every `seq` value the API read back before the
kill is in the file at the end), restart → serving time, open alerts restored with their ack and
escalation state; at the end: no page delivered twice, none left without an outcome.
Goal: restart → serving < 2 s.

    python -m bench.crash_bench [--trials 30] [--seed N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.harness.crash import run_trials


def main() -> int:
    """Run the trials and print the figures; exit 1 when a check failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="warroom-crash-") as tmp:
        report = run_trials(args.trials, Path(tmp), seed=args.seed)
    print("\n".join(line for line in report.lines() if line))
    problems = report.problems() + report.pager_problems()
    for problem in problems:
        print(f"FAILED: {problem}")
    r = sorted(report.restart_s)
    if r:
        print(f"restart → serving p50 / goal 2 s: {r[len(r) // 2] / 2:.2f}x")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
