"""The board as data: one tile per metric with its level and the owner who decides, plus the campaign.

The same function builds the live board (from the daemon's in-memory latest values) and the
board as it was at any past second (from the store), so replay shows exactly what the wall showed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts.levels import Level, raw_level
from warroom.config import WarroomConfig
from warroom.history import Point, first_value_after, last_runs_at, latest_at, value_at
from warroom.store import RunRecord, Store

# How far back a board at a past moment looks for a metric's last value. Past this the tile
# says "no data" rather than showing a value from another part of the night.
LOOKBACK_S = 3600.0
# The KPI pace is the order rate over this window; long enough to smooth the 5-minute refresh.
PACE_WINDOW_S = 300.0
# A pace measured over less than this is noise; from here on it is projected and its window is reported,
# so the board can say how rough the projection still is.
MIN_PACE_S = 60.0


class LatestValues:
    """The newest committed value of every metric and the last run of every collector, in memory.

    Written by the writer thread after each commit, read by API threads; the live board never
    touches the database for these.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, Point] = {}
        self.runs: dict[str, RunRecord] = {}

    def update(self, values: dict[str, Point], runs: list[RunRecord]) -> None:
        """Merge a committed batch (values newer than what is held win)."""
        with self._lock:
            for metric, point in values.items():
                held = self.values.get(metric)
                if held is None or point[0] >= held[0]:
                    self.values[metric] = point
            for run in runs:
                self.runs[run.collector] = run

    def snapshot(self) -> tuple[dict[str, Point], dict[str, RunRecord]]:
        """Copies safe to read without the lock."""
        with self._lock:
            return dict(self.values), dict(self.runs)


@dataclass(frozen=True)
class CampaignWindow:
    """The resolved campaign clock for this run of the daemon."""

    name: str
    start: datetime | None
    end: datetime


def owner_of(cfg: WarroomConfig, metric: str, level: Level) -> dict[str, str] | None:
    """Role, name and phone of who decides for `metric` at `level`."""
    role = cfg.owner_role(metric, level)
    if role is None:
        return None
    person = cfg.people.get(role)
    return {"role": role, "name": person.name if person else role, "phone": person.phone if person else ""}


def build_tiles(
    cfg: WarroomConfig, values: dict[str, Point], runs: dict[str, RunRecord], at: datetime,
    levels: dict[str, Level] | None = None,
) -> list[dict[str, Any]]:
    """One tile per configured metric, in config order; `levels` are the alert engine's (with hysteresis)."""
    feeders = cfg.feeders()
    tiles = []
    for metric, spec in cfg.metrics.items():
        point = values.get(metric)
        feeder = feeders.get(metric)
        run = runs.get(feeder.name) if feeder else None
        stale_after = cfg.stale_after(metric)
        tile: dict[str, Any] = {
            "metric": metric, "title": spec.title, "unit": spec.unit, "direction": spec.direction,
            "decimals": spec.decimals,
            "thresholds": {"yellow": spec.yellow, "orange": spec.orange, "red": spec.red},
            "value": None, "ts": None, "age_s": None, "stale": True, "stale_after_s": stale_after,
            "level": "stale", "owner": owner_of(cfg, metric, Level.YELLOW),
            "collector": feeder.name if feeder else None,
            "error": run.error if run and not run.ok else None,
        }
        if point is not None:
            ts, value = point
            age = max(0.0, (at - ts).total_seconds())
            level = levels[metric] if levels and metric in levels else raw_level(value, spec.rule())
            tile.update(value=value, ts=ts.isoformat(), age_s=round(age, 3))
            if age <= stale_after:
                tile.update(stale=False, level=level.word, owner=owner_of(cfg, metric, level))
        tiles.append(tile)
    return tiles


def campaign_header(
    cfg: WarroomConfig, window: CampaignWindow, at: datetime, kpi_now: Point | None, kpi_before: Point | None
) -> dict[str, Any]:
    """Name, countdown and KPI with the total projected at the current pace."""
    remaining = (window.end - at).total_seconds()
    head: dict[str, Any] = {
        "name": window.name, "timezone": cfg.campaign.timezone, "locale": cfg.campaign.locale,
        "start": window.start.isoformat() if window.start else None, "end": window.end.isoformat(),
        "seconds_remaining": round(remaining, 3), "kpi": None,
    }
    kpi = cfg.campaign.kpi
    if kpi is None:
        return head
    value = kpi_now[1] if kpi_now else None
    pace = span = None
    if kpi_now and kpi_before and (kpi_now[0] - kpi_before[0]).total_seconds() >= MIN_PACE_S:
        span = (kpi_now[0] - kpi_before[0]).total_seconds()
        # A counter that went down (a reset, a correction) is no pace to project: never a negative one.
        pace = max(0.0, (kpi_now[1] - kpi_before[1]) / span)
    projected = None
    if value is not None:
        projected = value + max(0.0, pace or 0.0) * max(0.0, remaining) if pace is not None else value
    head["kpi"] = {
        "metric": kpi.metric, "title": kpi.title, "value": value, "target": kpi.target,
        "progress": (value / kpi.target) if value is not None else None,
        "pace_per_min": pace * 60 if pace is not None else None,
        "pace_window_s": round(span, 1) if span is not None else None,
        "projected": round(projected, 1) if projected is not None else None,
        "ts": kpi_now[0].isoformat() if kpi_now else None,
    }
    return head


class BoardReader:
    """Builds the board live (memory) or at a past moment (store); shared by the daemon and replay."""

    def __init__(self, cfg: WarroomConfig, store: Store, window: CampaignWindow, latest: LatestValues | None,
                 levels: Callable[[], dict[str, Level]] | None = None):
        self.cfg = cfg
        self.store = store
        self.window = window
        self.latest = latest
        # The live wall shows the engine's level so a tile and its alert never disagree inside a clear band;
        # a past moment shows the level its value had then (pending and hysteresis are not replayed).
        self.levels = levels

    def board(self, now: datetime, at: datetime | None = None) -> dict[str, Any]:
        """The whole board; live from memory when `at` is None and the daemon is running."""
        moment = at or now
        cur = self.store.reader()
        levels = None
        if at is None and self.latest is not None:
            values, runs = self.latest.snapshot()
            levels = self.levels() if self.levels else None
        else:
            values = latest_at(cur, moment, LOOKBACK_S, list(self.cfg.metrics))
            runs = last_runs_at(cur, moment, LOOKBACK_S)
        kpi = self.cfg.campaign.kpi
        kpi_now = values.get(kpi.metric) if kpi else None
        kpi_before = (value_at(cur, kpi.metric, moment - timedelta(seconds=PACE_WINDOW_S), PACE_WINDOW_S)
                      if kpi else None)
        if kpi and kpi_before is None:
            # Younger than the pace window: measure from the first sample, so projecting starts after a minute.
            kpi_before = first_value_after(cur, kpi.metric, moment - timedelta(seconds=PACE_WINDOW_S), moment)
        return {
            "at": moment.isoformat(),
            "live": at is None and self.latest is not None,
            "campaign": campaign_header(self.cfg, self.window, moment, kpi_now, kpi_before),
            "tiles": build_tiles(self.cfg, values, runs, moment, levels),
        }
