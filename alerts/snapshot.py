"""The one snapshot: per metric, the value, when it was known, its level, its decider and staleness.

The alert engine is the only writer. The live wall, the alerts strip, every page and /metrics
read it; each change of level, staleness, decider or note is also a `level_changes` row written
at the same moment, so replay at T reads back exactly what the wall showed at T.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from alerts.roster import Roster
from warroom.config.models import WarroomConfig
from warroom.store.database import Store
from warroom.store.schema import to_db_ts
from warroom.values import Level, MetricView

# Enough history for a page's "1 minute ago" trend at any polling interval.
TREND_S = 60.0
_TREND_KEEP = 600


class Snapshot:
    """Thread-safe map metric → MetricView, plus a short history for trends."""

    def __init__(self, cfg: WarroomConfig, store: Store, roster: Roster):
        self.cfg = cfg
        self.store = store
        self.roster = roster
        self._lock = threading.Lock()
        self._views: dict[str, MetricView] = {}
        self._recent: dict[str, deque[tuple[datetime, float]]] = {}
        # Who must act on the metric's open alert at that level (set by the engine); else the level's decider.
        self.acting: Callable[[str, Level], str | None] = lambda metric, level: None

    def seed(self, metric: str, value: float | None, ts: datetime | None, level: Level, stale: bool,
             now: datetime) -> None:
        """The state at start (last stored value, reloaded alert level); recorded like any change."""
        self.set(metric, now, value=value, ts=ts, level=level, stale=stale, force=True)

    def get(self, metric: str) -> MetricView | None:
        """The current view of one metric."""
        with self._lock:
            return self._views.get(metric)

    def read(self) -> dict[str, MetricView]:
        """A copy of every view, safe to use without the lock."""
        with self._lock:
            return dict(self._views)

    def owner(self, metric: str, level: Level, now: datetime) -> tuple[str | None, str | None]:
        """Role and name of who must act at `level` now: whoever holds the alert (escalated-to, acknowledged),
        else the level's decider (nobody at green)."""
        role = self.acting(metric, level) or self.cfg.owner_role(metric, level)
        return role, self.roster.name(role, now) if role else None

    def set(self, metric: str, now: datetime, *, value: float | None, ts: datetime | None, level: Level,
            stale: bool, note: str | None = None, alert_id: int | None = None, force: bool = False) -> MetricView:
        """Replace a metric's view; record a row when what the wall shows of it changed."""
        role, name = self.owner(metric, level, now)
        with self._lock:
            old = self._views.get(metric)
            # A number coming or going is a change of what the wall shows (0 of 0 orders after the close: "—"),
            # and NaN samples are not stored: replay knows it only from this row.
            shown = (level.word, stale, role, name, note, value is None)
            changed = force or old is None or \
                (old.level, old.stale, old.owner_role, old.owner_name, old.note, old.value is None) != shown
            view = MetricView(metric, value, ts, level.word, stale, role, name,
                              now if changed or old is None else old.since, note)
            self._views[metric] = view
            if value is not None and ts is not None and not stale:
                recent = self._recent.setdefault(metric, deque(maxlen=_TREND_KEEP))
                if not recent or recent[-1][0] < ts:
                    recent.append((ts, value))
        if changed:
            self.store.record("level_changes",
                              [to_db_ts(now), metric, level.word, stale, role, name, value, alert_id, note])
        return view

    def mark_stale(self, metric: str, now: datetime, stale: bool) -> None:
        """Flip the stale flag (the timer's job), keeping value and level; a shift handover is recorded too."""
        view = self.get(metric)
        if view is None:
            return
        if view.stale == stale and self.owner(metric, Level.from_word(view.level), now)[1] == view.owner_name:
            return
        self.set(metric, now, value=view.value, ts=view.ts, level=Level.from_word(view.level), stale=stale,
                 note=view.note)

    def follow(self, metric: str, now: datetime) -> None:
        """Record a change of who must act on the metric (an escalation, an acknowledgement) at `now`."""
        view = self.get(metric)
        if view is not None:
            self.set(metric, now, value=view.value, ts=view.ts, level=Level.from_word(view.level), stale=view.stale,
                     note=view.note)

    def value_before(self, metric: str, at: datetime) -> float | None:
        """The value about a minute before `at` (for a page's trend), or None when too young."""
        with self._lock:
            recent = list(self._recent.get(metric, ()))
        target = at - timedelta(seconds=TREND_S)
        before = [v for t, v in recent if t <= target]
        return before[-1] if before else None
