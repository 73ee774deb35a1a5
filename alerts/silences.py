"""Silences and maintenance windows: alerts are still recorded, just not paged."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from warroom.store.database import Store
from warroom.store.schema import from_db_ts, to_db_ts


@dataclass(frozen=True)
class Silence:
    """One window; metric None means every metric."""

    id: int
    metric: str | None
    starts_at: datetime
    ends_at: datetime
    author: str
    reason: str
    created_at: datetime

    def covers(self, metric: str, now: datetime) -> bool:
        """True when this window silences `metric` at `now`."""
        return self.starts_at <= now < self.ends_at and (self.metric is None or self.metric == metric)

    def as_dict(self) -> dict[str, object]:
        """The API form."""
        return {"id": self.id, "metric": self.metric, "starts_at": self.starts_at.isoformat(),
                "ends_at": self.ends_at.isoformat(), "author": self.author, "reason": self.reason,
                "created_at": self.created_at.isoformat()}


def _row(item: Silence) -> list[object]:
    """The silences table's row of a window (replaced by id when it ends early)."""
    return [item.id, item.metric, to_db_ts(item.starts_at), to_db_ts(item.ends_at), item.author, item.reason,
            to_db_ts(item.created_at)]


class Silences:
    """Held in memory for the hot path, written through to the silences table."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self.items: list[Silence] = []
        self.reload()

    def reload(self) -> None:
        """Read the windows again from the file (a node taking the lease, its mirror just caught up)."""
        rows = self.store.execute(
            "SELECT id, metric, starts_at, ends_at, author, reason, created_at FROM silences").fetchall()
        self.items = [Silence(r[0], r[1], from_db_ts(r[2]), from_db_ts(r[3]), r[4], r[5], from_db_ts(r[6]))
                      for r in rows]

    def add(self, metric: str | None, starts: datetime, ends: datetime, author: str, reason: str,
            now: datetime) -> Silence:
        """Record a new window."""
        with self._lock:
            next_id = max((s.id for s in self.items), default=0) + 1
            item = Silence(next_id, metric, starts, ends, author, reason, now)
            self.store.record("silences", _row(item))
            self.items.append(item)
            return item

    def end(self, silence_id: int, now: datetime) -> Silence | None:
        """End a window now (the record stays for the replay)."""
        with self._lock:
            for i, item in enumerate(self.items):
                if item.id == silence_id:
                    ended = Silence(item.id, item.metric, item.starts_at, min(item.ends_at, now), item.author,
                                    item.reason, item.created_at)
                    self.items[i] = ended
                    self.store.record("silences", _row(ended))
                    return ended
        return None

    def active(self, now: datetime) -> list[Silence]:
        """Windows in force at `now`."""
        return [s for s in self.items if s.starts_at <= now < s.ends_at]

    def covers(self, metric: str, now: datetime) -> bool:
        """True when some window silences `metric` now."""
        return any(s.covers(metric, now) for s in self.items)

    def why(self, metric: str, now: datetime) -> str:
        """Who silenced it and why, for the alert trail."""
        s = next(s for s in self.items if s.covers(metric, now))
        return f"silence #{s.id} by {s.author} until {s.ends_at.isoformat()}: {s.reason}"
