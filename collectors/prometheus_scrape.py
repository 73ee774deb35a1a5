"""`prometheus`: scrape one exposition endpoint (node_exporter, an app's /metrics) directly.

Gauges are read as they are; counters become per-second rates between this scrape and the
previous one, timed by the collector's own monotonic clock (the wall clock can step).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Literal

from prometheus_client.parser import text_string_to_metric_families
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from collectors.base import CollectError, CollectorContext, MetricName
from collectors.web import AbsoluteUrl, WebCollector, WebSettings, target_of
from warroom.values import Sample

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
# Series by name: (name and sorted labels, value).
Index = dict[str, list[tuple[SeriesKey, float]]]

CPU_SECONDS = "node_cpu_seconds_total"
# Not work: idle, and iowait. iowait is idle time during which a disk request was outstanding: the
# CPU could have run anything else, and the kernel documents the figure as unreliable. Same split as
# psutil.cpu_percent, top and htop, so `system` and this agree. Busy is therefore user, nice, system,
# irq, softirq and steal (a VM's stolen time is time it wanted to run and could not). Dashboards that
# compute `1 - rate(idle)` count iowait as busy; `iowait_busy: true` gives that reading.
CPU_NOT_BUSY = frozenset({"idle", "iowait"})
_ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

_NAME = re.compile(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*")
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*')
_ESCAPES = {"n": "\n", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class Selector:
    """A PromQL-style series selector: a name and label matchers (=, !=, =~, !~)."""

    text: str
    name: str
    matchers: tuple[tuple[str, str, str], ...]

    def matches(self, labels: dict[str, str]) -> bool:
        """True when every matcher holds; a missing label counts as the empty string, as in PromQL."""
        for label, op, value in self.matchers:
            actual = labels.get(label, "")
            if op == "=" and actual != value:
                return False
            if op == "!=" and actual == value:
                return False
            if op in ("=~", "!~") and (re.fullmatch(value, actual) is not None) != (op == "=~"):
                return False
        return True


def parse_selector(text: str) -> Selector:
    """`family` or `family{label="value",other!~"re.*"}`; ValueError says what is wrong."""
    name_match = _NAME.match(text)
    if not name_match:
        raise ValueError(f"selector {text!r} must start with a metric name")
    rest = text[name_match.end() :]
    matchers: list[tuple[str, str, str]] = []
    if rest:
        if not (rest.startswith("{") and rest.rstrip().endswith("}")):
            raise ValueError(f'selector {text!r}: expected {{label="value", ...}} after the name')
        body, pos = rest.rstrip()[1:-1], 0
        while body[pos:].strip():
            matcher = _MATCHER.match(body, pos)
            if not matcher:
                raise ValueError(f"selector {text!r}: cannot read a label matcher at {body[pos:]!r}")
            label, op, raw = matcher.groups()
            value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), raw)
            if op in ("=~", "!~"):
                try:
                    re.compile(value)
                except re.error as exc:
                    raise ValueError(f"selector {text!r}: bad regular expression {value!r}: {exc}") from None
            matchers.append((label, op, value))
            pos = matcher.end()
            if body[pos:].strip():
                if body[pos] != ",":
                    raise ValueError(f"selector {text!r}: expected ',' between label matchers")
                pos += 1
    return Selector(text.strip(), name_match.group(1), tuple(matchers))


def _valid_selector(text: str) -> str:
    parse_selector(text)
    return text


SelectorText = Annotated[str, AfterValidator(_valid_selector)]


class Rate(BaseModel):
    """A counter turned into a per-second rate."""

    model_config = ConfigDict(extra="forbid")

    selector: SelectorText = Field(description='Counter series, e.g. `http_requests_total{code="500"}`.')
    scale: float = Field(default=1.0, description="Multiplier, e.g. 60 for per minute.")


class GaugeRatio(BaseModel):
    """One gauge over another, e.g. connections in use over the pool's maximum, as a percentage."""

    model_config = ConfigDict(extra="forbid")

    numerator: SelectorText = Field(description="Gauge series on top, e.g. `demo_db_connections`.")
    denominator: SelectorText = Field(description="Gauge series below, e.g. `demo_db_max_connections`.")
    scale: float = Field(default=100.0, description="Multiplier; 100 gives a percentage.")


