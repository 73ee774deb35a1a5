"""The trials of bench/failover_bench.py: a three-node cluster, a scripted breach sequence, a leader killed.

Each trial breaches metrics of its own (`T07-A`, `T07-B`), so every page names the trial it belongs to:
a page is keyed by (person, metric) and counted at the end from what the receivers got. Just before
each kill the previous trial's alerts are acknowledged through a random node (mostly a follower), and
checked on the new leader afterwards (in kill, mid-delivery and sigstop trials the node dies the moment the
last acknowledgement is answered): an acknowledgement taken must hold across the failover.
"""

from __future__ import annotations

import random
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from app.api_client import DaemonClient
from tests.harness.cluster import Cluster, postgres_start, postgres_stop
from tests.harness.receiver import Receiver
from tests.harness.rig import TOKEN
from tests.pg_server import _Runner

RED, ORANGE = 60, 25
MARK = "resent after failover"
ESCALATED = "NOT ACKNOWLEDGED · ESCALATED"
WAIT_S = 45.0  # no wait of a trial is longer: a page that has not come by then is missed


def tag(trial: int, part: str) -> str:
    """The metric name (and title) of one breach of one trial: every page quoting it belongs to the trial."""
    return f"T{trial:02d}-{part}"


def name(title: str) -> str:
    """The metric's config name for a trial's title: `T07-A` is `t07_a`."""
    return title.lower().replace("-", "_")


def metrics_for(trials: int) -> dict[str, dict[str, Any]]:
    """Two pushed metrics per trial (A: the breach around the kill, B: the breach right after it)."""
    return {name(tag(i, p)): {"title": tag(i, p), "yellow": 5, "orange": 20, "red": 50, "pushed": True,
                        "stale_after": "6h"} for i in range(trials) for p in "AB"}


@dataclass
class Trial:
    """What one trial did and saw."""

    n: int
    kind: str
    killed_at: float | None = None
    takeover_s: float | None = None
    escalation_late_s: float | None = None
    acks_posted: int = 0
    acks_refused: int = 0
    acks_lost: int = 0
    stale_after_thaw: int = 0
    wall_gap_s: float = 0.0
    expected: list[tuple[str, str, str]] = field(default_factory=list)
    """(person, metric, step) pages that must arrive."""
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    ended: float = 0.0


class Wall:
    """A board client with the three URLs reading /api/v1/board every 0.5 s; when it got an answer."""

    def __init__(self, bases: list[str]):
        self.client = DaemonClient(",".join(bases))
        self.answered: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wall", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.client.board()
                self.answered.append(time.time())
            except Exception:  # noqa: BLE001 - any failure is downtime, measured as a gap
                pass
            self._stop.wait(0.5)

    def longest_gap(self, start: float, end: float) -> float:
        """The longest time in [start, end] without an answer."""
        times = [start, *(t for t in self.answered if start < t < end), end]
        return max(b - a for a, b in zip(times, times[1:], strict=False))

    def stop(self) -> None:
        """Stop reading (bounded)."""
        self._stop.set()
        self._thread.join(5)


def page_key(body: dict[str, Any], path: str) -> tuple[str, str, str] | None:
    """(person, metric, step) of a page, from its title (`[RED] T07-A 60.0 · …`); None for a page of no trial.

    The step is the title's tag: an escalation, or the "taken" notice after an acknowledgement, is another
    page than the first one to the same person, never a copy of it.
    """
    title = str(body.get("title", ""))
    found = re.search(r"T\d\d-[AB]", title)
    step = re.match(r"\[([^\]]*)\]", title)
    return (path, found.group(0), step.group(1) if step else "") if found else None


