"""Breach → the owner's webhook: warroom (1 s polling, and pushed) against Prometheus + Alertmanager.

Every trial waits a random fraction of the poll interval, flips the local gauge from green to breach
(t0 = time.time()) and measures until a local receiver gets the page. On the same flips of the same
gauge: warroom, a tuned pair (Prometheus 1 s scrape/eval, `for: 0s`, Alertmanager group_wait 1 s)
started once for the whole run ("long-running"), and a tuned pair started fresh for each trial
("fresh": its own scrape/evaluation offsets and no Alertmanager group left from the trial before,
as for a first breach after a quiet spell). The pair on its defaults (1m scrape/eval, group_wait 30s)
runs afterwards with a few trials, one fresh pair each.

Goals: warroom polled median <= 0.6 s, p95 <= 1.1 s; pushed median <= 50 ms;
warroom / tuned pair <= 0.75x at the median, <= 0.6x at p95.

Grouped: a second warroom daemon on the default `group_window` (10 s) and an `ack_timeout` of 20 s gets
two pushed breaches for the same person a few seconds apart. The second page waits for the window; the
figures are its delay (push → receipt) and the acknowledge window its reader really had: from the
receipt of that page to the escalation the engine recorded (goal: the whole ack_timeout, not less).

    python -m bench.alert_bench [--trials 20] [--default-trials 3] [--skip-defaults] [--seed N]
                                [--group-trials 6] [--only-group]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.alert_grouped import group_report, group_trials
from bench.alert_kit import ALERTMANAGER, PROMETHEUS, AlertPair, Gauge, am_status, version_of, warroom_page
from bench.common import pct, summary
from tests.daemon_kit import start_collect, stop, wait_for, write_config
from tests.harness.receiver import Received, Receiver
from tests.realparts import free_port

GREEN, BREACH, THRESHOLD = 10.0, 100.0, 50.0
POLL_S = 1.0
GAUGE = "bench_gauge"
PUSHED = "bench_pushed"
COLLECTOR = "bench_target"
PAGE_WAIT_S = 10.0
RESOLVE_WAIT_S = 15.0
DEFAULT_SCRAPE_S = 60.0
DEFAULT_PAGE_WAIT_S = 240.0  # 1m scrape + 1m evaluation + 30s group_wait, with room to spare


@dataclass
class Trial:
    """One breach: when it started and how long each system took to page (missing: no page in time)."""

    t0: float
    took: dict[str, float] = field(default_factory=dict)
    """warroom, steady, fresh, default → seconds from the breach to the receipt."""
    after_read: dict[str, float] = field(default_factory=dict)
    """The same, from the poll / scrape that first read the breach."""
    alert_id: int | None = None
    paths: dict[str, str] = field(default_factory=dict)
    """Pair → the webhook path its Alertmanager posts to in this trial."""


# --- warroom ------------------------------------------------------------------------------------


def warroom_config(tmp: Path, gauge_port: int, hook: str) -> dict[str, Any]:
    """The generated config: one json collector at 1 s, the gauge and a pushed metric, every person on `hook`."""
    people = {"tech_lead": "Tech Lead", "ops_lead": "Ops Lead", "general_manager": "General Manager"}
    return {
        "campaign": {"name": "alert bench", "end": "+1h", "locale": "en"},
        "people": {role: {"name": name, "phone": "0", "channels": [hook]} for role, name in people.items()},
        "collectors": [{"type": "json", "name": COLLECTOR, "interval": f"{POLL_S:g}s", "timeout": "1s",
                        "url": f"http://127.0.0.1:{gauge_port}/gauge", "fields": {GAUGE: "v"}}],
        "metrics": {GAUGE: {"title": "Bench gauge", "yellow": THRESHOLD},
                    PUSHED: {"title": "Bench pushed", "yellow": THRESHOLD, "pushed": True, "stale_after": "1h"}},
        # Trials come seconds apart; the pager never holds the first page to a person after a quiet spell,
        # which is what each trial measures, so grouping is off here only to keep trials from merging.
        "alerts": {"resolve_after": "0s", "repeat_every": "0s", "group_window": "0s"},
        "server": {"host": "127.0.0.1", "port": free_port(), "database": str(tmp / "bench.duckdb"), "tick": "100ms"},
    }


def page_of(metric: str, kind: str, after: float, alert_id: int | None = None) -> Callable[[list[Received]], Any]:
    """A picker for the first warroom page of `kind` about `metric` received at or after `after`."""
    def pick(messages: list[Received]) -> Received | None:
        for msg in messages:
            m, k, aid = warroom_page(msg)
            if msg.t >= after and m == metric and k == kind and (alert_id is None or aid == alert_id):
                return msg
        return None
    return pick


def am_of(path: str, status: str, after: float) -> Callable[[list[Received]], Any]:
    """A picker for the first Alertmanager notification with `status` on `path` at or after `after`."""
    def pick(messages: list[Received]) -> Received | None:
        return next((m for m in messages if m.path == path and m.t >= after and am_status(m) == status), None)
    return pick


def warn(text: str) -> None:
    """A visible note in the output (a trial that missed its page is a finding, not a crash)."""
    print(f"  ! {text}", flush=True)


def new_pair(name: str, tmp: Path, gauge: Gauge, am_hook: Receiver, tuned: bool) -> AlertPair:
    """A pair (not started) whose Alertmanager posts to /am/<name> and whose Prometheus scrapes /metrics/<name>."""
    return AlertPair(name, tmp / name, gauge.port, am_hook.url(f"am/{name}", scheme="http"), THRESHOLD, tuned=tuned)


def record_pair(trial: Trial, key: str, pair: AlertPair, gauge: Gauge, fired: Received | None, i: int) -> None:
    """Store one pair's delay for a trial, or say that it missed."""
    trial.paths[key] = f"am/{pair.name}"
    if fired is None:
        warn(f"trial {i + 1}: no 'firing' notification from the {key} pair")
        return
    trial.took[key] = fired.t - trial.t0
    read = gauge.first_read(pair.scrape_path, trial.t0)
    if read is not None:
        trial.after_read[key] = fired.t - read


