"""The board as data: one tile per metric with its level and the owner who decides, plus the campaign.

The same function builds the live board (from the engine's snapshot of every metric) and the board
as it was at any past second (rebuilt from the record by warroom.record.views), so replay shows
exactly what the wall showed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from alerts.roster import Roster
from warroom.config.models import WarroomConfig
from warroom.record.views import views_at
from warroom.store.database import Store
from warroom.store.queries import Point, first_value_after, last_runs_at, value_at
from warroom.store.writer import LatestValues
from warroom.values import CampaignWindow, Level, MetricView, RunRecord

# How far back a board at a past moment looks for a metric's last value. Past this the tile
# says "no data" rather than showing a value from another part of the night.
LOOKBACK_S = 3600.0
# The KPI pace is the order rate over this window; long enough to smooth the 5-minute refresh.
PACE_WINDOW_S = 300.0
# Without a known start of the record, a past moment looks this far back (the API's longest window).
RECORD_HORIZON = timedelta(days=8)
# A pace measured over less than this is noise; from here on it is projected and its window is reported,
# so the board can say how rough the projection still is.
MIN_PACE_S = 60.0


def real_clock() -> dict[str, Any]:
    """How the board's clock runs outside demo mode: the real time, at its own speed."""
    return {"demo": False, "rate": 1.0, "speed": None, "ended": False, "name": "", "end": None}


def owner_of(cfg: WarroomConfig, metric: str, level: Level) -> dict[str, str] | None:
    """Role, name and phone of who decides for `metric` at `level`."""
    role = cfg.owner_role(metric, level)
    if role is None:
        return None
    person = cfg.people.get(role)
    return {"role": role, "name": person.name if person else role, "phone": person.phone if person else ""}


def build_tiles(cfg: WarroomConfig, views: Mapping[str, MetricView], runs: dict[str, RunRecord],
                at: datetime, phone_of: Callable[[str], str] | None = None) -> list[dict[str, Any]]:
    """One tile per configured metric, in config order, from the one snapshot of each metric.

    `phone_of` gives the phone of whoever holds a role now (a stand-in's, not the config's).
    """
    feeders = cfg.feeders()
    tiles = []
    for metric, spec in cfg.metrics.items():
        view = views.get(metric)
        feeder = feeders.get(metric)
        run = runs.get(feeder.name) if feeder else None
        tile: dict[str, Any] = {
            "metric": metric, "title": spec.title, "unit": spec.unit, "direction": spec.direction,
            "decimals": spec.decimals, "group": spec.group,
            "thresholds": {"yellow": spec.yellow, "orange": spec.orange, "red": spec.red},
            "value": None, "ts": None, "age_s": None, "stale": True, "stale_after_s": cfg.stale_after(metric),
            "level": "stale", "owner": owner_of(cfg, metric, Level.YELLOW), "since": None, "note": None,
            "collector": feeder.name if feeder else None,
            "error": run.error if run and not run.ok else None,
        }
        if view is not None:
            if view.ts is not None:
                tile.update(value=view.value, ts=view.ts.isoformat(),
                            age_s=round(max(0.0, (at - view.ts).total_seconds()), 3))
            tile.update(note=view.note, since=view.since.isoformat() if view.since else None)
            if not view.stale:
                person = cfg.people.get(view.owner_role or "")
                phone = phone_of(view.owner_role) if phone_of and view.owner_role else (person.phone if person else "")
                tile.update(stale=False, level=view.level, owner=None if view.owner_role is None else {
                    "role": view.owner_role, "name": view.owner_name or view.owner_role, "phone": phone})
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
    # After the close there is nothing left to project: the count is final, and a pace over the last
    # minutes of the night beside a frozen 8,127 ("40.8/min" at 00:03) says orders are still coming.
    closed = remaining <= 0
    if not closed and kpi_now and kpi_before and (kpi_now[0] - kpi_before[0]).total_seconds() >= MIN_PACE_S:
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
        "ts": kpi_now[0].isoformat() if kpi_now else None, "closed": closed,
    }
    return head


