"""The demo night's time on the wall (pure): the daemon's `campaign.night_clock` maps real moments to the night's.

The demo plays 23:00–00:30 nine times faster than real time; with this the header says 23:31 during
the spike, the countdown runs in night seconds, and run-sheet rows say 23:59:59, each with a demo mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.labels import text
from app.tiles import format_countdown, local_time, parse_ts


@dataclass(frozen=True)
class NightTime:
    """A real → night mapping taken from one board answer."""

    real: datetime
    night: datetime
    speed: float
    night_speed: float

    def clock(self, real: datetime) -> datetime:
        """The night's clock at a real moment (it holds once the night has ended)."""
        return _whole(self.night + timedelta(seconds=(real - self.real).total_seconds() * self.speed))

    def moment(self, real: datetime) -> datetime:
        """The night's time of a real moment such as a run-sheet step or the campaign's end."""
        return _whole(self.night + timedelta(seconds=(real - self.real).total_seconds() * self.night_speed))

    def span(self, real_seconds: float) -> float:
        """Real seconds as night seconds (a countdown, a step's 'in 3 min')."""
        return real_seconds * self.night_speed


def _whole(moment: datetime) -> datetime:
    """To the nearest second: a step at 23:59:58.996 (polling jitter times nine) is the night's 23:59:59."""
    return (moment + timedelta(milliseconds=500)).replace(microsecond=0)


def night_time(board: dict[str, Any] | None) -> NightTime | None:
    """The mapping from a board answer, or None when the wall runs on the real clock."""
    clock = ((board or {}).get("campaign") or {}).get("night_clock")
    real, night = parse_ts((board or {}).get("at")), parse_ts((clock or {}).get("at"))
    if not clock or real is None or night is None:
        return None
    try:
        return NightTime(real, night, float(clock.get("speed") or 0.0), float(clock.get("night_speed") or 1.0))
    except (TypeError, ValueError):
        return None


def night_rows(night: NightTime, rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Copies of API rows with the time fields `keys` moved onto the night (alerts, decisions)."""
    out = []
    for row in rows:
        moved = dict(row)
        for key in keys:
            when = parse_ts(row.get(key))
            if when is not None:
                moved[key] = night.moment(when).isoformat()
        out.append(moved)
    return out


def night_points(night: NightTime, points: list[list[Any]]) -> list[list[Any]]:
    """Series points [time, value] with their times on the night."""
    return [[night.moment(parse_ts(ts)).isoformat(), value] for ts, value in points if parse_ts(ts) is not None]


def header_times(board: dict[str, Any], now: datetime, remaining: float, zone: str,
                 locale: str | None) -> tuple[str, str, str, str]:
    """Countdown, its note ("to the end 23:59:59"), the clock and the demo mark, on the night's time when known."""
    end, night = parse_ts((board.get("campaign") or {}).get("end")), night_time(board)
    if night is not None:
        # Every number on a demo wall is the night's: so are its clock, countdown and end.
        remaining, now, end = night.span(remaining), night.clock(now), end and night.moment(end)
    note = text(locale, "countdown.to_end" if remaining > 0 else "countdown.after_end") + " " + local_time(end, zone)
    mark = text(locale, "demo.mark") if night is not None else ""
    return format_countdown(remaining), note, local_time(now, zone) + f"  {zone}", mark
