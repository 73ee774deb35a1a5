"""The daemon's one clock: wall-clock stamps that advance with the monotonic clock; a system clock step is logged.

When the system clock stepped back 10 minutes, an alert opened in the skewed minutes vanished from the
active list while its tile stayed red, and every time to acknowledge stretched by the step (the
seed's lesson: minutes lost finding who decides). Here the time is read once from the system clock
at start and then counted on by the monotonic clock, so every stamp and every duration of a night is
on one line that never runs backwards or jumps: acks time out when they should, no open alert falls
out of a window, samples stay in order. A step is noticed (the system clock moved away from ours by
more than `tolerance_s`), logged once with its size, and shown in /api/v1/health; the stamps then
differ from the system clock by the step until the daemon restarts, which adopts the system clock
again (unless the night's record already runs ahead of it, see `not_before`).

Imports nothing of the project, so every room may be handed it. In demo mode the night's clock is
derived from this one, so durations hold there too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

log = logging.getLogger("warroom.clock")

# Past this, a record running ahead of the system clock is not a step seen tonight but another night.
CONTINUE_AT_MOST_S = 3600.0


@dataclass(frozen=True)
class ClockStep:
    """One step of the system clock as warroom saw it: when (on warroom's time) and by how much."""

    at: str
    seconds: float
    system: str


class SteadyClock:
    """Callable like `utc_now`; thread-safe."""

    def __init__(self, wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic, tolerance_s: float = 1.0):
        self._wall = wall
        self._monotonic = monotonic
        self.tolerance_s = tolerance_s
        self._lock = threading.Lock()
        self._anchor = wall()
        self._anchor_mono = monotonic()
        self.offset_s = 0.0
        """The system clock minus warroom's, after the steps seen so far."""
        self.steps: list[ClockStep] = []

    def __call__(self) -> datetime:
        """Now, on the night's one line."""
        mono = self._monotonic()
        wall = self._wall()
        with self._lock:
            now = self._anchor + timedelta(seconds=mono - self._anchor_mono)
            offset = (wall - now).total_seconds()
            step = offset - self.offset_s
            if abs(step) <= self.tolerance_s:
                return now
            self.offset_s = offset
            self.steps = [*self.steps[-19:], ClockStep(now.isoformat(), round(step, 3), wall.isoformat())]
        log.warning("WALL CLOCK STEPPED %s %.1f s (system clock now %s, warroom %s): warroom keeps its own time, "
                    "counted by the monotonic clock since start, so no open alert is hidden and no time to "
                    "acknowledge changes; its stamps differ from the system clock by %+.1f s until the daemon "
                    "restarts", "back" if step < 0 else "forward", abs(step), wall.isoformat(timespec="seconds"),
                    now.isoformat(timespec="seconds"), -offset)
        return now

    def not_before(self, moment: datetime) -> bool:
        """Continue a record whose stamps run ahead of this clock (a restart after a step back); True if moved.

        Without it, the samples after the restart would be older than those before it (never shown) and
        the reloaded alerts' times to acknowledge would start in the future. A record more than
        CONTINUE_AT_MOST_S ahead is another night's (or a broken clock's): then the system clock wins.
        """
        now = self()
        ahead = (moment - now).total_seconds()
        if ahead <= 0:
            return False
        if ahead > CONTINUE_AT_MOST_S:
            log.error("the record's last stamp %s is %.0f s ahead of the system clock (%s); not continuing from "
                      "it (more than %.0f s): check the system clock", moment.isoformat(), ahead, now.isoformat(),
                      CONTINUE_AT_MOST_S)
            return False
        with self._lock:
            self._anchor += timedelta(seconds=ahead + 0.001)
            self.offset_s -= ahead + 0.001
            self.steps = [*self.steps[-19:], ClockStep(moment.isoformat(), round(-ahead, 3), now.isoformat())]
        log.warning("WALL CLOCK BEHIND THE RECORD by %.1f s (its last stamp %s, the system clock %s): warroom "
                    "continues the night's time from the record, so nothing recorded tonight runs backwards",
                    ahead, moment.isoformat(), now.isoformat())
        return True

    def as_dict(self) -> dict[str, object]:
        """For /api/v1/health: how far the system clock is from warroom's, and the steps seen."""
        self()
        with self._lock:
            return {"steady": True, "offset_s": round(self.offset_s, 3), "steps": [asdict(s) for s in self.steps]}
