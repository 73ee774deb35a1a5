"""Three `warroom collect` nodes on one real PostgreSQL; the leader killed N times; what the war room lost.

Its own PostgreSQL cluster under a temporary folder, three node processes (tests/harness/cluster.py),
one webhook receiver per person (tests/harness/receiver.py), a scripted breach sequence pushed through
/api/v1/push, and a board client with the three URLs reading /api/v1/board every 0.5 s. Each trial
(bench/failover_trials.py) is one of:

- kill: SIGKILL the leader at a random moment within 1.5 s of a red breach;
- mid-delivery: SIGKILL while the red page is in flight (its receiver holds the answer);
- mid-escalation: SIGKILL 0.2–1.5 s before an orange alert's escalation is due;
- sigstop: freeze the leader (its lease must expire), then thaw it: it must send nothing stale;
- postgres-restart: stop PostgreSQL, breach, start it again: the leader keeps paging, nobody takes over.

After every trial the dead node is started again, so there are always three. Printed per kind: pages
missed (goal 0), pages sent twice (goal ≤ 1 per failover, each marked "resent after failover"; marked
and unmarked counted apart), death → first page by the new leader p50/max (goal ≤ 5 s), escalations
later than due by more than the failover goal, acknowledgements lost (goal 0), wall downtime.

    python -m bench.failover_bench [--trials 30] [--seed N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.failover_trials import MARK, Rig, Trial, metrics_for, page_key, schedule
from tests.harness.cluster import Cluster, own_postgres
from tests.harness.receiver import Receiver

TAKEOVER_GOAL_S = 5.0
KINDS = ("kill", "mid-delivery", "mid-escalation", "sigstop", "postgres-restart")


def tuned(trials: int, escalate: str) -> Any:
    """The cluster's config: the trials' metrics, orange escalating after `escalate`, red never within a night."""
    def tune(raw: dict[str, Any]) -> None:
        raw["levels"]["orange"]["ack_timeout"] = escalate
        raw["levels"]["red"]["ack_timeout"] = "6h"
        raw["metrics"].update(metrics_for(trials))
    return tune


def copies(rx: Receiver) -> dict[tuple[str, str, str], list[bool]]:
    """Every (person, metric, step) page received, oldest first, as marked-as-resent flags."""
    found: dict[tuple[str, str, str], list[bool]] = {}
    for m in rx.snapshot():
        key = page_key(m.body, m.path)
        if key is not None:
            found.setdefault(key, []).append(MARK in str(m.body.get("title", "")))
    return found


def tally(trial: Trial, got: dict[tuple[str, str, str], list[bool]]) -> dict[str, int]:
    """Missed, and copies beyond the first (marked and unmarked), of one trial's pages."""
    prefix = f"T{trial.n:02d}-"
    missed = sum(1 for key in trial.expected if not got.get(key))
    marked = unmarked = 0
    for (_, metric, _), flags in got.items():
        if metric.startswith(prefix) and len(flags) > 1:
            extra = len(flags) - 1
            marked_extra = min(extra, sum(flags[1:]) + (1 if flags[0] else 0))
            marked += marked_extra
            unmarked += extra - marked_extra
    return {"missed": missed, "marked": marked, "unmarked": unmarked}


def ms(values: list[float], q: str) -> str:
    """p50 or max of seconds, in ms ('-' when none)."""
    if not values:
        return "-"
    return f"{(statistics.median(values) if q == 'p50' else max(values)) * 1000:.0f}"


