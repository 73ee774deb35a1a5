"""One snapshot of the daemon per refresh period, shared by every browser session of this board process.

Before this, each session fetched /board and /alerts and rebuilt the same HTML every second, so the
board's cost grew with the number of viewers and about ten saturated one Python process. Now the
first session that needs a newer snapshot fetches it (at most once per period); every other session
ships the same answers and the same HTML (memoised per snapshot, locale and wall). A session that
arrives while a fetch is under way takes the previous snapshot instead of waiting: the kiosk wall is
never held up behind somebody else's fetch.

The hub also measures this process's CPU, which decides when secondary viewers slow down (see viewers.py).
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from app.api_client import ApiRefused, DaemonClient, DaemonUnreachable, EndpointMissing
from app.night_time import rate_of
from app.tiles import parse_ts

# Entries for older snapshots are never asked for again: room for a few walls, phones and sparklines.
MEMO_ENTRIES = 64
# /config changes only when the daemon restarts; re-read it now and then, never per refresh.
CONFIG_EVERY_S = 30.0
# Viewers seen within this window count as watching.
VIEWER_WINDOW_S = 5.0
# `warroom board` turns off Streamlit's gc.collect(2) after every script run (over half the board's CPU);
# one full collection this often keeps cyclic garbage from piling up between Python's own collections.
FULL_GC_EVERY_S = 30.0
# Weight of the newest CPU reading: smooths over a few periods so one slow refresh flips nothing.
CPU_SMOOTHING = 0.3


@dataclass(frozen=True)
class Snapshot:
    """What the daemon said at one moment: the board, the active alerts, or why they are missing."""

    seq: int
    taken: float
    board: dict[str, Any] | None
    board_time: float | None
    alerts: list[dict[str, Any]] | None
    alerts_state: str  # "ok", "unavailable" (no such API) or "unknown" (daemon away)
    error: DaemonUnreachable | None
    offset_s: float = 0.0
    fetch_ms: float = 0.0
    rate: float = 1.0
    """Daemon seconds per real second (the demo night's speed, 0 once it holds): the clock runs on at it."""
    node: str | None = None
    """The name of the node that answered, when the board reads one of several (`--api URL1,URL2`)."""

    @property
    def down_for(self) -> float | None:
        """Seconds since the last good board while the daemon is unreachable, else None."""
        if self.error is None:
            return None
        return max(0.0, self.taken - (self.taken if self.board_time is None else self.board_time))

    def daemon_now(self) -> float:
        """Epoch seconds on the daemon's clock at the moment of this snapshot (run on from the last answer)."""
        if self.board_time is None:
            return self.taken + self.offset_s
        return self.board_time + self.offset_s + (self.taken - self.board_time) * self.rate

    def daemon_time(self, real: float) -> float:
        """A real moment (epoch seconds) on the daemon's clock, e.g. since when it has been unreachable."""
        if self.board_time is None:
            return real + self.offset_s
        return self.board_time + self.offset_s + (real - self.board_time) * self.rate


@dataclass
class _Viewer:
    kiosk: bool
    seen: float


@dataclass
class HubStats:
    """Counters the tests and the benchmark read."""

    fetches: int = 0
    memo_hits: int = 0
    memo_builds: int = 0
    ships: int = 0
    viewers: dict[str, _Viewer] = field(default_factory=dict)


class SnapshotHub:
    """Fetches the daemon's answers once per period for every session of this process."""

    def __init__(self, client: DaemonClient, period_s: float, clock: Callable[[], float] = time.time,
                 process: Any = None):
        self.client = client
        self.period_s = period_s
        client.nodes.every_s = period_s  # the leader is looked for once per refresh, not more
        self.clock = clock
        self._snap: Snapshot | None = None
        self._state = threading.Lock()
        self._fetching = threading.Lock()
        self._memo: OrderedDict[tuple, Any] = OrderedDict()
        self._config: tuple[float, dict[str, Any] | None] = (0.0, None)
        self.stats = HubStats()
        self._process = process if process is not None else psutil.Process()
        self._cpu_mark: tuple[float, float] | None = None
        self.load = 0.0  # smoothed CPU of this process, as a fraction of one core
        self._last_gc = time.monotonic()

    def current(self, max_age_s: float | None = None, wait_s: float = 0.0) -> Snapshot:
        """The newest snapshot, fetching one if the held one is older than `max_age_s` (default: a period).

        While another session fetches, wait at most `wait_s` for its answer (the kiosk wall: the fresher
        data is worth a few milliseconds), else ship the held snapshot at once.
        """
        max_age = self.period_s if max_age_s is None else max_age_s
        snap = self._snap
        if snap is not None and self.clock() - snap.taken < max_age:
            return snap
        # The very first snapshot is always waited for; a failed wait ships what we have.
        got = self._fetching.acquire() if snap is None else self._fetching.acquire(timeout=wait_s) if wait_s > 0 \
            else self._fetching.acquire(blocking=False)
        if not got:
            return snap  # type: ignore[return-value]  # snap is not None when the lock was not awaited
        try:
            snap = self._snap
            if snap is not None and self.clock() - snap.taken < max_age:
                return snap
            fresh = self._fetch(snap)
            self._snap = fresh
            self._measure_cpu()
            self._collect_garbage()
            return fresh
        finally:
            self._fetching.release()

    def _fetch(self, last: Snapshot | None) -> Snapshot:
        started = time.perf_counter()
        seq = (last.seq + 1) if last else 1
        nodes = self.client.nodes
        # Several nodes: read the leader. The first snapshot waits for the survey; later ones never do.
        if last is None:
            nodes.survey()
        else:
            nodes.survey_soon()
        try:
            board = self.client.board()
            node = nodes.name(self.client.answered_by()) if nodes.several else None
        except DaemonUnreachable as err:
            return self._down(last, seq, err, started)
        except (ApiRefused, EndpointMissing) as exc:
            # A daemon that answers /board with an error is as good as gone for the wall.
            err = DaemonUnreachable(self.client.base, self.client.down_since or self.clock(), str(exc))
            return self._down(last, seq, err, started)
        taken = self.clock()
        alerts: list[dict[str, Any]] | None = None
        state = "ok"
        try:
            alerts = self.client.alerts("active")
        except (EndpointMissing, ApiRefused):
            state = "unavailable"
        except DaemonUnreachable:
            state = "unknown"
        with self._state:
            self.stats.fetches += 1
        return Snapshot(seq, taken, board, taken, alerts, state, None, _offset(board, taken),
                        (time.perf_counter() - started) * 1000, rate_of(board), node)

    def _down(self, last: Snapshot | None, seq: int, err: DaemonUnreachable, started: float) -> Snapshot:
        with self._state:
            self.stats.fetches += 1
        board = last.board if last else None
        return Snapshot(seq, self.clock(), board, last.board_time if last else None, None, "unknown", err,
                        last.offset_s if last else 0.0, (time.perf_counter() - started) * 1000,
                        last.rate if last else 1.0, last.node if last else None)

    def memo(self, key: tuple, build: Callable[[], Any]) -> Any:
        """`build()` once per key (keys carry the snapshot's seq): every session ships the same HTML."""
        with self._state:
            if key in self._memo:
                self.stats.memo_hits += 1
                self._memo.move_to_end(key)
                return self._memo[key]
        value = build()
        with self._state:
            self.stats.memo_builds += 1
            self._memo[key] = value
            while len(self._memo) > MEMO_ENTRIES:
                self._memo.popitem(last=False)
        return value

    def config(self) -> dict[str, Any] | None:
        """The daemon's /config (walls, people, metric metadata), re-read every CONFIG_EVERY_S; None if unavailable."""
        fetched, answer = self._config
        if answer is not None and self.clock() - fetched < CONFIG_EVERY_S:
            return answer
        try:
            answer = self.client.config()
        except (DaemonUnreachable, ApiRefused, EndpointMissing):
            return answer  # the last one we had, if any: walls do not vanish while the daemon is away
        self._config = (self.clock(), answer)
        return answer

    def seen(self, session_id: str, kiosk: bool) -> None:
        """Note that a session shipped a refresh (for the viewer counts and the load note)."""
        with self._state:
            self.stats.ships += 1
            self.stats.viewers[session_id] = _Viewer(kiosk, self.clock())

    def viewers(self) -> tuple[int, int]:
        """(kiosk walls, other viewers) that refreshed within the last few seconds."""
        now = self.clock()
        with self._state:
            for sid in [s for s, v in self.stats.viewers.items() if now - v.seen > VIEWER_WINDOW_S * 4]:
                del self.stats.viewers[sid]
            live = [v for v in self.stats.viewers.values() if now - v.seen <= VIEWER_WINDOW_S]
        kiosk = sum(1 for v in live if v.kiosk)
        return kiosk, len(live) - kiosk

    def _collect_garbage(self) -> None:
        now = time.monotonic()
        if now - self._last_gc >= FULL_GC_EVERY_S:
            self._last_gc = now
            gc.collect()

    def _measure_cpu(self) -> None:
        try:
            times = self._process.cpu_times()
        except (psutil.Error, OSError):
            return
        used, now = times.user + times.system, time.monotonic()
        if self._cpu_mark is not None and now > self._cpu_mark[1]:
            share = (used - self._cpu_mark[0]) / (now - self._cpu_mark[1])
            self.load = (1 - CPU_SMOOTHING) * self.load + CPU_SMOOTHING * max(0.0, share)
        self._cpu_mark = (used, now)


def _offset(board: dict[str, Any], taken: float) -> float:
    """The daemon's clock minus ours, from the board's `at`."""
    try:
        moment = parse_ts(board["at"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return 0.0
    return moment.timestamp() - taken if moment else 0.0