def phones_then(cfg: WarroomConfig, store: Store, at: datetime) -> Callable[[str], str]:
    """The phone of whoever held a role at `at` (a stand-in's, from the duty table), as the wall showed it then."""
    then = Roster(cfg, store, as_of=at)

    def phone_of(role: str) -> str:
        holder = then.holder(role, at)
        return holder.phone if holder else ""
    return phone_of


class BoardReader:
    """Builds the board live (the engine's snapshot) or at a past moment (the store); daemon and replay share it."""

    def __init__(self, cfg: WarroomConfig, store: Store, window: CampaignWindow, latest: LatestValues | None,
                 views: Callable[[], dict[str, MetricView]] | None = None,
                 phone_of: Callable[[str], str] | None = None,
                 clock: Callable[[], dict[str, Any]] | None = None,
                 since: datetime | None = None):
        self.cfg = cfg
        # How the daemon's one clock runs now (warroom.daemon.night_clock): in demo mode the night's, at its speed.
        self.clock = clock
        self.store = store
        self.window = window
        self.latest = latest
        # Live, every tile is the engine's one snapshot: value, level, decider and staleness together.
        self.views = views
        self.phone_of = phone_of
        # Start of the record: a past moment is rebuilt from the rows after it (every query bounded by ts).
        self.since = since

    def past_clock(self) -> dict[str, Any]:
        """A moment of the record does not run; it was the demo night's time when the config had a demo clock."""
        demo = self.cfg.demo is not None and self.cfg.demo.night_clock
        return {"demo": demo, "rate": 0.0, "speed": self.cfg.demo.speed if demo and self.cfg.demo else None,
                "ended": False, "name": "", "end": None}

    def views_then(self, at: datetime) -> dict[str, MetricView]:
        """What the wall showed of every metric at `at`: the recorded transitions and the samples known by then."""
        since = self.since if self.since is not None and self.since <= at else at - RECORD_HORIZON
        return views_at(self.store.reader(), self.cfg, at, since)

    def board(self, now: datetime, at: datetime | None = None) -> dict[str, Any]:
        """The whole board; live from the engine when `at` is None and the daemon is running."""
        moment = at or now
        cur = self.store.reader()
        live = at is None and self.latest is not None and self.views is not None
        if live:
            views = self.views()
            runs = self.latest.snapshot()[1]
            phone_of = self.phone_of
            # The snapshot is read after `now` was taken; under load the engine may have moved on in between.
            # Answer for a moment at which everything in it was already known, so ?at= that moment agrees.
            moment = max([moment, *(t for v in views.values() for t in (v.ts, v.since) if t is not None)])
        else:
            views = self.views_then(moment)
            runs = last_runs_at(cur, moment, LOOKBACK_S)
            phone_of = phones_then(self.cfg, self.store, moment)
        kpi = self.cfg.campaign.kpi
        kpi_view = views.get(kpi.metric) if kpi else None
        kpi_now = (kpi_view.ts, kpi_view.value) if kpi_view and kpi_view.ts and kpi_view.value is not None else None
        kpi_before = (value_at(cur, kpi.metric, moment - timedelta(seconds=PACE_WINDOW_S), PACE_WINDOW_S)
                      if kpi else None)
        if kpi and kpi_before is None:
            # Younger than the pace window: measure from the first sample, so projecting starts after a minute.
            kpi_before = first_value_after(cur, kpi.metric, moment - timedelta(seconds=PACE_WINDOW_S), moment)
        head = campaign_header(self.cfg, self.window, moment, kpi_now, kpi_before)
        head["clock"] = (self.clock or real_clock)() if at is None else self.past_clock()
        return {
            "at": moment.isoformat(),
            "live": live,
            "campaign": head,
            "tiles": build_tiles(self.cfg, views, runs, moment, phone_of),
        }
