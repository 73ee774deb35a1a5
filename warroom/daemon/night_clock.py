"""The demo night's clock as the daemon's one clock: read from the demo's /api/clock, run on in between.

The demo plays 23:00–00:30 nine times faster than real time. In demo mode the night *is* the clock:
every stamp (samples, runs, alerts, pages, acknowledgements, decisions, the run sheet), every
duration (staleness, ack timeouts, repeats, resolve_after, the pace, the countdown) and every
timeout the engine applies reads this one time source, so the wall, the pages, the record, the
report and replay all speak 2024-11-11 23:31, and a 5-minute `ack_timeout` is five night minutes.

What stays on real time, on purpose: the scheduler's poll intervals and the collectors' HTTP
timeouts (a probe of an 18 s page really waits 18 s), the pager's lanes, group window, delivery
timeout and retries (a webhook answers in real seconds), the board's refresh periods, and this
clock's own polling of the demo. Between two readings the night runs on from the last one at its
speed, measured on the monotonic clock (a step of the machine's clock changes nothing); it never runs
backwards (a reading behind the time already handed out holds it until the night catches up), and
at the night's end it holds: the wall says the demo ended. A demo that stops answering leaves the
night running at its speed until its end, as the demo itself would.
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
# A reading this far behind the time already handed out means the demo went back (restarted): say so.
BACKWARDS_NOTE_S = 5.0


@dataclass(frozen=True)
class NightReading:
    """One answer of the demo's clock, pinned to the daemon's monotonic clock when it came."""

    mono: float
    night: datetime
    speed: float
    ended: bool
    name: str
    scenario_s: float | None = None
    end: datetime | None = None
    """The night's last moment, where it holds (None for a looping demo: its time runs on)."""

    def at(self, mono: float) -> datetime:
        """The night's time at monotonic moment `mono`."""
        if self.ended:
            return self.night
        moment = self.night + timedelta(seconds=max(0.0, mono - self.mono) * self.speed)
        return min(moment, self.end) if self.end is not None else moment

    def night_started(self) -> datetime | None:
        """The night's own start (23:00) on its clock, or None when the answer did not say where it stood."""
        return self.night - timedelta(seconds=self.scenario_s) if self.scenario_s is not None else None


def parse_reading(body: dict[str, Any], mono: float) -> NightReading:
    """A reading from a /api/clock answer; ValueError when the answer lacks what the clock needs."""
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
    run = body.get("run_s")
    if isinstance(run, int | float) and offset is not None and run > offset:
        # A looping demo plays the night again; its time does not go back, it runs on past 00:30.
        night += timedelta(seconds=float(run) - offset)
        offset = float(run)
    end = None
    if not body.get("loop") and body.get("end_iso"):
        try:
            end = datetime.fromisoformat(str(body["end_iso"]))
        except ValueError:
            end = None
    return NightReading(mono, night, speed, bool(body.get("ended")), str(body.get("night") or ""), offset, end)


class NightClock:
    """The night's time, `now()`, from a demo's /api/clock polled on its own thread; `now()` never blocks."""

    def __init__(self, url: str, session_factory: Callable[[], requests.Session] = requests.Session,
                 monotonic: Callable[[], float] = time.monotonic):
        self.url = url
        self.monotonic = monotonic
        self._session = session_factory()
        self._session.trust_env = False  # the demo is local; a proxy from the environment must not answer for it
        self._reading: NightReading | None = None
        self._lock = threading.Lock()
        self._last: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def refresh(self) -> None:
        """Read the demo's clock once; on failure keep running on the last reading and keep the reason."""
        try:
            asked = self.monotonic()
            reply = self._session.get(self.url, timeout=TIMEOUT_S)
            answered = self.monotonic()
            reply.raise_for_status()
            # The demo read its clock somewhere in between; the middle halves the error of either end.
            reading = parse_reading(reply.json(), (asked + answered) / 2)
        except (requests.RequestException, ValueError) as err:
            if self.error is None:
                log.warning("demo clock %s not readable (%s); the night runs on from its last reading",
                            self.url, err)
            self.error = str(err)
            return
        with self._lock:
            behind = (self._last - reading.at(answered)).total_seconds() if self._last else 0.0
            self._reading = reading
        if behind > BACKWARDS_NOTE_S:
            log.warning("the demo's clock went back %.0f night seconds (restarted?); warroom's clock holds until "
                        "the night catches up: time never runs backwards", behind)
        self.error = None

    def now(self) -> datetime:
        """The night's time now: never earlier than any time handed out before. RuntimeError before a reading."""
        mono = self.monotonic()
        with self._lock:
            if self._reading is None:
                raise RuntimeError(f"the demo clock at {self.url} has not answered yet")
            moment = self._reading.at(mono)
            if self._last is not None and moment < self._last:
                moment = self._last
            self._last = moment
            return moment

    def held(self) -> bool:
        """True once the night stands still at its end (the demo ended)."""
        with self._lock:
            reading, last = self._reading, self._last
        if reading is None:
            return False
        return reading.ended or (reading.end is not None and last is not None and last >= reading.end)

    def json(self) -> dict[str, Any]:
        """What the board needs to run the wall's clock between two answers: the night's speed now, the mark."""
        with self._lock:
            reading = self._reading
        held = self.held()
        return {"demo": True, "rate": 0.0 if held else (reading.speed if reading else 1.0),
                "speed": reading.speed if reading else None, "ended": held, "name": reading.name if reading else "",
                "end": reading.end.isoformat() if reading and reading.end else None}

    def first_reading(self, within_s: float, sleep: Callable[[float], None] = time.sleep) -> bool:
        """Read until the demo answers or `within_s` passes (`warroom up` starts the demo alongside the daemon)."""
        deadline = self.monotonic() + within_s
        while True:
            self.refresh()
            if self._reading is not None or self.monotonic() >= deadline:
                return self._reading is not None
            sleep(0.25)

    def night_started(self) -> datetime | None:
        """The night's start (23:00) on its own clock, from the last reading (None when unknown)."""
        with self._lock:
            reading = self._reading
        return reading.night_started() if reading else None

    def start(self) -> NightClock:
        """Poll in a daemon thread until stop()."""
        self._thread = threading.Thread(target=self._run, name="night-clock", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(POLL_EVERY_S):
            self.refresh()

    def stop(self) -> None:
        """Stop polling and close the session."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(TIMEOUT_S + 1)
        self._session.close()

