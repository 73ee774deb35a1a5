"""The demo night's clock as the wall shows it: read from the demo's /api/clock, extrapolated in between.

The demo plays 23:00–00:30 nine times faster than real time, so a wall showing the real clock says
"15:42" while every number on it belongs to 23:31. The daemon polls the demo's clock in the background
and puts the night's time in the live board (`campaign.night_clock`); the board then prints the
night's times in its header and run sheet. A demo that does not answer leaves the real clock.

The daemon also counts the campaign's relative times (`end: "+6m40s"`, the run sheet's `+7m13s`) from
the moment the demo night started, when the demo answers at start: the daemon starts a few seconds
after the demo, and at speed 9 those seconds would put 23:59:59 on the wall as 00:00:24.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests

log = logging.getLogger("warroom.night_clock")

POLL_EVERY_S = 2.0
TIMEOUT_S = 1.0
# Past this without a good answer the reading is dropped: a stopped demo must not freeze the wall's time.
FORGET_AFTER_S = 15.0


@dataclass(frozen=True)
class NightReading:
    """One answer of the demo's clock, stamped with the daemon's time when it came."""

    real: datetime
    night: datetime
    speed: float
    ended: bool
    name: str
    scenario_s: float | None = None

    def night_started(self) -> datetime | None:
        """The real moment the night stood at its start (23:00), or None once it has ended (it holds)."""
        if self.ended or self.scenario_s is None:
            return None
        return self.real - timedelta(seconds=self.scenario_s / self.speed)


def parse_reading(body: dict[str, Any], real: datetime) -> NightReading:
    """A reading from a /api/clock answer; ValueError when the answer lacks what the wall needs."""
    try:
        night = datetime.fromisoformat(str(body["scenario_iso"]))
        speed = float(body["speed"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"not a demo clock answer: {err}") from None
    if night.tzinfo is None or speed <= 0:
        raise ValueError("not a demo clock answer: scenario_iso needs an offset and speed must be positive")
    offset = body.get("scenario_s")
    offset = float(offset) if isinstance(offset, int | float) else None
    if offset is not None:
        # scenario_iso is cut to whole seconds; at speed 9 that alone puts 23:59:59 on the wall as 23:59:58.
        night += timedelta(seconds=offset % 1)
    return NightReading(real, night, speed, bool(body.get("ended")), str(body.get("night") or ""), offset)


def night_clock_json(reading: NightReading | None, now: datetime) -> dict[str, Any] | None:
    """What the board gets at `now`: the night's time then, and how fast it runs (0 once the night ended)."""
    if reading is None or (now - reading.real).total_seconds() > FORGET_AFTER_S:
        return None
    speed = 0.0 if reading.ended else reading.speed
    at = reading.night + timedelta(seconds=(now - reading.real).total_seconds() * speed)
    return {"at": at.isoformat(), "speed": speed, "night_speed": reading.speed, "name": reading.name}


class NightClock:
    """Polls a demo's /api/clock every couple of seconds on its own thread; `json(now)` never blocks."""

    def __init__(self, url: str, clock: Callable[[], datetime],
                 session_factory: Callable[[], requests.Session] = requests.Session):
        self.url = url
        self.clock = clock
        self._session = session_factory()
        self._session.trust_env = False  # the demo is local; a proxy from the environment must not answer for it
        self._reading: NightReading | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def refresh(self) -> None:
        """Read the demo's clock once; on failure keep the last reading (it ages out) and the reason."""
        try:
            asked = self.clock()
            reply = self._session.get(self.url, timeout=TIMEOUT_S)
            answered = self.clock()
            reply.raise_for_status()
            # The demo read its clock somewhere in between; the middle halves the error of either end.
            self._reading = parse_reading(reply.json(), asked + (answered - asked) / 2)
            self.error = None
        except (requests.RequestException, ValueError) as err:
            if self.error is None:
                log.info("demo clock %s not readable (%s); the wall shows the real time", self.url, err)
            self.error = str(err)

    def json(self, now: datetime) -> dict[str, Any] | None:
        """The night's time at `now` for the board, or None when the demo's clock is not known."""
        return night_clock_json(self._reading, now)

    def first_reading(self, within_s: float, monotonic: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep) -> bool:
        """Read until the demo answers or `within_s` passes (`warroom up` starts the demo alongside the daemon)."""
        deadline = monotonic() + within_s
        while True:
            self.refresh()
            if self._reading is not None or monotonic() >= deadline:
                return self._reading is not None
            sleep(0.25)

    def anchor(self) -> tuple[datetime, datetime, float] | None:
        """(real moment, the night's time then, the night's speed) for pages, or None when not known."""
        reading = self._reading
        if reading is None or (self.clock() - reading.real).total_seconds() > FORGET_AFTER_S:
            return None
        return reading.real, reading.night, reading.speed

    def night_started(self) -> datetime | None:
        """When the demo night stood at its start, from the last reading (None when unknown)."""
        return self._reading.night_started() if self._reading else None

    def start(self) -> NightClock:
        """Poll in a daemon thread until stop()."""
        self._thread = threading.Thread(target=self._run, name="night-clock", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(POLL_EVERY_S)

    def stop(self) -> None:
        """Stop polling and close the session."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(TIMEOUT_S + 1)
        self._session.close()
