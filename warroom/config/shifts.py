"""Shifts: who holds a role at a time of day, in the campaign's timezone, across midnight.

A role's shifts must cover the whole day with no gap and no overlap (the holiday plan's three
shifts): a gap is an hour when nobody would be paged, an overlap a page that picks one person
arbitrarily. Pure functions, so the boundaries are table-tested.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DAY = 24 * 60


class Shift(BaseModel):
    """One person holding the role from `from` to `to` each day (`to` before `from` crosses midnight)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: str = Field(alias="from", description="HH:MM in the campaign's timezone.")
    end: str = Field(alias="to", description="HH:MM; the next shift starts here.")
    name: str = Field(min_length=1)
    phone: str = ""
    channels: list[str] | None = Field(default=None, description="Default: the role's channels.")
    urgent: list[str] | None = Field(default=None, description="Default: the role's urgent channels.")

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"expected a time of day like 02:00, got {value!r}")
        return value

    def minutes(self) -> tuple[int, int]:
        """(start, end) in minutes after midnight; end may be smaller than start (across midnight)."""
        return _minutes(self.start), _minutes(self.end)

    def covers(self, minute: int) -> bool:
        """True when `minute` after midnight falls in this shift (start included, end excluded)."""
        start, end = self.minutes()
        length = (end - start) % DAY or DAY
        return (minute - start) % DAY < length


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _clock_text(minute: int) -> str:
    return f"{minute // 60 % 24:02d}:{minute % 60:02d}"


def _ranges(minutes: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs of minutes as (first, end) pairs, joined across midnight."""
    runs: list[list[int]] = []
    for m in minutes:
        if runs and m == runs[-1][1]:
            runs[-1][1] = m + 1
        else:
            runs.append([m, m + 1])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == DAY:
        runs[0][0] = runs.pop()[0]
    return [(a, b) for a, b in runs]


def problems(where: str, shifts: list[Shift]) -> list[str]:
    """Why these shifts do not cover the day exactly once, naming the times; [] when they do."""
    if not shifts:
        return []
    holders: list[list[str]] = [[] for _ in range(DAY)]
    for shift in shifts:
        for minute in range(DAY):
            if shift.covers(minute):
                holders[minute].append(shift.name)
    found = []
    for first, end in _ranges([m for m in range(DAY) if not holders[m]]):
        found.append(f"{where}: nobody holds the role from {_clock_text(first)} to {_clock_text(end)}")
    for first, end in _ranges([m for m in range(DAY) if len(holders[m]) > 1]):
        names = " and ".join(dict.fromkeys(holders[first]))
        found.append(f"{where}: {names} both hold the role from {_clock_text(first)} to {_clock_text(end)}")
    return found


def on_duty(shifts: list[Shift], at: datetime, zone: str) -> Shift | None:
    """The shift holding the role at `at` (None without shifts)."""
    if not shifts:
        return None
    local = at.astimezone(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    return next((s for s in shifts if s.covers(minute)), None)


def next_change(shifts: list[Shift], at: datetime, zone: str) -> tuple[datetime, Shift, Shift] | None:
    """The next handover after `at`: (when, outgoing, incoming), or None with fewer than two shifts."""
    if len(shifts) < 2:
        return None
    local = at.astimezone(ZoneInfo(zone))
    current = on_duty(shifts, at, zone)
    if current is None:
        return None
    end = _minutes(current.end)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = day_start + timedelta(minutes=end)
    while moment <= local:
        moment += timedelta(days=1)
    incoming = on_duty(shifts, moment, zone)
    return (moment, current, incoming) if incoming is not None else None
