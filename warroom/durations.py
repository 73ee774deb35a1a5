"""Durations as people write them in config: `500ms`, `5s`, `2m`, `1h30m`."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str | int | float) -> float:
    """Seconds from `1h30m`, `500ms`, `5s` or a bare number of seconds; ValueError names the text."""
    if isinstance(text, bool):
        raise ValueError(f"expected a duration like '5s', got {text!r}")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"a duration cannot be negative: {text!r}")
        return float(text)
    raw = str(text).strip()
    pos, total = 0, 0.0
    for match in _PART.finditer(raw):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    if pos != len(raw) or not raw:
        raise ValueError(f"expected a duration like '500ms', '5s', '2m' or '1h30m', got {text!r}")
    return total


def format_duration(seconds: float) -> str:
    """The shortest readable form, for messages: 5s, 2m30s, 1h05m."""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.0f}s" if seconds == int(seconds) else f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A pydantic field type: seconds as float, written in config as `5s`."""
