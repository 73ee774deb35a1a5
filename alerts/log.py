"""The alert log: alerts and every step of them in DuckDB, written before anything is sent.

A restart rebuilds the engine from here: open alerts with their ack and escalation state, and
notifications that were decided but not yet delivered.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from warroom.store.database import Store
from warroom.store.schema import first_row, from_db_ts, to_db_ts
from warroom.values import Level

_COLUMNS = ("id, metric, kind, opened_at, level, peak_level, state, owner_role, acked_by, acked_at, escalated_to, "
            "escalated_at, resolved_at, updated_at, level_since, last_page_at, green_since, delivery_failed, value, "
            "threshold, paged_roles, rise, acked_level, ack_clock_at, exhausted")


@dataclass
class Alert:
    """One episode of one metric (kind `level`) or of its silence (kind `no_data`)."""

    id: int
    metric: str
    kind: str
    opened_at: datetime
    level: Level
    peak_level: Level
    state: str = "open"
    owner_role: str | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    escalated_to: str | None = None
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None
    updated_at: datetime | None = None
    level_since: datetime | None = None
    last_page_at: datetime | None = None
    green_since: datetime | None = None
    delivery_failed: bool = False
    value: float | None = None
    threshold: float | None = None
    paged_roles: list[str] = field(default_factory=list)
    rise: int = 0
    """How many times this episode rose (or broke out of recovery): each rise is its own page step."""
    acked_level: Level | None = None
    """The level the acknowledgement was made at; a rise above it voids the acknowledgement."""
    ack_clock_at: datetime | None = None
    """When the decider's time to acknowledge began: when their page was sent, not when the sample was taken."""
    exhausted: bool = False
    """Everybody in the escalation chain was paged (or unreachable) and nobody acknowledged."""

    @property
    def recovering(self) -> bool:
        """Back to green, waiting `resolve_after` before it resolves."""
        return self.green_since is not None and self.state != "resolved"

    def row(self) -> list[Any]:
        """Values in _COLUMNS order."""
        ts = to_db_ts
        return [self.id, self.metric, self.kind, ts(self.opened_at), self.level.word, self.peak_level.word,
                self.state, self.owner_role, self.acked_by, self.acked_at and ts(self.acked_at), self.escalated_to,
                self.escalated_at and ts(self.escalated_at), self.resolved_at and ts(self.resolved_at),
                ts(self.updated_at or self.opened_at), ts(self.level_since or self.opened_at),
                self.last_page_at and ts(self.last_page_at), self.green_since and ts(self.green_since),
                self.delivery_failed, self.value, self.threshold, ",".join(self.paged_roles), self.rise,
                self.acked_level.word if self.acked_level is not None else None,
                self.ack_clock_at and ts(self.ack_clock_at), self.exhausted]

    @classmethod
    def from_row(cls, r: tuple) -> Alert:
        """Inverse of row()."""
        t = from_db_ts
        return cls(r[0], r[1], r[2], t(r[3]), Level.from_word(r[4]), Level.from_word(r[5]), r[6], r[7], r[8], t(r[9]),
                   r[10], t(r[11]), t(r[12]), t(r[13]), t(r[14]), t(r[15]), t(r[16]), r[17], r[18], r[19],
                   [x for x in (r[20] or "").split(",") if x], r[21] or 0,
                   Level.from_word(r[22]) if r[22] else None, t(r[23]), bool(r[24]))


@dataclass(frozen=True)
class EventRow:
    """One row of an alert's trail, for `AlertLog.events`."""

    ts: datetime
    alert_id: int
    event: str
    level: str | None
    role: str | None
    person: str | None
    channel: str | None
    step: str | None
    ok: bool | None = None
    detail: str | None = None


@dataclass(frozen=True)
class PendingNotice:
    """A notification decided before a stop and not yet delivered or given up."""

    step: str
    alert_id: int
    role: str | None
    channel: str
    kind: str
    failed_attempts: int


