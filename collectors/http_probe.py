"""`http`: how long a customer waits for each page, and the worst of them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collectors.base import METRIC_NAME, CollectError, CollectorContext
from collectors.web import AbsoluteUrl, FetchError, WebCollector, WebSettings, target_of
from warroom.values import Sample

# The part after the dot in `<metric>.<name>`; METRIC_NAME allows exactly this in later segments.
URL_NAME = r"^[a-z0-9_]+$"
_MAX_WORKERS = 8


class ProbeTarget(BaseModel):
    """One page to time."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=URL_NAME, description="Short name; this page's metric is `<metric>.<name>`.")
    url: AbsoluteUrl = Field(description="Absolute http:// or https:// URL to GET.")


class HttpSettings(WebSettings):
    """`type: http` — GET each URL concurrently and time it until the body is read."""

    type: Literal["http"]
    metric: str = Field(
        pattern=METRIC_NAME,
        description="Worst response time across the URLs in seconds; each URL also writes `<metric>.<name>`.",
    )
    urls: list[ProbeTarget] = Field(min_length=1, description="Pages to time: a list of {name, url}.")
    expect_status: int | list[int] = Field(
        default=200, description="Status code (or list of codes) that counts as a good answer."
    )
    expect_keyword: str | None = Field(
        default=None, min_length=1, description="Text that must appear in the body (first 1 MB)."
    )

    @field_validator("expect_status")
    @classmethod
    def _real_statuses(cls, value: int | list[int]) -> int | list[int]:
        codes = value if isinstance(value, list) else [value]
        if not codes:
            raise ValueError("list at least one status code")
        for code in codes:
            if not 100 <= code <= 599:
                raise ValueError(f"{code} is not an HTTP status code")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> HttpSettings:
        names = [target.name for target in self.urls]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"urls: names must be unique, repeated: {', '.join(repeated)}")
        return self

    def statuses(self) -> set[int]:
        """The accepted status codes."""
        return set(self.expect_status if isinstance(self.expect_status, list) else [self.expect_status])

    def produces(self) -> list[str]:
        """The aggregate and one metric per URL."""
        return [self.metric, *(f"{self.metric}.{target.name}" for target in self.urls)]


@dataclass(frozen=True)
class _Probe:
    """One URL's outcome: the measured wait (None when nobody could wait) and what went wrong."""

    seconds: float | None
    problem: str | None


class HttpProbe(WebCollector):
    """Times every configured page concurrently; the aggregate is the worst wait."""

    settings_model = HttpSettings
    settings: HttpSettings
    concurrent = True  # the URLs are probed at once, so each worker thread keeps its own session

    def __init__(self, settings: HttpSettings, context: CollectorContext):
        super().__init__(settings, context)
        self._pool: ThreadPoolExecutor | None = None

    def _probe(self, target: ProbeTarget) -> _Probe:
        settings = self.settings
        try:
            reply = self.web.get(target.url, timeout=settings.timeout)
        except FetchError as exc:
            return _Probe(exc.waited, exc.reason)
        shown = target_of(target.url)
        if reply.status not in settings.statuses():
            expected = " or ".join(str(code) for code in sorted(settings.statuses()))
            return _Probe(reply.seconds, f"{shown}: {reply.status_text()} (expected {expected})")
        keyword = settings.expect_keyword
        if keyword is not None and keyword.encode() not in reply.body:
            return _Probe(reply.seconds, f"{shown}: keyword {keyword!r} not found in the reply")
        return _Probe(reply.seconds, None)

    def collect(self, now: datetime) -> list[Sample]:
        """Probe every URL at once; fail naming each bad URL, keeping every wait that was measured."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=min(len(self.settings.urls), _MAX_WORKERS),
                thread_name_prefix=f"http-{self.name}",
            )
        futures = [(target, self._pool.submit(self._probe, target)) for target in self.settings.urls]
        samples: list[Sample] = []
        problems: list[str] = []
        for target, future in futures:
            probe = future.result()
            if probe.seconds is not None:
                samples.append(Sample(now, f"{self.settings.metric}.{target.name}", probe.seconds))
            if probe.problem is not None:
                problems.append(probe.problem)
        if samples:
            # A refused URL has no wait, so the worst wait is over the URLs that answered or timed out.
            samples.append(Sample(now, self.settings.metric, max(sample.value for sample in samples)))
        if problems:
            raise CollectError("; ".join(problems), samples=samples)
        return samples

    def close(self) -> None:
        """Stop the worker threads and close their sessions."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        super().close()
