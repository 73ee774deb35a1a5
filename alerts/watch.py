"""What the timer checks besides acks: staleness, silence (no data) and the end of a metric's watch.

Pure questions over the config and the snapshot; the engine acts on the answers (records a stale
tile, opens a no-data alert), so every rule about time passing without data lives in one place.
"""

from __future__ import annotations

from datetime import datetime

from alerts.snapshot import Snapshot
from warroom.config.models import WarroomConfig
from warroom.values import Level


class Watch:
    """Which metrics are stale, silent too long, or no longer watched, at a moment."""

    def __init__(self, cfg: WarroomConfig, snapshot: Snapshot):
        self.cfg = cfg
        self.snapshot = snapshot
        self.campaign_end: datetime | None = None

    def ended(self, metric: str, now: datetime) -> bool:
        """True after the campaign's end for a metric watched only until then."""
        spec = self.cfg.metrics.get(metric)
        return bool(spec and spec.until_end and self.campaign_end and now >= self.campaign_end)

    def is_stale(self, metric: str, ts: datetime | None, now: datetime) -> bool:
        """No value, or one older than the metric's stale_after."""
        return ts is None or (now - ts).total_seconds() > self.cfg.stale_after(metric)

    def refresh(self, now: datetime) -> None:
        """Flip each tile's stale flag (recorded) and mark the metrics whose watch ended."""
        for metric, view in self.snapshot.read().items():
            if self.ended(metric, now):
                if view.note != "watch_ended":
                    self.snapshot.set(metric, now, value=view.value, ts=view.ts, level=Level.GREEN, stale=False,
                                      note="watch_ended")
                continue
            self.snapshot.mark_stale(metric, now, self.is_stale(metric, view.ts, now))

    def silent(self, now: datetime, started_at: datetime | None, skip: set[str]) -> list[str]:
        """Metrics with no sample for longer than stale_after (counting from the start at most)."""
        since_start = started_at or now
        silent = []
        for metric, spec in self.cfg.metrics.items():
            if metric in skip or self.ended(metric, now):
                continue
            if spec.pushed and spec.stale_after is None:
                continue  # a system that pushes only on change is not silent when it says nothing
            view = self.snapshot.get(metric)
            seen = view.ts if view else None
            age = (now - (seen if seen and seen > since_start else since_start)).total_seconds()
            if age > self.cfg.stale_after(metric):
                silent.append(metric)
        return silent