# --- trials -------------------------------------------------------------------------------------


def polled_trials(n: int, rng: random.Random, tmp: Path, gauge: Gauge, hook: Receiver, am_hook: Receiver,
                  steady: AlertPair) -> list[Trial]:
    """warroom, the long-running tuned pair and a fresh tuned pair, on the same flips of the same gauge."""
    trials = []
    for i in range(n):
        fresh = new_pair(f"fresh-{i}", tmp, gauge, am_hook, tuned=True)
        try:
            fresh.start()
            fresh.wait_scraped()
            time.sleep(rng.uniform(0.0, POLL_S))
            gauge.set(BREACH)
            trial = Trial(time.time())
            trials.append(trial)
            page = hook.wait(page_of(GAUGE, "opened", trial.t0), PAGE_WAIT_S)
            fired = {key: am_hook.wait(am_of(f"am/{pair.name}", "firing", trial.t0), PAGE_WAIT_S)
                     for key, pair in (("steady", steady), ("fresh", fresh))}
            gauge.set(GREEN)
            green_at = time.time()
            if page is None:
                warn(f"trial {i + 1}: no warroom 'opened' page within {PAGE_WAIT_S:g}s")
            else:
                trial.took["warroom"], trial.alert_id = page.t - trial.t0, warroom_page(page)[2]
                read = gauge.first_read("/gauge", trial.t0)
                if read is not None:
                    trial.after_read["warroom"] = page.t - read
                    trial.took["poll_wait"] = read - trial.t0
            record_pair(trial, "steady", steady, gauge, fired["steady"], i)
            record_pair(trial, "fresh", fresh, gauge, fired["fresh"], i)
            if hook.wait(page_of(GAUGE, "resolved", page.t if page else green_at, trial.alert_id),
                         RESOLVE_WAIT_S) is None:
                warn(f"trial {i + 1}: warroom alert {trial.alert_id} not resolved within {RESOLVE_WAIT_S:g}s")
            after = fired["steady"].t if fired["steady"] else green_at
            if am_hook.wait(am_of(f"am/{steady.name}", "resolved", after), RESOLVE_WAIT_S) is None:
                warn(f"trial {i + 1}: the long-running pair sent no 'resolved' within {RESOLVE_WAIT_S:g}s")
        finally:
            gauge.set(GREEN)
            fresh.stop()
    return trials