class AlertLog:
    """The one class the engine talks to about its record: alerts, their steps, and what was paged.

    Decisions are made from memory (open alerts, steps already paged, steps delivered), never from a
    read of the file, so a disk that refuses writes neither stops nor repeats a page. Writes go through
    the store's backlog (warroom.store.backlog): at once while the disk takes them, else held in order.
    A second implementation (PostgreSQL, for high availability) keeps this interface.
    """

    def __init__(self, store: Store):
        self.store = store
        self.lock = threading.RLock()
        self._next_id = 1
        # A read-only file (an archive) is read with queries; a live night keeps its working set here.
        self.live = store.backlog is not None
        self.reload()

    def reload(self) -> None:
        """Read the working set again from the file (a node taking the lease, its mirror just caught up)."""
        with self.lock:
            self._reload()

    def _reload(self) -> None:
        store = self.store
        row = first_row(store.execute("SELECT coalesce(max(id), 0) FROM alerts"))
        self._next_id = max(self._next_id, int(row[0]) + 1 if row else 1)
        self._open: dict[int, Alert] = {}
        self._paged: set[str] = set()
        self._delivered: set[str] = set()
        if self.live:
            rows = store.execute(f"SELECT {_COLUMNS} FROM alerts WHERE state <> 'resolved' ORDER BY id").fetchall()
            self._open = {r[0]: Alert.from_row(r) for r in rows}
            for step, event in store.execute(
                    """SELECT DISTINCT step, event FROM alert_events WHERE step IS NOT NULL
                       AND event IN ('notify', 'silenced', 'delivered', 'unconfirmed')""").fetchall():
                self._remember(step, event)

    def new_id(self) -> int:
        """The next alert id (ids are never reused, also across restarts)."""
        with self.lock:
            value = self._next_id
            self._next_id += 1
            return value

    def exists(self, alert_id: int) -> bool:
        """True when an alert with this id was ever opened."""
        return 0 < alert_id < self._next_id

    def save(self, alert: Alert) -> None:
        """Record the alert's current state (the row is replaced by id)."""
        with self.lock:
            if alert.state == "resolved":
                self._open.pop(alert.id, None)
            else:
                self._open[alert.id] = replace(alert, paged_roles=list(alert.paged_roles))
            self.store.record("alerts", alert.row(), _COLUMNS)

    def event(self, ts: datetime, alert: Alert | int, event: str, *, level: Level | str | None = None,
              role: str | None = None, person: str | None = None, channel: str | None = None,
              ok: bool | None = None, detail: str | None = None, step: str | None = None) -> None:
        """Append one row to the alert's trail."""
        alert_id = alert if isinstance(alert, int) else alert.id
        if level is None and not isinstance(alert, int):
            level = alert.level
        word = level.word if isinstance(level, Level) else level
        with self.lock:
            self._remember(step, event)
            self.store.record("alert_events", [to_db_ts(ts), alert_id, event, word, role, person, channel, ok,
                                               detail, step])

    def events(self, rows: list[EventRow]) -> None:
        """Several rows of the trail in one transaction: written all together (or held in order), never some.

        The pages of a step (one row per channel) and a burst of delivery outcomes hold the log's lock and
        the database once, not once a row.
        """
        if not rows:
            return
        with self.lock:
            for row in rows:
                self._remember(row.step, row.event)
            self.store.record_all("alert_events", [[to_db_ts(r.ts), r.alert_id, r.event, r.level, r.role, r.person,
                                                    r.channel, r.ok, r.detail, r.step] for r in rows])

    def mirror(self, alert: Alert) -> None:
        """An alert's row another node wrote (a follower's mirror): in the working set, never written again."""
        with self.lock:
            self._next_id = max(self._next_id, alert.id + 1)
            if alert.state == "resolved":
                self._open.pop(alert.id, None)
            else:
                self._open[alert.id] = replace(alert, paged_roles=list(alert.paged_roles))

    def mirror_event(self, step: str | None, event: str) -> None:
        """A trail row another node wrote: what was paged and delivered counts here too."""
        with self.lock:
            self._remember(step, event)

    def _remember(self, step: str | None, event: str) -> None:
        """Keep what decides a page in memory: steps already paged, and steps that reached (or may have) someone."""
        if step is not None and event in ("notify", "silenced"):
            self._paged.add(step)
        elif step is not None and event in ("delivered", "unconfirmed"):
            self._delivered.add(step)

    def open_alerts(self) -> list[Alert]:
        """Alerts not yet resolved (for a restart: copies the engine may change)."""
        with self.lock:
            if self.live:
                return [replace(a, paged_roles=list(a.paged_roles)) for _, a in sorted(self._open.items())]
            rows = self.store.execute(f"SELECT {_COLUMNS} FROM alerts WHERE state <> 'resolved' ORDER BY id").fetchall()
        return [Alert.from_row(r) for r in rows]

    def pending_notices(self) -> list[PendingNotice]:
        """Deliveries decided but not finished: a notify row with no final outcome on the same channel."""
        with self.lock:
            rows = self.store.execute(
                """SELECT n.step, n.alert_id, n.role, n.channel, n.detail,
                          (SELECT count(*) FROM alert_events f WHERE f.step = n.step AND f.channel = n.channel
                           AND f.event = 'delivery_failed')
                   FROM alert_events n
                   WHERE n.event = 'notify' AND n.step IS NOT NULL AND NOT EXISTS (
                       SELECT 1 FROM alert_events d WHERE d.step = n.step AND d.channel = n.channel
                       AND d.event IN ('delivered', 'undelivered', 'unconfirmed'))
                   ORDER BY n.ts""").fetchall()
        return [PendingNotice(*r) for r in rows]

    def load(self, alert_id: int) -> Alert | None:
        """One alert by id, open or resolved (what the backlog still holds counts)."""
        with self.lock:
            held = self._open.get(alert_id)
            if held is not None:
                return replace(held, paged_roles=list(held.paged_roles))
            waiting = [r for r in self._held("alerts") if r[0] == alert_id]
            if waiting:
                return Alert.from_row(waiting[-1])
            row = first_row(self.store.execute(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", [alert_id]))
        return Alert.from_row(row) if row else None

    def delivered(self, step: str) -> bool:
        """True when any channel confirmed the page of `step`, or sent it with no answer (it may have arrived)."""
        with self.lock:
            if self.live:
                return step in self._delivered
            return first_row(self.store.execute(
                "SELECT count(*) FROM alert_events WHERE step = ? AND event IN ('delivered', 'unconfirmed')",
                [step]))[0] > 0

    def step_done(self, step: str) -> bool:
        """True when a notify intent for `step` was already decided (so a restart never repeats it)."""
        with self.lock:
            if self.live:
                return step in self._paged
            return first_row(self.store.execute(
                "SELECT count(*) FROM alert_events WHERE step = ? AND event IN ('notify', 'silenced')", [step]))[0] > 0

    def _held(self, table: str) -> list[tuple]:
        """Rows of `table` the backlog still holds (written to the file once the disk takes them)."""
        return self.store.backlog.pending(table) if self.store.backlog is not None else []

    def alerts_between(self, start: datetime, end: datetime, state: str) -> list[tuple[Alert, list[dict]]]:
        """Open alerts always (live: whatever the engine holds, whatever the clock says); resolved ones in [start, end].

        Each with its event trail, rows still held in the backlog included.
        """
        keep = {"active": lambda a: a.state != "resolved", "open": lambda a: a.state == "open",
                "acked": lambda a: a.state == "acked", "resolved": lambda a: a.state == "resolved",
                "all": lambda a: True}[state]
        with self.lock:
            found: dict[int, Alert] = {}
            if state in ("resolved", "all") or not self.live:
                where = {"active": "state <> 'resolved'", "open": "state = 'open'", "acked": "state = 'acked'",
                         "resolved": "state = 'resolved'", "all": "TRUE"}[state]
                rows = self.store.execute(
                    f"""SELECT {_COLUMNS} FROM alerts WHERE {where} AND opened_at <= ?
                        AND (resolved_at IS NULL OR resolved_at >= ?) ORDER BY opened_at DESC LIMIT 500""",
                    [to_db_ts(end), to_db_ts(start)]).fetchall()
                found = {r[0]: Alert.from_row(r) for r in rows}
                for r in self._held("alerts"):
                    held = Alert.from_row(r)
                    if held.resolved_at is None or (held.opened_at <= end and held.resolved_at >= start):
                        found[held.id] = held
            if self.live:
                for alert_id in [i for i, a in found.items() if a.state != "resolved" and i not in self._open]:
                    del found[alert_id]  # resolved since, in memory: the file's row is an older state
                found.update({i: replace(a, paged_roles=list(a.paged_roles)) for i, a in self._open.items()})
            alerts = sorted((a for a in found.values() if keep(a)), key=lambda a: a.id, reverse=True)
            ids = [a.id for a in alerts]
            events = self.store.execute(
                """SELECT alert_id, ts, event, level, role, person, channel, ok, detail FROM alert_events
                   WHERE alert_id IN (SELECT unnest(?)) ORDER BY ts""", [ids]).fetchall() if ids else []
            wanted = set(ids)
            events += [(r[1], r[0], *r[2:9]) for r in self._held("alert_events") if r[1] in wanted]
        trail: dict[int, list[dict]] = {i: [] for i in ids}
        for e in events:
            trail[e[0]].append({"ts": from_db_ts(e[1]).isoformat(), "event": e[2], "level": e[3], "role": e[4],
                                "person": e[5], "channel": e[6], "ok": e[7], "detail": e[8]})
        return [(a, trail[a.id]) for a in alerts]
