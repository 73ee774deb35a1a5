"""Tile state → what the wall shows: colours, words, formatted value and age. Pure functions, no Streamlit.

The API decides the level; the board only decides how it looks. A tile that is stale, or whose
numbers come from a daemon the board can no longer reach, is grey and says for how long it has
had no data — the wall never shows a stale green.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.labels import level_word, role_word, text

LEVELS = ("green", "yellow", "orange", "red")
# Accent (word badge, border, sparkline band) and tile background per level, chosen for a dark
# room seen from across it: the background carries the level even when the word is unreadable.
ACCENT = {"green": "#2fbf71", "yellow": "#f5c518", "orange": "#ff8c1a", "red": "#ff3b3b", "stale": "#8b95a3"}
BACKGROUND = {"green": "#12221a", "yellow": "#3a3108", "orange": "#44250a", "red": "#5a1010", "stale": "#23272e"}
# Text on the accent colour (the word badge) must stay readable: dark on yellow/orange/green.
ON_ACCENT = {"green": "#06130b", "yellow": "#1a1500", "orange": "#1f0f00", "red": "#ffffff", "stale": "#0d0f12"}


@dataclass(frozen=True)
class Owner:
    """Who decides at the tile's level, ready to print."""

    role: str
    name: str
    phone: str


@dataclass(frozen=True)
class TileView:
    """One tile as the wall draws it."""

    metric: str
    title: str
    value_text: str
    unit: str
    level: str
    word: str
    accent: str
    background: str
    on_accent: str
    age_text: str
    stale: bool
    owner: Owner | None
    reason: str | None


# An address's `?at=2024-11-11T23:31:00+08:00` arrives as "…23:31:00 08:00" (a + in a query string is a space).
_PLUS_AS_SPACE = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def parse_ts(value: str | None) -> datetime | None:
    """An ISO-8601 time from the API or an address (`Z` accepted) as an aware datetime, or None."""
    if not value:
        return None
    return datetime.fromisoformat(_PLUS_AS_SPACE.sub(r"\1+\2", value.strip()).replace("Z", "+00:00"))


def local_time(value: str | datetime | None, zone: str, seconds: bool = True) -> str:
    """HH:MM:SS of an API time in the campaign's timezone ('—' when missing)."""
    moment = parse_ts(value) if isinstance(value, str) or value is None else value
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M:%S" if seconds else "%H:%M")


