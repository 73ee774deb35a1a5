"""What is sent and what came back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Page:
    """One message about one alert step, ready for any channel."""

    alert_id: int
    metric: str
    kind: str
    """opened | raised | escalated | repeat | moved_up | resolved"""
    level: str
    title: str
    body: str
    started_at: datetime
    ended_at: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ack_url: str | None = None
    tail: str = ""
    """The lines every page of the moment shares (KPI and countdown, board link): said once in a grouped page."""
    voice: str = ""
    """For urgent channels: the few words a phone call says (level, metric, value, press the link)."""
    locale: str = "en"
    """The campaign's language, for a voice that reads the page aloud."""


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt on one channel."""

    ok: bool
    error: str | None = None
    unconfirmed: bool = False
    """The request went out but no answer came in time: it may have arrived, so it is never re-sent."""
