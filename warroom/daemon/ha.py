"""A warroom node in a cluster: the lease decides whether this node pages; the shared log carries what it needs.

Wiring only (the daemon's room): `Lease` (warroom.daemon.lease) says who leads, `SharedLog`
(warroom.daemon.shared_log) ships the leader's record and mirrors the others', and alerts/takeover.py
turns the engine on and off. The order of a takeover matters and is kept here:

1. the lease is ours (PostgreSQL's clock, a new epoch);
2. the mirror catches up with everything the old leader shipped (its last rows went in before the
   lease could move: a takeover waits on the fence's share lock);
3. the shared log ships under the new epoch, then the engine reloads and resumes unconfirmed pages
   (marked "resent after failover"), then it decides and pages.

Stepping down is the reverse and immediate: the engine stops deciding and the pager stops sending in
the same moment the lease (or a refused write) says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg

from alerts.engine import AlertEngine
from alerts.takeover import follow_mirror, step_down, take_over
from warroom.config.ha import HaSettings
from warroom.daemon.lease import Leadership, Lease
from warroom.daemon.shared_log import SharedLog
from warroom.store.database import Store

log = logging.getLogger("warroom.ha")

# How long the leader holds an action's answer for its rows to reach the shared log (milliseconds when healthy).
DURABLE_WAIT_S = 3.0


class ClusterNode:
    """This node's part in the cluster; `leading()` is the one answer to "may this node page now"."""

    def __init__(self, settings: HaSettings, cluster: str, store: Store, engine: AlertEngine,
                 clock: Callable[[], datetime], url: str | None = None):
        self.settings, self.cluster, self.engine, self.clock = settings, cluster, engine, clock
        self.node = settings.node_name()
        self.url = settings.url or url
        self._leading = False
        self._lock = threading.Lock()
        self.takeovers = 0
        self.resent = 0
        """Pages sent again by this node after taking over (the old leader may have sent them: duplicates)."""
        self.led_since: datetime | None = None
        self._log_down: tuple[float, datetime] | None = None
        """(the shared log's monotonic unreachable_since, the same moment on this node's clock), stamped once."""
        self.shared = SharedLog(settings.dsn, cluster, self.node, store, connect_timeout=settings.renew_every * 2,
                                on_fenced=self._fenced, on_mirrored=lambda rows: follow_mirror(engine, rows))
        self.lease = Lease(settings.dsn, cluster, self.node, ttl=settings.lease_ttl, renew_every=settings.renew_every,
                           url=self.url, connect_timeout=settings.renew_every, on_change=self._changed,
                           clock=clock, lag=self.lag)
        store.tap = self.shared.tap
        engine.leading = self.leading
        engine.pager.hold()  # nothing leaves this node before the lease says it leads
        engine.pager.may_send = self.leading

    def leading(self) -> bool:
        """May this node decide and page now (it holds a fresh lease and has taken over)."""
        return self._leading and self.lease.leading()

    def leader_url(self) -> tuple[str | None, str | None]:
        """The node holding the lease and its API's address (as of this node's last look)."""
        holder = self.lease.state.holder
        if holder is None:  # not looked yet (catching up at start): ask PostgreSQL rather than refuse an ack
            return self.lease.peek()
        return holder, next((str(n["url"]) for n in self.lease.seen if n["node"] == holder and n["url"]), None)

    def durable(self) -> bool:
        """Wait (bounded) until what this leader wrote so far is in the shared log; False if it is not."""
        return self.shared.wait_shipped(self.shared.mark(), DURABLE_WAIT_S)

    def lag(self) -> float | None:
        """Seconds this node's share of the shared log trails (rows held unshipped, or a mirror behind)."""
        return self.shared.lag()

    def start(self) -> None:
        """Mirror what the cluster wrote while this node was away, then claim or follow the lease."""
        try:
            self.shared.catch_up()
        except psycopg.Error as err:
            log.error("shared alert log unreachable at start (%s): this node follows until it can read it",
                      type(err).__name__)
        self.shared.start()
        self.lease.start()

    def _changed(self, state: Leadership) -> None:
        """On the lease thread: take over or step down."""
        with self._lock:
            if state.leader and not self._leading and state.unreachable_since is None:
                self._take_over(state)
            elif not state.leader and self._leading:
                self._step_down(f"the lease went to {state.holder} (epoch {state.epoch})")

    def _take_over(self, state: Leadership) -> None:
        try:
            self.shared.catch_up()
        except psycopg.Error as err:
            log.error("cannot read the shared alert log to take over (%s); trying again at the next renewal",
                      type(err).__name__)
            self.lease.state = Leadership(False, state.holder, state.epoch, state.since, state.expires_at)
            return
        previous = self.lease.previous
        self.shared.lead(state.epoch)
        resent = take_over(self.engine, previous if previous and previous != self.node else None)
        if previous and previous != self.node:
            self.resent += resent
        self.takeovers += 1
        self.led_since = state.since
        self._leading = True
        log.warning("node %s leads cluster %s (epoch %d, after %s)", self.node, self.cluster, state.epoch,
                    previous or "nobody")

    def _step_down(self, why: str) -> None:
        self._leading = False
        dropped = step_down(self.engine)
        self.shared.follow()
        log.error("node %s stopped paging: %s (%d queued page(s) left to the leader)", self.node, why, dropped)

    def _fenced(self, epoch: int) -> None:
        with self._lock:
            if self._leading:
                self._step_down(f"the shared alert log refused a write of epoch {epoch}")

    def stop(self) -> None:
        """Ship what is held, hand the lease over at once (a clean stop), stop."""
        self.shared.stop()
        self.lease.stop(release=True)

    def health(self) -> dict[str, Any]:
        """The `ha` object of /api/v1/health and `warroom status`."""
        state = self.lease.state
        degraded = state.as_dict(self.node)["degraded"]
        cause, since = ("lease_store", state.unreachable_since) if degraded is not None else (None, None)
        if degraded is None and (down := self._shared_log_down()) is not None:
            held_s = time.monotonic() - down[0]
            cause, since = "shared_log", down[1]
            degraded = f"HA degraded: shared alert log unreachable for {held_s:.0f}s ({self.shared.held()} rows held)"
        return {
            "node": self.node, "cluster": self.cluster, "url": self.url,
            "role": "leader" if self._leading else "follower",
            "leader": state.holder, "leader_since": state.since.isoformat() if state.since else None,
            "lease_age_s": self.lease.lease_age_s, "epoch": state.epoch or None, "degraded": degraded,
            # what and since when, as data: the wall and `warroom status` word it in the campaign's language and zone
            "degraded_cause": cause, "degraded_since": since.isoformat(timespec="seconds") if since else None,
            "error": state.error,
            "nodes": [{"node": n["node"], "url": n["url"], "last_heartbeat": n["seen_at"],
                       "heartbeat_age_s": n["heartbeat_age_s"], "lag_s": n["lag_s"], "leader": n["leader"]}
                      for n in self.lease.seen],
            "takeovers": self.takeovers, "resent_after_failover": self.resent, "log": self.shared.status(),
        }

    def _shared_log_down(self) -> tuple[float, datetime] | None:
        """Since when the shared log has been unreachable, on this node's clock (stamped at the first look).

        The shipper counts on the monotonic clock; the board asks every refresh, so on a demo night's faster
        clock the stamp is off by at most one look's worth of real seconds.
        """
        mono = self.shared.unreachable_since
        if mono is None:
            self._log_down = None
        elif self._log_down is None or self._log_down[0] != mono:
            self._log_down = (mono, self.clock() - timedelta(seconds=time.monotonic() - mono))
        return self._log_down
