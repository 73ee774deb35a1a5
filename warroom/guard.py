"""Refused attempts: counted, rate-limited per client and alert, and kept out of the alerts' own trails.

20,000 forged ack links once added 20,000 events to one alert; a refusal now costs a counter, and a
client that keeps guessing is turned away (429) before its guess is even checked.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_KEYS = 10_000  # clients × alerts remembered; the oldest are forgotten past this


class Refusals:
    """Counts refusals by kind and per alert, and limits refused ack attempts per (client, alert)."""

    def __init__(self, limit: int = 10, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._recent: dict[tuple[str, int], deque[float]] = {}
        self._lock = threading.Lock()
        self.board_token = 0
        self.ack_link = 0
        self.rate_limited = 0
        self.by_alert: dict[int, int] = {}

    def _window(self, key: tuple[str, int], now: float) -> deque[float]:
        times = self._recent.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def ack_blocked(self, client: str, alert_id: int) -> float | None:
        """Seconds to wait when this client used up its refused attempts on this alert, else None."""
        with self._lock:
            now = self.clock()
            times = self._window((client, alert_id), now)
            if len(times) < self.limit:
                return None
            self.rate_limited += 1
            return max(1.0, times[0] + self.window_s - now)

    def ack_refused(self, client: str, alert_id: int) -> None:
        """Record one refused ack link (forged, expired, for another alert)."""
        with self._lock:
            now = self.clock()
            if len(self._recent) >= MAX_KEYS:
                for key in list(self._recent)[: MAX_KEYS // 10]:
                    del self._recent[key]
            self._window((client, alert_id), now).append(now)
            self.ack_link += 1
            if alert_id in self.by_alert or len(self.by_alert) < MAX_KEYS:
                self.by_alert[alert_id] = self.by_alert.get(alert_id, 0) + 1

    def token_refused(self) -> None:
        """Record one request refused for a missing or wrong board token."""
        with self._lock:
            self.board_token += 1

    def as_dict(self) -> dict[str, object]:
        """For /api/v1/health: how many of each, and refused ack links per alert id."""
        with self._lock:
            # the 20 most refused: an attacker guessing ids must not grow the health answer
            top = sorted(self.by_alert.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
            return {"board_token": self.board_token, "ack_link": self.ack_link, "rate_limited": self.rate_limited,
                    "ack_link_by_alert": {str(k): v for k, v in sorted(top)}}
