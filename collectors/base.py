"""The collector contract: built from its config section, `check()` once, `collect(now)` each poll."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import requests
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from warroom.durations import Duration
from warroom.values import Sample, utc_now

METRIC_NAME = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"
# A metric name as a settings' mapping key (`fields`, `gauges`, `queries`) spells it.
MetricName = Annotated[str, StringConstraints(pattern=METRIC_NAME)]


class CollectorSettings(BaseModel):
    """Fields every collector section has; each collector module subclasses it with `type: Literal[...]`."""

    model_config = ConfigDict(extra="forbid")

    type: str
    name: str = Field(min_length=1, description="Unique collector name, shown in run records and errors.")
    interval: Duration = Field(default=5.0, gt=0, description="How often to poll, e.g. 1s, 5s.")
    timeout: Duration = Field(default=3.0, gt=0, description="How long one poll may take.")

    def produces(self) -> list[str]:
        """Metric names this collector writes (used to check that every configured metric is fed)."""
        raise NotImplementedError


class CollectError(Exception):
    """A poll that failed, with a readable reason; `samples` are values measured despite the failure.

    An HTTP timeout is both: the user waited at least the timeout, so that is the measured
    response time, and it is still a failed run.
    """

    def __init__(self, reason: str, samples: list[Sample] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.samples = samples or []


@dataclass
class CollectorContext:
    """The I/O a collector may use, passed in so tests need no monkeypatching."""

    clock: Callable[[], datetime] = utc_now
    # Deadlines and rates between polls are timed by this, never by the wall clock, which can step.
    monotonic: Callable[[], float] = time.monotonic
    session_factory: Callable[[], requests.Session] = requests.Session
    psutil: Any = None

    def ps(self) -> Any:
        """The psutil-like object; the real psutil unless one was injected."""
        if self.psutil is None:
            import psutil

            self.psutil = psutil
        return self.psutil


class Collector(ABC):
    """One configured source. Subclasses set `settings_model` and implement `collect`."""

    settings_model: type[CollectorSettings] = CollectorSettings

    def __init__(self, settings: CollectorSettings, context: CollectorContext):
        self.settings = settings
        self.context = context

    @property
    def name(self) -> str:
        """The configured name."""
        return self.settings.name

    def check(self) -> None:
        """Called once at start; raise CollectError if the target is plainly misconfigured."""

    @abstractmethod
    def collect(self, now: datetime) -> list[Sample]:
        """Poll once; raise CollectError with a readable reason on failure."""

    def close(self) -> None:
        """Release connections and sessions."""
