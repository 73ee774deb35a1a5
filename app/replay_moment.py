"""Which moment `/replay?at=…` asks for, read the way people write it in a chat. Pure: no Streamlit.

Accepted: an ISO-8601 time (with an offset, or naive in the campaign's timezone; a `+` that a link turned
into a space is taken back), a time of day (`23:31`, `23:31:05`: its occurrence within the record), `now`
(the end of the record: its last sample, or now on a live daemon) and `-2h`, `-30m`, `-1h30m` (before that
end). Anything else is a plain sentence naming the input, never a traceback; the page then shows the
start of the record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.labels import text

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
# Longer than any campaign's record: a bigger number is a typo, not a moment to look for.
_MAX_BACK_S = 400 * 86400.0


@dataclass(frozen=True)
class AskedMoment:
    """The moment to show (epoch seconds, inside the record) and, when the input was not used as given, why."""

    epoch: float
    problem: str | None = None


def _duration(raw: str) -> float | None:
    """Seconds of `2h`, `30m`, `1h30m`, `90s`; None when it is not one."""
    if not raw or _PART.sub("", raw):
        return None
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(raw))


def _iso(raw: str, zone: ZoneInfo) -> datetime | None:
    cleaned = raw.replace("Z", "+00:00")
    # A link's `+08:00` arrives as ` 08:00` when nobody encoded the plus sign.
    cleaned = re.sub(r" (\d{2}:?\d{2})$", r"+\1", cleaned)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _time_of_day(raw: str, start: float, end: float, zone: ZoneInfo) -> datetime | None:
    match = _TIME_OF_DAY.fullmatch(raw)
    if match is None:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    # The latest occurrence not after the end of the record; a night crosses midnight.
    last = datetime.fromtimestamp(end, zone)
    moment = last.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if moment.timestamp() > end:
        moment -= timedelta(days=1)
    if moment.timestamp() < start:
        moment += timedelta(days=1)
    return moment


def asked_moment(raw: str | None, start: float, end: float, zone: str, locale: str | None) -> AskedMoment:
    """The moment `?at=raw` names, clamped to the record [start, end], with a plain note when it was not usable."""
    tz = ZoneInfo(zone)
    given = (raw or "").strip()
    if not given:
        return AskedMoment(start)
    moment: datetime | None = None
    if given.lower() == "now":
        return AskedMoment(end)
    back = _duration(given[1:]) if given.startswith("-") else None
    if back is not None and back <= _MAX_BACK_S:
        moment = datetime.fromtimestamp(end - back, tz)
    if moment is None:
        moment = _time_of_day(given, start, end, tz) or _iso(given, tz)
    if moment is None:
        return AskedMoment(start, text(locale, "replay.bad_at", raw=given[:80]))
    epoch = moment.timestamp()
    if epoch < start or epoch > end:
        edge = start if epoch < start else end
        shown = datetime.fromtimestamp(edge, tz).strftime("%Y-%m-%d %H:%M:%S")
        key = "replay.before_record" if epoch < start else "replay.after_record"
        return AskedMoment(edge, text(locale, key, raw=given[:80], shown=shown))
    return AskedMoment(epoch)
