"""`promql`: instant queries against a Prometheus server, each answering exactly one number."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from collectors.base import CollectError, CollectorContext, MetricName
from collectors.web import AbsoluteUrl, FetchError, Reply, WebCollector, WebSettings, target_of
from warroom.durations import Duration, format_duration
from warroom.values import Sample, as_utc

Expression = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_SHOWN_SERIES = 3


class PromqlSettings(WebSettings):
    """`type: promql` — one instant query per metric against Prometheus' HTTP API."""

    type: Literal["promql"]
    url: AbsoluteUrl = Field(
        description="Prometheus base URL, e.g. http://127.0.0.1:9090 (/api/v1/query is added)."
    )
    queries: dict[MetricName, Expression] = Field(
        min_length=1,
        description="Metric → PromQL expression returning one series or a scalar, e.g. "
        "`sum(rate(http_requests_total[1m]))`.",
    )
    stale_after: Duration = Field(
        default=30.0, gt=0, description="Reject an answer whose timestamp is older than this, e.g. 30s."
    )

    def produces(self) -> list[str]:
        """One metric per query."""
        return list(self.queries)


class QueryProblem(ValueError):
    """A reply that does not give one fresh, finite number; the message is the readable reason."""


def _labels(series: dict[str, Any]) -> str:
    metric = series.get("metric") or {}
    return "{" + ", ".join(f'{key}="{value}"' for key, value in sorted(metric.items())) + "}"


def one_value(answer: Any) -> tuple[float, float]:
    """(unix timestamp, value) from a query answer that must hold exactly one sample."""
    if not isinstance(answer, dict):
        raise QueryProblem("reply is not a Prometheus API answer")
    if answer.get("status") == "error":
        raise QueryProblem(f"Prometheus error {answer.get('errorType', '?')}: {answer.get('error', '?')}")
    if answer.get("status") != "success":
        raise QueryProblem(f"reply status is {answer.get('status')!r}, expected 'success'")
    try:
        kind, result = answer["data"]["resultType"], answer["data"]["result"]
        if kind == "scalar":
            stamp, raw = result
        elif kind == "vector":
            if len(result) != 1:
                shown = ", ".join(_labels(series) for series in result[:_SHOWN_SERIES])
                more = ", ..." if len(result) > _SHOWN_SERIES else ""
                hint = f": {shown}{more}" if result else " (no such series, or it went stale)"
                raise QueryProblem(f"{len(result)} series in the answer, expected exactly 1{hint}")
            stamp, raw = result[0]["value"]
        else:
            raise QueryProblem(f"a {kind} in the answer, expected a scalar or an instant vector")
        return float(stamp), float(raw)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        if isinstance(exc, QueryProblem):
            raise
        raise QueryProblem(f"reply is not a Prometheus query answer ({type(exc).__name__}: {exc})") from None


def judge(reply: Reply, now: datetime, stale_after: float) -> float:
    """The one value of a query reply, or QueryProblem when it is an error, not one series, stale or NaN."""
    try:
        answer = reply.json()
    except ValueError as exc:
        # Prometheus puts its error in a JSON body on 400/422/503; anything else is only a status.
        raise QueryProblem(reply.status_text() if not reply.ok else str(exc)) from None
    if not reply.ok and not (isinstance(answer, dict) and answer.get("status") == "error"):
        raise QueryProblem(reply.status_text())
    stamp, value = one_value(answer)
    age = as_utc(now).timestamp() - stamp
    if age > stale_after:
        shown_age = format_duration(round(age) if age >= 1 else age)
        raise QueryProblem(f"value is {shown_age} old, stale_after is {format_duration(stale_after)}")
    if math.isnan(value):
        raise QueryProblem("value is NaN")
    if math.isinf(value):
        raise QueryProblem(f"value is {'+' if value > 0 else '-'}Inf, not a finite number")
    return value


class PromqlCollector(WebCollector):
    """Runs each configured query in turn within one poll's timeout."""

    settings_model = PromqlSettings
    settings: PromqlSettings

    def __init__(self, settings: PromqlSettings, context: CollectorContext):
        super().__init__(settings, context)
        self._endpoint = settings.url.rstrip("/") + "/api/v1/query"

    def collect(self, now: datetime) -> list[Sample]:
        """One sample per query; CollectError names every query that failed and keeps the rest."""
        settings = self.settings
        samples: list[Sample] = []
        problems: list[str] = []
        monotonic = self.context.monotonic
        started = monotonic()
        queries = list(settings.queries.items())
        for done, (metric, expression) in enumerate(queries):
            # The timeout bounds the whole poll, so later queries get what the earlier ones left.
            left = settings.timeout - (monotonic() - started)
            try:
                if left <= 0:
                    timeout = format_duration(settings.timeout)
                    raise FetchError(f"{target_of(self._endpoint)}: timed out after {timeout}")
                reply = self.web.get(self._endpoint, timeout=left, params={"query": expression})
            except FetchError as exc:
                # The server is unreachable or too slow; the remaining queries would only repeat that.
                skipped = len(queries) - done - 1
                noun = "query" if skipped == 1 else "queries"
                problems.append(exc.reason + (f" ({skipped} more {noun} not run)" if skipped else ""))
                break
            try:
                samples.append(Sample(now, metric, judge(reply, now, settings.stale_after)))
            except QueryProblem as exc:
                problems.append(f"{metric}: query {expression!r}: {exc}")
        if problems:
            raise CollectError("; ".join(problems), samples=samples)
        return samples
