"""A whole wall as HTML, from one board answer and one alerts answer. Pure: no Streamlit, no fetching.

The live wall builds it once per snapshot, locale and wall (every session ships the same strings);
the replay page builds it from `/board?at=` and the alerts of that moment. Which tiles go on which
wall comes from the config's `walls:` (served by `/api/v1/config`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from app.alert_lines import alert_line, strip_order
from app.decision import decision_html, decision_view
from app.labels import text
from app.night_time import header_times
from app.tiles import kpi_view, seconds_remaining, tile_view
from app.wall_html import banner_html, header_html, health_html, strip_html, styles_html, tile_html, tile_style


@dataclass(frozen=True)
class WallPlan:
    """Which wall this is, its tiles in order, its health row, and the other walls to link to."""

    name: str
    title: str
    metrics: tuple[str, ...]
    health: tuple[str, ...]
    walls: tuple[tuple[str, str], ...]
    note: str = ""


def wall_plan(config: dict[str, Any] | None, board: dict[str, Any], wanted: str | None,
              locale: str | None) -> WallPlan:
    """The wall named `wanted` (else the first configured one; without `walls:`, every tile on one wall)."""
    known = [t["metric"] for t in board.get("tiles", [])]
    walls = (config or {}).get("walls") or {}
    if not walls:
        return WallPlan("", "", tuple(known), (), ())
    names = tuple((name, spec.get("title") or name) for name, spec in walls.items())
    note = ""
    name = wanted if wanted in walls else names[0][0]
    if wanted and wanted not in walls:
        note = text(locale, "wall.unknown", name=wanted, shown=name)
    spec = walls[name]
    # A metric the daemon has no tile for (config and daemon out of step) is left out rather than drawn empty.
    return WallPlan(name, spec.get("title") or name, tuple(m for m in spec.get("metrics", []) if m in known),
                    tuple(m for m in spec.get("health", []) if m in known), names, note)


def record_words(record: dict[str, Any] | None, zone: str, locale: str | None) -> str:
    """`DISK FULL: record incomplete since 23:31:05` from the live board's `record`; '' while it is complete."""
    if not record or record.get("complete", True) or not record.get("since"):
        return ""
    since = datetime.fromisoformat(record["since"]).astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")
    return text(locale, "record.incomplete" if record.get("disk_full") else "record.unwritten", since=since)


def ha_words(ha: dict[str, Any] | None, zone: str, locale: str | None) -> str:
    """`HA degraded: lease store unreachable since 23:31:05` from the live board's `ha`; '' while HA is sound."""
    if not ha or not ha.get("degraded"):
        return ""
    cause = ha.get("degraded_cause") if ha.get("degraded_cause") in ("lease_store", "shared_log") else "lease_store"
    try:
        since = datetime.fromisoformat(str(ha["degraded_since"])).astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")
    except (KeyError, TypeError, ValueError):
        since = "?"  # a node older than `degraded_since`: still say degraded, never hide it
    return text(locale, f"ha.{cause}", since=since)


@dataclass(frozen=True)
class WallHtml:
    """Every panel of a wall as the page's placeholders take it."""

    styles: str
    header: str
    decision: str
    strip: str
    tiles: tuple[str, ...]
    health: str


@dataclass(frozen=True)
class Outage:
    """The daemon cannot be reached: what the banner says, why, and for how long the numbers have aged."""

    message: str
    reason: str
    down_for_s: float


def build_wall(board: dict[str, Any], alerts: list[dict[str, Any]] | None, alerts_state: str, plan: WallPlan,
               locale: str | None, now: datetime, compact: bool = False, outage: Outage | None = None,
               node: str | None = None) -> WallHtml:
    """Header, decision banner, alerts strip, tiles and health row of one wall at `now` (the daemon's clock).

    `node` is the daemon node the answers came from, named in the header when the board reads one of several.
    """
    campaign = board.get("campaign", {})
    zone = campaign.get("timezone") or "UTC"
    down_for = outage.down_for_s if outage else None
    # In demo mode the clock, countdown and end are the night's (app/night_time.py), not the real ones.
    countdown, note, clock, mark = header_times(board, now.astimezone(UTC), seconds_remaining(campaign, down_for),
                                                zone, locale)
    name = campaign.get("name", "") + (f" · {plan.title}" if plan.title else "")
    header = header_html(name, countdown, note, clock, kpi_view(campaign.get("kpi"), locale), locale, mark=mark,
                         record=record_words(board.get("record"), zone, locale), at=str(board.get("at") or ""),
                         node=node or "", ha=ha_words(board.get("ha"), zone, locale))
    by_metric = {t["metric"]: t for t in board.get("tiles", [])}

    def view(metric: str):  # noqa: ANN202 - a TileView
        return tile_view(by_metric.get(metric) or {"metric": metric, "stale": True, "level": "stale"}, locale,
                         down_for)

    views = [view(m) for m in plan.metrics]
    styles = styles_html([tile_style(v, i) for i, v in enumerate(views)])
    tiles = tuple(tile_html(v, locale, compact) for v in views)
    health = health_html([view(m) for m in plan.health], locale)
    if outage is not None:
        # The banner takes the strip's place; who decides is unknown while the daemon is away.
        banner = banner_html(outage.message, outage.reason, locale)
        unknown = (f'<div class="wr-decision wr-decision-quiet" data-decision="unknown">'
                   f'{escape(text(locale, "alerts.unknown"))}</div>')
        return WallHtml(styles, header, unknown, strip_html([], locale, banner=banner), tiles, health)
    decision = decision_html(decision_view(alerts, locale, now), locale)
    if alerts_state == "unavailable":
        strip = strip_html([], locale, unavailable=True)
    elif alerts_state == "unknown":
        strip = strip_html([], locale, banner=banner_html(text(locale, "alerts.unknown"), None, locale))
    else:
        strip = strip_html([alert_line(a, locale, now) for a in strip_order(alerts or [])], locale)
    return WallHtml(styles, header, decision, strip, tiles, health)
