"""Who pages: a leadership lease in PostgreSQL, so of two or three warroom nodes exactly one sends pages.

The lease is one row per cluster, taken and renewed with one statement that reads PostgreSQL's own
clock (never a node's), so clock skew between nodes cannot hand the lease to two of them:

- a node takes the lease when nobody holds it or the holder's `expires_at` has passed; every change of
  holder adds one to `epoch`, which fences a stale leader's writes to the shared alert log;
- the holder renews it every `renew_every`; a renewal that finds another holder means the lease was lost
  (the node was frozen, or cut off longer than `ttl`): the node stops paging at once;
- a renewal that cannot reach PostgreSQL leaves a leader leading ("HA degraded: lease store unreachable
  since …"): a database outage must never silence the war room, and while PostgreSQL is down nobody else
  can take the lease either. If only the leader was cut off, another node takes over after `ttl` and both
  page until the old one reconnects and learns it lost: a duplicate, never a miss. When PostgreSQL comes
  back the lease has expired for everyone; a follower waits one ttl before taking it, so the leader that
  paged through the outage renews it and no takeover (with its resent pages) follows from the outage alone.

Like GoAlert's lease row and Zabbix's HA heartbeat; an advisory lock alone would not do, since a
frozen (SIGSTOPped) leader keeps its session, and with it the lock, forever.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import psycopg

log = logging.getLogger("warroom.ha")

SCHEMA = """
CREATE TABLE IF NOT EXISTS warroom_lease (
    cluster TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch BIGINT NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL, renewed_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS warroom_nodes (
    cluster TEXT NOT NULL, node TEXT NOT NULL, url TEXT, leader BOOLEAN NOT NULL, epoch BIGINT,
    seen_at TIMESTAMPTZ NOT NULL, started_at TIMESTAMPTZ, lag_s DOUBLE PRECISION,
    PRIMARY KEY (cluster, node));
"""

# Take the lease when free or expired, renew it when ours; the holder and epoch that result are returned,
# with the server's clock. A renewal by a node that is no longer the holder changes nothing.
_CLAIM = """
INSERT INTO warroom_lease AS l (cluster, holder, epoch, acquired_at, renewed_at, expires_at)
VALUES (%(cluster)s, %(node)s, 1, clock_timestamp(), clock_timestamp(),
        clock_timestamp() + make_interval(secs => %(ttl)s))
ON CONFLICT (cluster) DO UPDATE SET
    holder = EXCLUDED.holder,
    epoch = CASE WHEN l.holder = EXCLUDED.holder THEN l.epoch ELSE l.epoch + 1 END,
    acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE clock_timestamp() END,
    renewed_at = clock_timestamp(), expires_at = EXCLUDED.expires_at
WHERE l.holder = EXCLUDED.holder OR (%(may_take)s AND l.expires_at < clock_timestamp())
"""
_READ = "SELECT holder, epoch, acquired_at, expires_at, clock_timestamp() FROM warroom_lease WHERE cluster = %s"
_RELEASE = "UPDATE warroom_lease SET expires_at = clock_timestamp() WHERE cluster = %s AND holder = %s"
_SEEN = """
INSERT INTO warroom_nodes (cluster, node, url, leader, epoch, seen_at, started_at, lag_s)
VALUES (%(cluster)s, %(node)s, %(url)s, %(leader)s, %(epoch)s, clock_timestamp(), %(started_at)s, %(lag_s)s)
ON CONFLICT (cluster, node) DO UPDATE SET url = EXCLUDED.url, leader = EXCLUDED.leader, epoch = EXCLUDED.epoch,
    seen_at = EXCLUDED.seen_at, started_at = EXCLUDED.started_at, lag_s = EXCLUDED.lag_s
"""
_PEEK = """SELECT l.holder, n.url FROM warroom_lease l
            LEFT JOIN warroom_nodes n ON n.cluster = l.cluster AND n.node = l.holder
            WHERE l.cluster = %s AND l.expires_at > clock_timestamp()"""
_NODES = """SELECT node, url, leader, epoch, seen_at, started_at, lag_s, clock_timestamp() - seen_at
            FROM warroom_nodes WHERE cluster = %s ORDER BY node"""


@dataclass(frozen=True)
class Leadership:
    """What this node knows of the lease after its last look."""

    leader: bool
    """This node holds the lease (or held it when PostgreSQL became unreachable, and goes on paging)."""
    holder: str | None
    epoch: int
    since: datetime | None
    """When the current holder took the lease (PostgreSQL's clock)."""
    expires_at: datetime | None
    unreachable_since: datetime | None = None
    """Set while PostgreSQL cannot be reached: the wall and /api/v1/health say HA is degraded."""
    error: str | None = None

    def as_dict(self, node: str) -> dict[str, object]:
        """The API form for /api/v1/health and `warroom status`."""
        return {"node": node, "leader": self.leader, "holder": self.holder, "epoch": self.epoch,
                "since": self.since.isoformat() if self.since else None,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "degraded": None if self.unreachable_since is None else
                f"HA degraded: lease store unreachable since {self.unreachable_since.isoformat(timespec='seconds')}",
                "error": self.error}


class Lease:
    """Takes and keeps the cluster's lease on its own thread; `leading()` says whether this node may page.

    `on_change(leadership)` is called on the lease thread whenever this node becomes leader, stops being
    leader, or loses or regains PostgreSQL; the daemon starts and stops paging from it.
    """

    def __init__(self, dsn: str, cluster: str, node: str, *, ttl: float = 3.0, renew_every: float = 1.0,
                 url: str | None = None, connect_timeout: float = 2.0,
                 on_change: Callable[[Leadership], None] | None = None,
                 clock: Callable[[], datetime] | None = None,
                 lag: Callable[[], float | None] = lambda: None):
        if renew_every * 2 > ttl:
            raise ValueError(f"ha: renew_every ({renew_every:g}s) must be at most half of the lease ttl ({ttl:g}s)")
        self.dsn, self.cluster, self.node, self.url = dsn, cluster, node, url
        self.ttl, self.renew_every, self.connect_timeout = ttl, renew_every, connect_timeout
        self.on_change = on_change
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.lag = lag
        self.started_at = self.clock()
        self.state = Leadership(False, None, 0, None, None)
        self.previous: str | None = None
        """Who held the lease before this node took it (None: nobody, or unknown)."""
        self.seen: list[dict[str, object]] = []
        """Every node's last heartbeat, as of this node's last look (for /api/v1/health without a query)."""
        self.lease_age_s: float | None = None
        self.looked_at = time.monotonic()
        """When the last look ended (taken, renewed, lost or unreachable), by this process's monotonic clock."""
        """Seconds since the holder last renewed, by PostgreSQL's clock, as of the last look."""
        self._con: psycopg.Connection | None = None
        self._back_at: float | None = None  # when PostgreSQL answered again after an outage (monotonic)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- one look ------------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        if self._con is None or self._con.closed:
            # Keepalives and a statement timeout: a renewal must fail within the lease, never hang past it.
            self._con = psycopg.connect(self.dsn, autocommit=True, connect_timeout=max(1, int(self.connect_timeout)),
                                        keepalives=1, keepalives_idle=2, keepalives_interval=1, keepalives_count=2,
                                        application_name=f"warroom {self.cluster}/{self.node}")
            timeout_ms = int(self.connect_timeout * 1000)
            self._con.execute(f"SET statement_timeout = {timeout_ms}")
            self._con.execute(SCHEMA)
        return self._con

    def look(self) -> Leadership:
        """Claim or renew the lease once, record this node's heartbeat, and return what is now known."""
        before = self.state
        try:
            con = self._connect()
            if not before.leader:  # who led before us, should the claim below make us the leader
                found = con.execute(_READ, (self.cluster,)).fetchone()
                self.previous = found[0] if found else None
            if before.unreachable_since is not None:
                self._back_at = time.monotonic()
            # Back from a lease-store outage, the lease has expired for everyone: the node that paged through
            # the outage renews first (within a renewal), so a follower waits one ttl before taking it over.
            may_take = self._back_at is None or time.monotonic() - self._back_at >= self.ttl
            con.execute(_CLAIM, {"cluster": self.cluster, "node": self.node, "ttl": self.ttl, "may_take": may_take})
            holder, epoch, since, expires, server_now = con.execute(_READ, (self.cluster,)).fetchone()
            leading = holder == self.node
            con.execute(_SEEN, {"cluster": self.cluster, "node": self.node, "url": self.url, "leader": leading,
                                "epoch": epoch if leading else None, "started_at": self.started_at,
                                "lag_s": self.lag()})
            self.seen = self._nodes(con.execute(_NODES, (self.cluster,)).fetchall())
            self.lease_age_s = round(self.ttl - (expires - server_now).total_seconds(), 3)
            now = Leadership(leading, holder, epoch, since, expires)
        except psycopg.Error as err:
            self._drop()
            # Keep leading if we were: paging from what we hold beats silence. A follower stays one.
            now = replace(before, unreachable_since=before.unreachable_since or self.clock(),
                          error=f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}")
        self.looked_at = time.monotonic()
        self._set(now)
        return now

    def _set(self, now: Leadership) -> None:
        with self._lock:
            before, self.state = self.state, now
        changed = (before.leader, before.holder, before.epoch, before.unreachable_since is None) != \
                  (now.leader, now.holder, now.epoch, now.unreachable_since is None)
        if not changed:
            return
        if now.unreachable_since is not None and before.unreachable_since is None:
            log.error("HA degraded: lease store unreachable (%s); %s", now.error,
                      "still paging from what this node holds" if now.leader else "not taking over")
        elif now.leader and not before.leader:
            log.warning("this node (%s) now leads cluster %s (epoch %d): it pages", self.node, self.cluster, now.epoch)
        elif before.leader and not now.leader and now.holder == self.node:
            log.warning("this node (%s) handed the lease of cluster %s over (a clean stop)", self.node, self.cluster)
        elif before.leader and not now.leader:
            log.error("this node (%s) lost the lease of cluster %s to %s (epoch %d): it stops paging", self.node,
                      self.cluster, now.holder, now.epoch)
        elif before.unreachable_since is not None and now.unreachable_since is None:
            log.warning("lease store reachable again; %s leads cluster %s", now.holder, self.cluster)
        if self.on_change is not None:
            self.on_change(now)

    def leading(self) -> bool:
        """May this node page now: it holds the lease, and its last look is younger than the lease.

        A process frozen (SIGSTOP, a VM paused) longer than the ttl has not looked, whatever it held:
        once thawed it decides nothing until its next look says whether the lease is still its own.
        While PostgreSQL is unreachable the looks go on failing within `connect_timeout`, so a leader
        keeps paging (see the module's docstring).
        """
        with self._lock:
            return self.state.leader and time.monotonic() - self.looked_at < self.ttl

    def nodes(self) -> list[dict[str, object]]:
        """Every node of the cluster with its last heartbeat and lag (for `warroom status` and /health)."""
        try:
            rows = self._connect().execute(_NODES, (self.cluster,)).fetchall()
        except psycopg.Error:
            self._drop()
            return []
        return self._nodes(rows)

    def peek(self) -> tuple[str | None, str | None]:
        """Who holds a live lease and its API's address, read now without claiming; (None, None) if unknown.

        For a node that has not looked yet (it is still catching up with the shared log at start) and is
        asked where the leader is: on its own connection, so the lease thread's renewals never wait on it.
        """
        try:
            with psycopg.connect(self.dsn, autocommit=True, connect_timeout=max(1, int(self.connect_timeout)),
                                 application_name=f"warroom {self.cluster}/{self.node} peek") as con:
                con.execute(f"SET statement_timeout = {int(self.connect_timeout * 1000)}")
                row = con.execute(_PEEK, (self.cluster,)).fetchone()
        except psycopg.Error:
            return None, None
        return (row[0], row[1]) if row else (None, None)

    @staticmethod
    def _nodes(rows: list[tuple]) -> list[dict[str, object]]:
        return [{"node": r[0], "url": r[1], "leader": r[2], "epoch": r[3], "seen_at": r[4].isoformat(),
                 "started_at": r[5].isoformat() if r[5] else None, "lag_s": r[6],
                 "heartbeat_age_s": round(r[7].total_seconds(), 3)} for r in rows]

    # --- the thread ----------------------------------------------------------------------------

    def start(self) -> Leadership:
        """One look now (so a lone node leads before it serves), then renew on a thread."""
        first = self.look()
        self._thread = threading.Thread(target=self._run, name="ha-lease", daemon=True)
        self._thread.start()
        return first

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            next_at += self.renew_every
            if self._stop.wait(max(0.0, next_at - time.monotonic())):
                break
            try:
                self.look()
            except Exception:  # noqa: BLE001 - the lease thread must outlive a bad moment
                log.exception("lease renewal failed")
            if time.monotonic() - next_at > self.renew_every:
                next_at = time.monotonic()  # after a freeze, renew now rather than catch up in a burst

    def stop(self, release: bool = True) -> None:
        """Stop renewing; a clean stop hands the lease over at once instead of after its ttl."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.ttl)
        if release and self.state.leader:
            try:
                self._connect().execute(_RELEASE, (self.cluster, self.node))
            except psycopg.Error:
                pass
        self._set(replace(self.state, leader=False))
        self._drop()

    def _drop(self) -> None:
        if self._con is not None:
            try:
                self._con.close()
            except psycopg.Error:
                pass
        self._con = None