class PrometheusScrapeSettings(WebSettings):
    """`type: prometheus` — scrape a Prometheus text exposition endpoint."""

    type: Literal["prometheus"]
    url: AbsoluteUrl = Field(description="The exposition URL, e.g. http://127.0.0.1:9100/metrics.")
    cpu_metric: MetricName | None = Field(
        default=None,
        description="Metric for CPU busy % from node_cpu_seconds_total since the previous scrape "
        "(all CPUs; idle and iowait count as not busy). Null to skip.",
    )
    iowait_busy: bool = Field(
        default=False,
        description="Count iowait as busy, as `1 - rate(node_cpu_seconds_total{mode=\"idle\"})` does; "
        "default false, as psutil, top and htop.",
    )
    gauges: dict[MetricName, SelectorText] = Field(
        default_factory=dict,
        description='Metric → series selector, e.g. `node_load1` or `demo_queue{shard="a"}`; '
        "the value as exposed, several matching series are summed.",
    )
    rates: dict[MetricName, Rate] = Field(
        default_factory=dict,
        description="Metric → {selector, scale}: per-second rate of a counter between two scrapes "
        "(several matching series are summed; counter resets handled). The first scrape has no rate.",
    )
    ratios: dict[MetricName, GaugeRatio] = Field(
        default_factory=dict,
        description="Metric → {numerator, denominator, scale}: one gauge over another (each summed over "
        "its matching series); a zero denominator fails that metric.",
    )

    @model_validator(mode="after")
    def _something_to_read(self) -> PrometheusScrapeSettings:
        names = self.produces()
        if not names:
            raise ValueError("set cpu_metric or list at least one entry under gauges or rates")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"metric names used twice: {', '.join(repeated)}")
        return self

    def produces(self) -> list[str]:
        """The CPU metric (if set), every gauge, rate and ratio."""
        return [*([self.cpu_metric] if self.cpu_metric else []), *self.gauges, *self.rates, *self.ratios]


def parse_exposition(text: str) -> Index:
    """Series by name; a counter is also found by its family name without `_total`."""
    index: Index = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            entry = ((sample.name, tuple(sorted(sample.labels.items()))), float(sample.value))
            index.setdefault(sample.name, []).append(entry)
            if sample.name == f"{family.name}_total":
                index.setdefault(family.name, []).append(entry)
    return index


def counter_delta(before: float, after: float) -> float:
    """How much a counter grew; a smaller value means it restarted from 0, so all of it is new."""
    return after - before if after >= before else after


def increase(before: dict[SeriesKey, float], after: dict[SeriesKey, float]) -> tuple[float, int]:
    """Summed counter increase over the series seen both times, and how many those were."""
    common = [key for key in after if key in before]
    return sum(counter_delta(before[key], after[key]) for key in common), len(common)


class SeriesProblem(Exception):
    """One metric could not be read from an otherwise good scrape; the message is the reason."""


def _labels(selector: Selector) -> str:
    return selector.text[len(selector.name) :].strip()


