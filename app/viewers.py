"""Who gets the board's time first: the kiosk wall always refreshes at full rate; other viewers slow down
when the board process is busy, and say so on their page. Pure functions, table-tested.

Python runs one thread at a time, so the whole board process can use about one core. The wall on the
war-room screen is the one that matters; laptops and phones can take a 3-second refresh.
"""

from __future__ import annotations

from dataclasses import dataclass

# Fractions of one core used by the board process (its smoothed CPU, see snapshot.SnapshotHub.load).
BUSY_ABOVE = 0.60
CALM_BELOW = 0.35
SLOWER_BY = 3.0


@dataclass(frozen=True)
class Pace:
    """How often one session refreshes, and whether it was slowed down for the wall's sake."""

    tiles_every_s: float
    charts_every_s: float
    degraded: bool


def viewer_pace(kiosk: bool, load: float, was_degraded: bool, tiles_every_s: float,
                charts_every_s: float) -> Pace:
    """The kiosk wall never slows down; others slow down above BUSY_ABOVE and recover below CALM_BELOW."""
    if kiosk:
        return Pace(tiles_every_s, charts_every_s, False)
    # Two thresholds: a load hovering around one line must not flip the pace (and re-lay the page) each second.
    degraded = load >= BUSY_ABOVE or (was_degraded and load > CALM_BELOW)
    if not degraded:
        return Pace(tiles_every_s, charts_every_s, False)
    return Pace(tiles_every_s * SLOWER_BY, charts_every_s * SLOWER_BY, True)
