"""The daemon's one clock on the board (pure): its time, how fast it runs, and the demo mark.

In demo mode every stamp the daemon hands out already is the night's (warroom/daemon/night_clock.py):
the board converts nothing. It only runs the wall's clock on between two answers at the rate the board
answer gives (`campaign.clock.rate`: 9 while the demo night plays, 0 once it holds at its end, 1 on a
real night) and marks the times 演示 / demo night, or 演示已结束 / demo ended once the night holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.labels import text
from app.tiles import format_countdown, local_time, parse_ts


def clock_of(board: dict[str, Any] | None) -> dict[str, Any]:
    """The board answer's `campaign.clock` ({} from a daemon that does not say)."""
    return ((board or {}).get("campaign") or {}).get("clock") or {}


def rate_of(board: dict[str, Any] | None) -> float:
    """Daemon seconds per real second: 9 while a demo night plays, 0 once it holds, 1 on a real night."""
    try:
        return max(0.0, float(clock_of(board).get("rate", 1.0)))
    except (TypeError, ValueError):
        return 1.0


def demo_mark(board: dict[str, Any] | None, locale: str | None) -> str:
    """'演示' beside the night's times in demo mode, '演示已结束' once the night holds at its end; '' otherwise."""
    clock = clock_of(board)
    if not clock.get("demo"):
        return ""
    return text(locale, "demo.ended" if clock.get("ended") else "demo.mark")


def header_times(board: dict[str, Any], now: datetime, remaining: float, zone: str,
                 locale: str | None) -> tuple[str, str, str, str]:
    """Countdown, its note ("to the end 23:59:59"), the clock and the demo mark, all on the daemon's clock."""
    end = parse_ts((board.get("campaign") or {}).get("end"))
    note = text(locale, "countdown.to_end" if remaining > 0 else "countdown.after_end") + " " + local_time(end, zone)
    return format_countdown(remaining), note, local_time(now, zone) + f"  {zone}", demo_mark(board, locale)