class PrometheusScrape(WebCollector):
    """Scrapes one endpoint per poll; remembers counters between scrapes for rates and CPU %."""

    settings_model = PrometheusScrapeSettings
    settings: PrometheusScrapeSettings

    def __init__(self, settings: PrometheusScrapeSettings, context: CollectorContext):
        super().__init__(settings, context)
        self._cpu = parse_selector(CPU_SECONDS)
        self._gauges = {metric: parse_selector(text) for metric, text in settings.gauges.items()}
        self._rates = {metric: parse_selector(rate.selector) for metric, rate in settings.rates.items()}
        self._ratios = {metric: (parse_selector(r.numerator), parse_selector(r.denominator), r.scale)
                        for metric, r in settings.ratios.items()}
        # metric → (monotonic seconds, counter value per series) from the last scrape that had it.
        self._previous: dict[str, tuple[float, dict[SeriesKey, float]]] = {}
        self._cpu_previous: dict[SeriesKey, float] | None = None

    def _scrape(self) -> tuple[Index, float]:
        settings = self.settings
        target = target_of(settings.url)
        reply = self.web.get_ok(settings.url, timeout=settings.timeout, headers={"Accept": _ACCEPT})
        scraped_at = self.context.monotonic()
        try:
            return parse_exposition(reply.body.decode("utf-8")), scraped_at
        except UnicodeDecodeError:
            raise CollectError(f"{target}: reply is not UTF-8 text") from None
        except ValueError as exc:
            # The parser quotes the offending line, which in an HTML error page can be huge.
            detail = str(exc) if len(str(exc)) <= 160 else str(exc)[:157] + "..."
            raise CollectError(f"{target}: reply is not Prometheus text format: {detail}") from None

    @staticmethod
    def _select(index: Index, selector: Selector) -> dict[SeriesKey, float]:
        named = index.get(selector.name)
        if not named:
            raise SeriesProblem(f"no series '{selector.name}' in reply")
        chosen = {key: value for key, value in named if selector.matches(dict(key[1]))}
        if not chosen:
            raise SeriesProblem(f"no '{selector.name}' series matches {_labels(selector)}")
        return chosen

    def _cpu_percent(self, index: Index) -> float | None:
        series = self._select(index, self._cpu)
        previous, self._cpu_previous = self._cpu_previous, series
        if previous is None:
            return None
        busy = total = 0.0
        not_busy = {"idle"} if self.settings.iowait_busy else CPU_NOT_BUSY
        for key, value in series.items():
            if key not in previous:
                continue
            delta = counter_delta(previous[key], value)
            total += delta
            if dict(key[1]).get("mode") not in not_busy:
                busy += delta
        if total <= 0:
            raise SeriesProblem(f"no CPU time passed between two scrapes of '{CPU_SECONDS}'")
        return busy / total * 100.0

    def _gauge(self, index: Index, selector: Selector) -> float:
        return sum(self._select(index, selector).values())

    def _ratio(self, index: Index, top: Selector, bottom: Selector, scale: float) -> float:
        denominator = self._gauge(index, bottom)
        if denominator == 0:
            raise SeriesProblem(f"'{bottom.text}' is 0, so the ratio is undefined")
        return self._gauge(index, top) / denominator * scale

    def _rate(self, metric: str, index: Index, scraped_at: float) -> float | None:
        series = self._select(index, self._rates[metric])
        previous = self._previous.get(metric)
        if previous is not None and scraped_at <= previous[0]:
            return None  # no time passed by our clock: keep the older baseline
        self._previous[metric] = (scraped_at, series)
        if previous is None:
            return None
        grown, common = increase(previous[1], series)
        if not common:
            return None  # every series is new: no baseline yet, as on the first scrape
        return grown / (scraped_at - previous[0]) * self.settings.rates[metric].scale

    def collect(self, now: datetime) -> list[Sample]:
        """Scrape once; a missing series fails that metric only, the others are still returned."""
        index, scraped_at = self._scrape()
        jobs: list[tuple[str, Callable[[], float | None]]] = []
        if self.settings.cpu_metric:
            jobs.append((self.settings.cpu_metric, partial(self._cpu_percent, index)))
        for metric, selector in self._gauges.items():
            jobs.append((metric, partial(self._gauge, index, selector)))
        for metric in self._rates:
            jobs.append((metric, partial(self._rate, metric, index, scraped_at)))
        for metric, (top, bottom, scale) in self._ratios.items():
            jobs.append((metric, partial(self._ratio, index, top, bottom, scale)))
        samples: list[Sample] = []
        problems: list[str] = []
        for metric, compute in jobs:
            try:
                value = compute()
            except SeriesProblem as exc:
                problems.append(f"{metric}: {exc}")
                continue
            if value is None:
                continue
            if not math.isfinite(value):
                problems.append(f"{metric}: value is {value}, not a finite number")
                continue
            samples.append(Sample(now, metric, value))
        if problems:
            raise CollectError(f"{target_of(self.settings.url)}: " + "; ".join(problems), samples=samples)
        return samples