def pushed_trials(n: int, rng: random.Random, base: str, token: str, hook: Receiver) -> list[Trial]:
    """POST a breaching value to /api/v1/push; t0 just before the POST."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}

    def push(value: float) -> None:
        session.post(f"{base}/api/v1/push", json={"samples": [{"metric": PUSHED, "value": value}]},
                     headers=headers, timeout=5).raise_for_status()

    push(GREEN)  # warm the connection and start the metric green
    trials = []
    for i in range(n):
        time.sleep(rng.uniform(0.0, 0.5))
        trial = Trial(time.time())
        trials.append(trial)
        push(BREACH)
        page = hook.wait(page_of(PUSHED, "opened", trial.t0), PAGE_WAIT_S)
        push(GREEN)
        if page is None:
            warn(f"pushed trial {i + 1}: no warroom 'opened' page within {PAGE_WAIT_S:g}s")
            continue
        trial.took["warroom"], trial.alert_id = page.t - trial.t0, warroom_page(page)[2]
        if hook.wait(page_of(PUSHED, "resolved", page.t, trial.alert_id), RESOLVE_WAIT_S) is None:
            warn(f"pushed trial {i + 1}: warroom alert {trial.alert_id} not resolved within {RESOLVE_WAIT_S:g}s")
    return trials


def default_trials(n: int, rng: random.Random, tmp: Path, gauge: Gauge, am_hook: Receiver) -> list[Trial]:
    """The pair on its defaults; a fresh pair per trial, or each breach would wait for the 5m group_interval."""
    trials = []
    for i in range(n):
        pair = new_pair(f"default-{i}", tmp, gauge, am_hook, tuned=False)
        try:
            pair.start()
            time.sleep(rng.uniform(0.0, DEFAULT_SCRAPE_S))
            gauge.set(BREACH)
            trial = Trial(time.time())
            trials.append(trial)
            fired = am_hook.wait(am_of(f"am/{pair.name}", "firing", trial.t0), DEFAULT_PAGE_WAIT_S)
            record_pair(trial, "default", pair, gauge, fired, i)
            if "default" in trial.took:
                print(f"  default-pair trial {i + 1}/{n}: {trial.took['default']:.1f} s "
                      f"({trial.after_read.get('default', float('nan')):.1f} s after the scrape that read it)",
                      flush=True)
        finally:
            gauge.set(GREEN)
            pair.stop()
    return trials


# --- checks and report --------------------------------------------------------------------------


def page_counts(messages: list[Received], metric: str, trials: list[Trial], end: float) -> dict[str, Any]:
    """Opened pages per trial window [t0, next t0), plus pages of any other kind and alert ids used."""
    pages = [(msg.t, *warroom_page(msg)) for msg in messages if warroom_page(msg)[0] == metric]
    bounds = [t.t0 for t in trials] + [end]
    per_trial = [sum(1 for t, _, kind, _ in pages if kind == "opened" and lo <= t < hi)
                 for lo, hi in zip(bounds, bounds[1:], strict=False)]
    return {"per_trial": per_trial,
            "opened_total": sum(1 for p in pages if p[2] == "opened"),
            "resolved": sum(1 for p in pages if p[2] == "resolved"),
            "other": sum(1 for p in pages if p[2] == "other"),
            "ids": {p[3] for p in pages if p[2] == "opened"}}


def firing_counts(messages: list[Received], key: str, trials: list[Trial], end: float) -> list[int]:
    """Alertmanager 'firing' notifications of one pair per trial window."""
    bounds = [t.t0 for t in trials] + [end]
    return [sum(1 for m in messages if m.path == trial.paths.get(key) and am_status(m) == "firing" and lo <= m.t < hi)
            for trial, lo, hi in zip(trials, bounds, bounds[1:], strict=False)]


def describe_counts(name: str, counts: dict[str, Any], n: int) -> str:
    """One line: how many trials got exactly one opened page."""
    exact = sum(1 for c in counts["per_trial"] if c == 1)
    verdict = "OK" if exact == n and counts["opened_total"] == n and len(counts["ids"]) == n else "PROBLEM"
    return (f"{name}: {exact}/{n} trials got exactly one 'opened' page (per trial: {counts['per_trial']}); "
            f"{counts['opened_total']} opened pages for {len(counts['ids'])} alert ids, {counts['resolved']} "
            f"resolved, {counts['other']} other pages  [{verdict}]")


def figures(trials: list[Trial], key: str, after_read: bool = False) -> list[float]:
    """The measured delays (seconds) of every trial that got its page."""
    return [t.after_read[key] if after_read else t.took[key] for t in trials
            if key in (t.after_read if after_read else t.took)]


def row(name: str, seconds: list[float], n: int, goal: str = "") -> str:
    """summary() plus how many trials missed their page."""
    if not seconds:
        return f"{name:<48} no page received in {n} trial(s)"
    missed = n - len(seconds)
    return summary(name, seconds, goal) + (f"  MISSED {missed}" if missed else "")


def ratio_line(name: str, ours: list[float], theirs: list[float], goals: tuple[float, float] | None) -> str:
    """warroom / other at the median and at p95."""
    if not ours or not theirs:
        return f"{name}: n/a"
    med = statistics.median(ours) / statistics.median(theirs)
    p95 = pct(ours, 95) / pct(theirs, 95)
    text = f"{name:<46} median {med:.3g}x  p95 {p95:.3g}x"
    if goals:
        verdict = f"median {'met' if med <= goals[0] else 'NOT met'}, p95 {'met' if p95 <= goals[1] else 'NOT met'}"
        text += f"  (goal <= {goals[0]}x median, <= {goals[1]}x p95: {verdict})"
    return text


def goal(values: list[float], q: float, limit: float) -> str:
    """'met' / 'NOT met' for one percentile against its limit in seconds."""
    return "met" if values and pct(values, q) <= limit else "NOT met"


def report(n: int, n_push: int, n_default: int, polled: list[Trial], pushed: list[Trial],
           defaults: list[Trial]) -> None:
    """Print the figures and ratios."""
    w, p = figures(polled, "warroom"), figures(pushed, "warroom")
    steady, fresh, default = figures(polled, "steady"), figures(polled, "fresh"), figures(defaults, "default")
    print()
    print(f"breach -> owner's webhook receipt (breach at a random moment of the cycle; {n} polled trials, "
          f"{n_push} pushed)")
    print(row("warroom, 1 s polling", w, n, f"(goal p50 <= 600 ms: {goal(w, 50, 0.6)}; "
                                              f"p95 <= 1100 ms: {goal(w, 95, 1.1)})"))
    print(row("warroom, pushed sample (POST /api/v1/push)", p, n_push, f"(goal p50 <= 50 ms: {goal(p, 50, 0.05)})"))
    print(row("tuned pair, fresh per trial", fresh, n))
    print(row("tuned pair, long-running", steady, n))
    if n_default:
        print(row("default pair (1m scrape/eval, group_wait 30s)", default, n_default,
                  f"(only {n_default} trial(s), minutes each: p95/p99 of so few are indicative)"))
    else:
        print("default pair (1m scrape/eval, group_wait 30s): skipped (--skip-defaults)")
    print("where the time goes:")
    print(row("  warroom: breach -> the poll that read it", figures(polled, "poll_wait"), n))
    print(row("  warroom: that poll -> page received", figures(polled, "warroom", True), n))
    print(row("  fresh pair: the scrape that read it -> webhook", figures(polled, "fresh", True), n))
    print(row("  long-running pair: that scrape -> webhook", figures(polled, "steady", True), n))
    if n_default:
        print(row("  default pair: that scrape -> webhook", figures(defaults, "default", True), n_default))
    print()
    print(ratio_line("warroom polled / tuned pair, fresh per trial", w, fresh, (0.75, 0.6)))
    print(ratio_line("warroom polled / tuned pair, long-running", w, steady, (0.75, 0.6)))
    print(ratio_line("warroom pushed / tuned pair, fresh per trial", p, fresh, None))
    print(ratio_line("warroom pushed / tuned pair, long-running", p, steady, None))
    if n_default:
        print(ratio_line(f"warroom polled / default pair (n={len(default)})", w, default, None))
        print(ratio_line(f"warroom pushed / default pair (n={len(default)})", p, default, None))


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    """Run the trials and print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--push-trials", type=int, default=None, help="default: --trials")
    ap.add_argument("--default-trials", type=int, default=3)
    ap.add_argument("--skip-defaults", action="store_true")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--group-trials", type=int, default=6, help="two alerts to one person on the default window")
    ap.add_argument("--only-group", action="store_true", help="run only the grouped case")
    args = ap.parse_args()
    n, n_push = max(1, args.trials), max(1, args.push_trials or args.trials)
    n_default = 0 if args.skip_defaults else max(1, args.default_trials)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed)
    token = secrets.token_hex(16)
    started = time.monotonic()
    if args.only_group or args.group_trials > 0:
        with tempfile.TemporaryDirectory(prefix="alert-bench-group-") as tmp_name:
            hook = Receiver()
            try:
                print(f"alert bench, grouped case: seed {seed}; {os.cpu_count()} CPUs", flush=True)
                grouped = group_trials(max(1, args.group_trials), rng, Path(tmp_name), hook, token)
            finally:
                hook.stop()
        group_report(grouped)
        if args.only_group:
            print(f"total run time {time.monotonic() - started:.0f}s")
            return
    gauge, hook, am_hook = Gauge(GREEN), Receiver(), Receiver()
    daemon = steady = None
    with tempfile.TemporaryDirectory(prefix="alert-bench-") as tmp_name:
        tmp = Path(tmp_name)
        log = tmp / "warroom.log"
        try:
            raw = warroom_config(tmp, gauge.port, hook.url("hook"))
            config = write_config(raw, tmp / "config.yaml")
            daemon = start_collect(config, log, {"WARROOM_TOKEN": token, "WARROOM_ACK_SECRET": secrets.token_hex(16)})
            base = f"http://127.0.0.1:{raw['server']['port']}"
            wait_for(lambda: requests.get(f"{base}/api/v1/health", timeout=2).json()["collectors"][COLLECTOR]["ok"],
                     30, "the warroom daemon's first good poll", daemon, log)
            steady = new_pair("steady", tmp, gauge, am_hook, tuned=True).start()
            steady.wait_scraped()
            print(f"alert bench: seed {seed}; gauge green {GREEN:g} -> breach {BREACH:g}, threshold {THRESHOLD:g}; "
                  f"{os.cpu_count()} CPUs", flush=True)
            print(f"warroom: json collector every {POLL_S:g}s, tick 100ms, resolve_after 0s, repeat_every 0s, "
                  "group_window 0s.\n"
                  f"tuned pair: Prometheus {version_of(PROMETHEUS)} scrape/eval 1s, for 0s; "
                  f"Alertmanager {version_of(ALERTMANAGER)} group_wait 1s, group_interval 1s, repeat_interval 1h.",
                  flush=True)
            polled = polled_trials(n, rng, tmp, gauge, hook, am_hook, steady)
            pushed = pushed_trials(n_push, rng, base, token, hook)
            time.sleep(2.0)  # late duplicates would land here
            end = time.time()
            messages, am_messages = hook.snapshot(), am_hook.snapshot()
            polled_end = pushed[0].t0 if pushed else end
            counts = {"polled": page_counts(messages, GAUGE, polled, polled_end),
                      "pushed": page_counts(messages, PUSHED, pushed, end)}
            firing = {key: firing_counts(am_messages, key, polled, polled_end) for key in ("fresh", "steady")}
            stop(daemon)
            steady.stop()
            daemon = steady = None
            defaults: list[Trial] = []
            if n_default:
                print(f"default pair: {n_default} trial(s), a fresh Prometheus + Alertmanager each "
                      "(random wait 0-60 s, then up to a few minutes)", flush=True)
                defaults = default_trials(n_default, rng, tmp, gauge, am_hook)
        finally:
            gauge.set(GREEN)
            if daemon is not None:
                stop(daemon)
            if steady is not None:
                steady.stop()
            gauge.stop()
            hook.stop()
            am_hook.stop()
        noisy = [line for line in log.read_text(errors="replace").splitlines()
                 if any(word in line for word in ("WARNING", "ERROR", "Traceback"))] if log.exists() else []
    report(n, n_push, n_default, polled, pushed, defaults)
    print()
    print(describe_counts("warroom polled", counts["polled"], n))
    print(describe_counts("warroom pushed", counts["pushed"], n_push))
    for key, per_trial in firing.items():
        print(f"tuned pair {key}: 'firing' notifications per trial: {per_trial}")
    print(f"warroom daemon log: {len(noisy)} warning/error line(s)" + "".join(f"\n  {line}" for line in noisy[:5]))
    print(f"total run time {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