def report(trials: list[Trial], got: dict[tuple[str, str, str], list[bool]]) -> list[str]:
    """The printed table, one row per kind and one for all, then the last line."""
    lines = [f"{'kind':<17} {'n':>3} {'missed':>6} {'dup marked':>10} {'dup unmarked':>12} {'takeover p50/max ms':>20} "
             f"{'esc late':>8} {'acks lost/taken':>15} {'refused':>7} {'stale':>5} {'wall gap max s':>14}"]
    total: dict[str, Any] = {}
    for kind in (*KINDS, "all"):
        rows = [t for t in trials if kind in (t.kind, "all")]
        if not rows:
            continue
        counts = Counter()
        for t in rows:
            counts.update(tally(t, got))
        takeover = [t.takeover_s for t in rows if t.takeover_s is not None]
        late = [t.escalation_late_s for t in rows if t.escalation_late_s is not None]
        acks_lost = sum(t.acks_lost for t in rows)
        lines.append(f"{kind:<17} {len(rows):>3} {counts['missed']:>6} {counts['marked']:>10} {counts['unmarked']:>12} "
                     f"{ms(takeover, 'p50') + ' / ' + ms(takeover, 'max'):>20} "
                     f"{sum(1 for s in late if s > TAKEOVER_GOAL_S):>8} "
                     f"{f'{acks_lost}/{sum(t.acks_posted - t.acks_refused for t in rows)}':>15} "
                     f"{sum(t.acks_refused for t in rows):>7} "
                     f"{sum(t.stale_after_thaw for t in rows):>5} {max(t.wall_gap_s for t in rows):>14.1f}")
        total = {"counts": counts, "takeover": takeover, "late": late, "acks_lost": acks_lost}
    failovers = sum(1 for t in trials if t.kind != "postgres-restart")
    late = total["late"]
    dups = total["counts"]["marked"] + total["counts"]["unmarked"]
    lines += [
        f"failovers {failovers}; duplicates per failover {dups / max(1, failovers):.2f} (goal ≤ 1, each marked)",
        "escalation lateness after its due time: " +
        (f"p50 {ms(late, 'p50')} ms, max {ms(late, 'max')} ms" if late else "none measured") +
        f" (late = more than the {TAKEOVER_GOAL_S:g} s failover goal)",
        "acks refused (503, nothing changed, the sender told to try again) are not taken, so never lost",
    ]
    for t in trials:
        for note in t.notes:
            lines.append(f"  trial {t.n} ({t.kind}): {note}")
    c = total["counts"]
    lines.append(f"failover: trials={len(trials)} missed={c['missed']} duplicates={c['marked'] + c['unmarked']} "
                 f"takeover_p50_ms={ms(total['takeover'], 'p50')} takeover_max_ms={ms(total['takeover'], 'max')} "
                 f"acks_lost={total['acks_lost']}")
    return lines


def run(trials: int, seed: int, workdir: Path, ttl: float, escalate_s: float, keep: bool = False) -> list[str]:
    """Start PostgreSQL, the receiver and three nodes; run the trials; stop everything, whatever happens."""
    rng = random.Random(seed)
    rx = Receiver()
    done: list[Trial] = []
    rig: Rig | None = None
    try:
        with own_postgres() as (server, runner):
            cluster = Cluster(workdir, server.dsn, rx, cluster=f"bench{secrets.token_hex(3)}", ttl=f"{ttl:g}s",
                              renew=f"{ttl / 3:g}s", tune=tuned(trials, f"{escalate_s:g}s"))
            try:
                cluster.start_all()
                rig = Rig(cluster, rx, runner, rng, escalate_s, ttl)
                for n, kind in enumerate(schedule(trials, rng)):
                    trial = Trial(n, kind)
                    try:
                        rig.run(trial)
                    finally:
                        done.append(trial)
                    print(f"trial {n:2d} {kind:<16} takeover "
                          f"{'-' if trial.takeover_s is None else f'{trial.takeover_s * 1000:.0f} ms'}"
                          f"{'; ' + '; '.join(trial.notes) if trial.notes else ''}", file=sys.stderr, flush=True)
                time.sleep(2 * ttl)  # a last copy still on its way is counted too
                rig.late_takeovers(done)
            except BaseException:
                for i, node in enumerate(cluster.nodes):
                    print(f"--- {node.name} ---\n{cluster.tail(i)}", file=sys.stderr)
                raise
            finally:
                if rig is not None:
                    rig.wall.stop()
                cluster.stop_all()
    finally:
        rx.stop()
    if keep:  # every page as received, one JSON line each, to read what a count is made of
        with (workdir / "inbox.jsonl").open("w") as out:
            for m in rx.snapshot():
                out.write(json.dumps({"t": m.t, "to": m.path, "title": m.body.get("title")}, ensure_ascii=False) + "\n")
    return report(done, copies(rx))


def main() -> int:
    """Run the trials and print the figures; exit 1 when a goal was missed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ttl", type=float, default=3.0, help="lease ttl in seconds (renewed every third of it)")
    parser.add_argument("--escalate", type=float, default=6.0, help="the orange ack_timeout, in seconds")
    parser.add_argument("--keep", type=Path, help="keep the nodes' files and logs in this folder")
    args = parser.parse_args()
    # SIGTERM stops the run as Ctrl-C does: every node and the PostgreSQL cluster are stopped on the way out
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        lines = run(args.trials, args.seed, args.keep, args.ttl, args.escalate, keep=True)
    else:
        with tempfile.TemporaryDirectory(prefix="warroom-failover-") as tmp:
            lines = run(args.trials, args.seed, Path(tmp), args.ttl, args.escalate)
    print("\n".join(lines))
    last = lines[-1]
    fields = dict(part.split("=", 1) for part in last.split()[1:])
    bad = int(fields["missed"]) or int(fields["acks_lost"])
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