class Rig:
    """The cluster, its receivers, its wall and PostgreSQL: what every trial acts on."""

    def __init__(self, cluster: Cluster, receiver: Receiver, runner: _Runner, rng: random.Random,
                 escalate_s: float, ttl: float):
        self.cluster, self.rx, self.runner, self.rng = cluster, receiver, runner, rng
        self.escalate_s, self.ttl = escalate_s, ttl
        self.wall = Wall([n.base for n in cluster.nodes])
        self.open_ids: list[int] = []
        """Alerts of the previous trial, acknowledged just before the next kill."""

    # --- helpers ---------------------------------------------------------------------------------

    def push(self, metric: str, value: float, only: list[int] | None = None) -> None:
        """One sample to every live node (or `only`)."""
        self.cluster.push([{"metric": name(metric), "value": value}], only=only)

    def arrived(self, person: str, metric: str, after: float = 0.0, marked: bool | None = None) -> list[float]:
        """When pages of `metric` reached `person` (after `after`; only marked/unmarked ones when asked)."""
        return [m.t for m in self.rx.snapshot() if m.path == person and m.t > after
                and (page_key(m.body, m.path) or ())[:2] == (person, metric)
                and (marked is None or (MARK in str(m.body.get("title", ""))) == marked)]

    def wait_page(self, person: str, metric: str, after: float = 0.0, limit: float = WAIT_S) -> float | None:
        """The arrival of the first page of `metric` to `person` after `after`, waiting at most `limit`."""
        found = self.rx.wait(lambda _: self.arrived(person, metric, after), limit)
        return min(found) if found else None

    def ids_of(self, node: int, metrics: list[str]) -> list[int]:
        """Alert ids of `metrics` as node `node` knows them."""
        try:
            return [a["id"] for a in self.cluster.alerts(node) if a["metric"] in {name(m) for m in metrics}]
        except requests.RequestException:
            return []

    def ack_previous(self, trial: Trial, leader: int) -> list[int]:
        """Acknowledge the previous trial's alerts through a random node (a follower three times in four)."""
        followers = [i for i in self.cluster.alive() if i != leader]
        taken = []
        for alert_id in self.open_ids:
            via = leader if not followers or self.rng.random() < 0.25 else self.rng.choice(followers)
            trial.acks_posted += 1
            try:
                reply = requests.post(f"{self.cluster.nodes[via].base}/api/v1/alerts/{alert_id}/ack",
                                      json={"by": "general_manager"}, timeout=15,
                                      headers={"Authorization": f"Bearer {TOKEN}"})
            except requests.RequestException as err:
                trial.acks_refused += 1
                trial.notes.append(f"ack #{alert_id} via node{via + 1}: {type(err).__name__}")
                continue
            if reply.status_code == 200:
                taken.append(alert_id)
            else:  # refused and said so: not taken, so not lost
                trial.acks_refused += 1
                trial.notes.append(f"ack #{alert_id} via node{via + 1}: {reply.status_code} {reply.text[:120]}")
        return taken

    def check_acks(self, trial: Trial, taken: list[int], leader: int) -> None:
        """Every acknowledgement taken before the kill holds on the new leader (its mirror given 10 s)."""
        def lost() -> list[int]:
            try:
                state = {a["id"]: a["state"] for a in self.cluster.alerts(leader)}
            except requests.RequestException:
                return taken
            return [i for i in taken if state.get(i) != "acked"]
        deadline = time.monotonic() + 10
        missing = lost()
        while missing and time.monotonic() < deadline:
            time.sleep(0.2)
            missing = lost()
        trial.acks_lost += len(missing)
        if missing:
            trial.notes.append(f"acknowledged before the kill, open on the new leader: {missing}")

    def restart_dead(self) -> None:
        """Start every node that is not running again, so there are always three."""
        for i, node in enumerate(self.cluster.nodes):
            if node.proc is None or node.proc.poll() is not None:
                self.cluster.start(i)
                self.cluster.wait_serving(i)

    def takeover(self, trial: Trial, killed_at: float, b: str, limit: float = WAIT_S) -> None:
        """Death → the first page the new leader sent: B (pushed after the death) or a copy marked as resent."""
        first_b = self.wait_page("general_manager", b, after=killed_at, limit=limit)
        marked = [m.t for m in self.rx.snapshot() if m.t > killed_at and MARK in str(m.body.get("title", ""))]
        firsts = [t for t in [first_b, *marked] if t is not None]
        trial.takeover_s = min(firsts) - killed_at if firsts else None
        if trial.takeover_s is None and limit:
            trial.notes.append(f"no page by the new leader within {limit:g} s of the death")

    def late_takeovers(self, trials: list[Trial]) -> None:
        """Trials whose new leader paged later than the wait: their takeover time from what came by the end."""
        for trial in trials:
            if trial.killed_at is not None and trial.takeover_s is None:
                self.takeover(trial, trial.killed_at, tag(trial.n, "B"), limit=0)

    # --- the kinds ---------------------------------------------------------------------------------

    def kill(self, trial: Trial, how: str) -> None:
        """SIGKILL (or SIGSTOP) the leader at a random moment after a red breach; B is breached after its death."""
        a, b = tag(trial.n, "A"), tag(trial.n, "B")
        leader = self.cluster.wait_leader()
        if how == "delivery":  # the page reaches the phone, the answer never reaches the leader
            self.rx.hold("general_manager", only=lambda body: a in str(body.get("title", "")))
        self.push(a, RED)
        if how == "delivery":
            if not self.rx.wait(lambda _: self.rx.held("general_manager"), WAIT_S):
                trial.notes.append("the page never got in flight")
        else:
            time.sleep(self.rng.uniform(0.0, 1.5))
        taken = self.ack_previous(trial, leader)  # the last thing before the death: its answer came, it must hold
        trial.killed_at = time.time()
        self.cluster.signal(leader, signal.SIGSTOP if how == "freeze" else signal.SIGKILL)
        self.rx.release("general_manager")
        self.push(b, RED, only=[i for i in self.cluster.alive() if i != leader])
        new = self.cluster.wait_leader(other_than=leader, timeout=WAIT_S)
        trial.expected = [("general_manager", a, "RED"), ("general_manager", b, "RED")]
        self.takeover(trial, trial.killed_at, b)
        self.wait_page("general_manager", a)
        self.check_acks(trial, taken, new)
        if how == "freeze":
            self.thaw(trial, leader)
        self.open_ids = self.ids_of(new, [a, b])

    def thaw(self, trial: Trial, frozen: int) -> None:
        """SIGCONT the frozen leader: it must learn it lost the lease and send nothing stale."""
        thawed_at = time.time()
        before = {(m.path, page_key(m.body, m.path)) for m in self.rx.snapshot() if m.t <= thawed_at}
        self.cluster.signal(frozen, signal.SIGCONT)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and \
                ((self.cluster.health(frozen) or {}).get("ha") or {}).get("role") != "follower":
            time.sleep(0.1)
        # two lease periods to show anything stale it still had queued (a bench measures; it may wait)
        time.sleep(2 * self.ttl)
        stale = [m for m in self.rx.snapshot() if m.t > thawed_at and (m.path, page_key(m.body, m.path)) in before
                 and MARK not in str(m.body.get("title", ""))]
        trial.stale_after_thaw = len(stale)
        if stale:
            trial.notes.append(f"after the thaw: {[m.body.get('title') for m in stale]}")

    def escalation(self, trial: Trial) -> None:
        """An orange page to the operations lead; the leader is killed shortly before its escalation is due."""
        a, b = tag(trial.n, "A"), tag(trial.n, "B")
        leader = self.cluster.wait_leader()
        taken = self.ack_previous(trial, leader)
        start = time.time()
        self.push(a, ORANGE)
        paged = self.wait_page("ops_lead", a, after=start)
        if paged is None:
            trial.notes.append("the operations lead was never paged")
            trial.expected = [("ops_lead", a, "ORANGE")]
            return
        due = paged + self.escalate_s
        time.sleep(max(0.0, due - self.rng.uniform(0.2, 1.5) - time.time()))
        trial.killed_at = time.time()
        self.cluster.signal(leader, signal.SIGKILL)
        self.push(b, RED, only=[i for i in self.cluster.alive() if i != leader])
        new = self.cluster.wait_leader(other_than=leader, timeout=WAIT_S)
        trial.expected = [("ops_lead", a, "ORANGE"), ("general_manager", a, ESCALATED), ("general_manager", b, "RED")]
        self.takeover(trial, trial.killed_at, b)
        escalated = self.wait_page("general_manager", a, after=start)
        if escalated is not None:
            trial.escalation_late_s = escalated - due
        self.check_acks(trial, taken, new)
        self.open_ids = self.ids_of(new, [a, b])

    def postgres_restart(self, trial: Trial) -> None:
        """PostgreSQL stops: the leader keeps paging, nobody else takes over; then it comes back."""
        a = tag(trial.n, "A")
        leader = self.cluster.wait_leader()
        postgres_stop(self.runner)
        try:
            taken = self.ack_previous(trial, leader)
            self.push(a, RED)
            trial.expected = [("general_manager", a, "RED")]
            self.wait_page("general_manager", a)
            roles = [((self.cluster.health(i) or {}).get("ha") or {}).get("role") for i in range(3)]
            if roles != ["leader" if i == leader else "follower" for i in range(3)]:
                trial.notes.append(f"roles while PostgreSQL was down: {roles}")
        finally:
            postgres_start(self.runner)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and ((self.cluster.health(leader) or {}).get("ha") or {}).get("degraded"):
            time.sleep(0.2)
        now = self.cluster.wait_leader()
        if now != leader:
            trial.notes.append(f"leadership moved from node{leader + 1} to node{now + 1} over the restart")
        self.check_acks(trial, taken, now)
        self.open_ids = self.ids_of(now, [a])

    def run(self, trial: Trial) -> None:
        """One trial of its kind, then three nodes again."""
        if trial.kind == "kill":
            self.kill(trial, "random")
        elif trial.kind == "mid-delivery":
            self.kill(trial, "delivery")
        elif trial.kind == "sigstop":
            self.kill(trial, "freeze")
        elif trial.kind == "mid-escalation":
            self.escalation(trial)
        else:
            self.postgres_restart(trial)
        self.rx.release("general_manager")
        self.restart_dead()
        trial.ended = time.time()
        trial.wall_gap_s = self.wall.longest_gap(trial.started, trial.ended)


def schedule(trials: int, rng: random.Random) -> list[str]:
    """The kinds in a random order: a PostgreSQL restart, then a sixth frozen, a quarter mid-delivery and
    mid-escalation each, the rest killed at a random moment."""
    kinds = ["postgres-restart"]
    kinds += ["sigstop"] * max(1, trials // 6) + ["mid-delivery"] * max(1, trials // 4)
    kinds += ["mid-escalation"] * max(1, trials // 4)
    kinds += ["kill"] * max(0, trials - len(kinds))
    kinds = kinds[:trials]
    rng.shuffle(kinds)
    return kinds
