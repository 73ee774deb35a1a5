"""The API answers a report is made of, fetched once from a running API (an archive served on a free port)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import requests

SERIES_POINTS = 600


@dataclass(frozen=True)
class Answers:
    """Everything the report shows, exactly as the API answered it."""

    campaign: dict[str, Any]
    config: dict[str, Any]
    board: dict[str, Any]
    outcome: dict[str, Any]
    series: dict[str, list[list[Any]]]
    alerts: list[dict[str, Any]]
    annotations: list[dict[str, Any]]
    runsheet: list[dict[str, Any]]
    bands: dict[str, list[dict[str, Any]]]
    collectors: list[dict[str, Any]]
    silences: list[dict[str, Any]]
    start: str
    end: str


class Progress:
    """A one-line progress bar on stderr (the report of a whole day takes seconds)."""

    def __init__(self, total: int, out: TextIO = sys.stderr, width: int = 30):
        self.total, self.done, self.out, self.width = max(1, total), 0, out, width

    def step(self, what: str) -> None:
        """Advance by one and redraw with what is being done."""
        self.done = min(self.total, self.done + 1)
        filled = self.width * self.done // self.total
        self.out.write(f"\r[{'#' * filled}{' ' * (self.width - filled)}] {self.done}/{self.total} {what:<28.28}")
        self.out.flush()

    def finish(self) -> None:
        """End the bar's line."""
        self.out.write("\n")
        self.out.flush()


def fetch(base: str, start: str, end: str, progress: Callable[[str], None] = lambda _: None,
          timeout: float = 60.0) -> Answers:
    """Call the API once per answer, over [start, end] (ISO-8601 with an offset)."""
    session = requests.Session()

    def get(path: str, **params: Any) -> Any:
        progress(path.rsplit("/", 1)[-1])
        reply = session.get(base + path, params=params, timeout=timeout)
        reply.raise_for_status()
        return reply.json()

    campaign = get("/api/v1/campaign")
    lo, hi = start, end
    window = {"from": lo, "to": hi}
    return Answers(
        campaign=campaign, config=get("/api/v1/config"), board=get("/api/v1/board", at=hi),
        outcome=get("/api/v1/outcome", **window),
        series=get("/api/v1/series", points=SERIES_POINTS, **window)["series"],
        alerts=get("/api/v1/alerts", state="all", **window)["alerts"],
        annotations=get("/api/v1/annotations", **window)["annotations"],
        runsheet=get("/api/v1/runsheet", at=hi)["steps"],
        bands=get("/api/v1/timeline", **window)["bands"],
        collectors=get("/api/v1/collectors", **window)["collectors"],
        silences=get("/api/v1/silences", active="false")["silences"], start=lo, end=hi)


FETCHES = 11
