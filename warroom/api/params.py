"""Request parameters: moments (ISO-8601, `now`, `-2h`) and the error answer that names the parameter."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from warroom.durations import parse_duration

# How far from the API's "now" a moment may lie: years of archives, never year 1 or 9999.
SANE_SPAN = timedelta(days=3660)
# The longest window one request may ask for: every query stays bounded by ts (read_model.RECORD_HORIZON matches).
MAX_WINDOW = timedelta(days=8)
_RELATIVE = re.compile(r"^(now)?\s*-\s*(.+)$")
# `?at=2024-11-11T23:31:00+08:00` typed into an address arrives as "…23:31:00 08:00": a + in a query is a space.
PLUS_AS_SPACE = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class ApiError(Exception):
    """An answer naming the cause: status, message and the offending parameter."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def parse_moment(text: str, field: str, zone: str, now: datetime, span: timedelta | None = None) -> datetime:
    """ISO-8601 (naive = the campaign's timezone), `now`, or `-2h` / `now-30m`; 422 otherwise.

    A moment more than `span` (default SANE_SPAN) from `now` is refused too: nothing the war room
    stores or asks about lies there, and dates near year 1 overflow the UTC conversion (a 500).
    """
    span = SANE_SPAN if span is None else span
    moment = _moment(text, field, zone, now)
    try:
        distance = abs(moment - now)
    except OverflowError:
        distance = timedelta.max
    if distance > span:
        raise ApiError(422, f"{field}: {text.strip()[:60]!r} is more than {_days(span)} from now "
                            f"({now.isoformat(timespec='seconds')})", field)
    return moment


def parse_window(from_: str, to: str, zone: str, now: datetime) -> tuple[datetime, datetime]:
    """`from` and `to` as moments; 422 unless `to` comes after `from` within MAX_WINDOW."""
    start, end = parse_moment(from_, "from", zone, now), parse_moment(to, "to", zone, now)
    if end <= start:
        raise ApiError(422, f"to ({end.isoformat()}) must be after from ({start.isoformat()})", "to")
    if end - start > MAX_WINDOW:
        raise ApiError(422, f"window of {end - start} is longer than the {MAX_WINDOW.days}-day limit", "from")
    return start, end


def _days(span: timedelta) -> str:
    return f"{span.days} days" if span.days >= 2 else f"{span.total_seconds() / 3600:g} hours"


def _moment(text: str, field: str, zone: str, now: datetime) -> datetime:
    raw = PLUS_AS_SPACE.sub(r"\1+\2", text.strip())
    if raw == "now":
        return now
    rel = _RELATIVE.match(raw)
    if rel:
        try:
            return now - timedelta(seconds=parse_duration(rel.group(2).strip()))
        except ValueError as err:
            raise ApiError(422, f"{field}: {err}", field) from None
        except OverflowError:
            raise ApiError(422, f"{field}: {text.strip()[:60]!r} is out of range", field) from None
    try:
        moment = datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw and " " in raw else raw)
    except ValueError:
        raise ApiError(422, f"{field}: {text[:60]!r} is not an ISO-8601 time (e.g. 2024-11-11T23:30:00+08:00), "
                            "'now' or '-2h'", field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))