def format_value(value: float | None, decimals: int = 1) -> str:
    """A number with thousands separators and the metric's decimals; '—' when there is none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{max(0, decimals)}f}"


def format_duration(seconds: float | None, locale: str | None) -> str:
    """A compact duration for people: 45s, 3m 05s, 2h 10m (秒/分/小时 in Chinese)."""
    if seconds is None:
        return "—"
    total = int(max(0.0, seconds))
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    uh, um, us = text(locale, "unit.h"), text(locale, "unit.m"), text(locale, "unit.s")
    sep = "" if uh == "小时" else " "
    if h:
        return f"{h}{uh}{sep}{m:02d}{um}"
    if m:
        return f"{m}{um}{sep}{s:02d}{us}"
    return f"{s}{us}"


def format_countdown(seconds_remaining: float) -> str:
    """T-hh:mm:ss before the end, T+hh:mm:ss after it (hours may exceed 24)."""
    sign = "-" if seconds_remaining > 0 else "+"
    # Round up before the end so T-00:00:00 is shown only at the end itself, never a second early.
    total = math.ceil(seconds_remaining) if seconds_remaining > 0 else math.floor(-seconds_remaining)
    h, rem = divmod(int(total), 3600)
    m, s = divmod(rem, 60)
    return f"T{sign}{h:02d}:{m:02d}:{s:02d}"


def tile_view(tile: dict[str, Any], locale: str | None, down_for_s: float | None = None) -> TileView:
    """The view of one API tile; `down_for_s` set means the daemon is unreachable (every tile goes grey)."""
    level = tile.get("level") or "stale"
    stale = bool(tile.get("stale")) or level not in LEVELS or down_for_s is not None
    age = tile.get("age_s")
    if down_for_s is not None and age is not None:
        age = age + down_for_s
    if stale:
        level = "stale"
        age_text = text(locale, "age.stale", age=format_duration(age, locale)) if age is not None \
            else text(locale, "age.never")
    else:
        age_text = text(locale, "age.ago", age=format_duration(age, locale))
    note = tile.get("note") if not stale else None
    if note in ("no_traffic", "watch_ended"):
        # Nothing is wrong and there is no number: say so instead of a bare dash.
        age_text = text(locale, f"note.{note}") + " · " + age_text
    raw_owner = tile.get("owner")
    # Green needs nobody; a stale tile shows who answers for the data (the yellow owner from the API).
    owner = None
    if raw_owner and level != "green":
        owner = Owner(role_word(locale, raw_owner.get("role")), raw_owner.get("name", ""), raw_owner.get("phone", ""))
    reason = tile.get("error") if stale else None
    return TileView(
        metric=tile["metric"], title=tile.get("title") or tile["metric"],
        value_text=format_value(tile.get("value"), int(tile.get("decimals", 1))), unit=tile.get("unit") or "",
        # After the close a metric is not judged any more: not "OK", which would claim it was checked.
        level=level, word=text(locale, "level.unwatched") if note == "watch_ended" else level_word(locale, level),
        accent=ACCENT[level], background=BACKGROUND[level],
        on_accent=ON_ACCENT[level], age_text=age_text, stale=stale, owner=owner,
        reason=(reason[:117] + "…") if reason and len(reason) > 118 else reason,
    )


@dataclass(frozen=True)
class KpiView:
    """Orders against the KPI: value, target, progress, the gap in words and the projection, as printed."""

    title: str
    value_text: str
    target_text: str
    progress: float
    percent_text: str
    gap_text: str
    projection_text: str
    on_track: bool


# Under this window the pace is a first estimate, and the wall says so.
SURE_PACE_S = 300.0


def kpi_view(kpi: dict[str, Any] | None, locale: str | None) -> KpiView | None:
    """The header's KPI block; None when the campaign has no KPI."""
    if not kpi:
        return None
    value, target = kpi.get("value"), kpi.get("target") or 0
    progress = min(1.0, max(0.0, kpi.get("progress") or 0.0))
    projected, pace, window = kpi.get("projected"), kpi.get("pace_per_min"), kpi.get("pace_window_s")
    gap = ""
    if value is not None:
        gap = text(locale, "kpi.gap", gap=format_value(target - value, 0)) if value < target else \
            text(locale, "kpi.reached", over=format_value(value - target, 0))
    if projected is None or value is None:
        projection = ""
    elif kpi.get("closed"):
        projection = text(locale, "kpi.closed", value=format_value(value, 0))
    elif pace is None:
        projection = text(locale, "kpi.measuring")
    else:
        # Never a negative pace on the wall, whatever the daemon says.
        projection = text(locale, "kpi.projected", value=format_value(max(projected, value), 0),
                          pace=format_value(max(0.0, pace), 1))
        if window is not None and window < SURE_PACE_S:
            projection += " · " + text(locale, "kpi.rough", span=format_duration(window, locale))
    return KpiView(
        title=kpi.get("title") or "KPI", value_text=format_value(value, 0), target_text=format_value(target, 0),
        progress=progress, percent_text=f"{(kpi.get('progress') or 0.0) * 100:.1f}%", gap_text=gap,
        projection_text=projection, on_track=projected is not None and projected >= target,
    )


def seconds_remaining(campaign: dict[str, Any], down_for_s: float | None) -> float:
    """The campaign countdown; while the daemon is unreachable it keeps running from the last answer."""
    return float(campaign.get("seconds_remaining") or 0.0) - (down_for_s or 0.0)
