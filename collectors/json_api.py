"""`json`: numbers (and ratios of numbers) picked by dotted path out of one JSON API reply."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from collectors.base import CollectError, MetricName
from collectors.web import AbsoluteUrl, WebCollector, WebSettings, target_of
from warroom.values import Sample

# Segments are object keys or list indexes; an empty segment (`a..b`) is always a typo.
JsonPath = Annotated[str, StringConstraints(pattern=r"^[^.]+(\.[^.]+)*$")]


class Ratio(BaseModel):
    """numerator / denominator × scale, e.g. answered calls over offered calls as a percentage."""

    model_config = ConfigDict(extra="forbid")

    numerator: JsonPath = Field(description="Dotted path of the numerator, e.g. `data.answered`.")
    denominator: JsonPath = Field(description="Dotted path of the denominator, e.g. `data.offered`.")
    scale: float = Field(default=100.0, description="Multiplier; 100 gives a percentage.")
    when_zero: Literal["no_traffic", "error"] = Field(
        default="no_traffic", description="A zero denominator: `no_traffic` (shown as such, paged to nobody) "
        "or `error` (a failed poll: the tile greys and no-data pages after stale_after).")


class JsonApiSettings(WebSettings):
    """`type: json` — GET one URL and pick numbers out of the JSON reply."""

    type: Literal["json"]
    url: AbsoluteUrl = Field(description="Absolute http:// or https:// URL returning JSON.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra request headers, e.g. Authorization: Bearer ${API_TOKEN}."
    )
    fields: dict[MetricName, JsonPath] = Field(
        default_factory=dict,
        description="Metric name → dotted path, e.g. `data.orders_total` or `items.0.value`.",
    )
    ratios: dict[MetricName, Ratio] = Field(
        default_factory=dict, description="Metric name → {numerator, denominator, scale (default 100)}."
    )

    @model_validator(mode="after")
    def _something_to_read(self) -> JsonApiSettings:
        if not self.fields and not self.ratios:
            raise ValueError("list at least one entry under fields or ratios")
        both = sorted(set(self.fields) & set(self.ratios))
        if both:
            raise ValueError(f"metric names used in both fields and ratios: {', '.join(both)}")
        return self

    def produces(self) -> list[str]:
        """Every field and ratio metric."""
        return [*self.fields, *self.ratios]


class FieldProblem(ValueError):
    """A path that does not lead to a usable number; the message is the readable reason."""


def _shown(value: Any) -> str:
    """A JSON value as a reason quotes it, cut short so one odd field cannot flood the log."""
    text = f"'{value}'" if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def pick(document: Any, path: str) -> Any:
    """The value at a dotted path (`items.0.value`); FieldProblem says where it is missing."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isascii() and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise FieldProblem(f"field '{path}' missing in reply")
    return current


def as_number(value: Any, path: str) -> float:
    """A finite float from a JSON number or numeric string; booleans are not numbers."""
    # bool is an int subclass in Python, but `true` as 1 would be a fake measurement.
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise FieldProblem(f"field '{path}' is {_shown(value)}, not a number") from None
    else:
        raise FieldProblem(f"field '{path}' is {_shown(value)}, not a number")
    if not math.isfinite(number):
        raise FieldProblem(f"field '{path}' is {_shown(value)}, not a finite number")
    return number


class JsonApiCollector(WebCollector):
    """Reads configured fields and ratios from one JSON reply; good fields survive a bad one."""

    settings_model = JsonApiSettings
    settings: JsonApiSettings

    def collect(self, now: datetime) -> list[Sample]:
        """GET the URL once and return every configured metric; CollectError lists each bad one."""
        settings = self.settings
        target = target_of(settings.url)
        reply = self.web.get_ok(settings.url, timeout=settings.timeout, headers=settings.headers)
        try:
            document = reply.json()
        except ValueError as exc:
            raise CollectError(f"{target}: {exc}") from None

        samples: list[Sample] = []
        problems: list[str] = []
        for metric, path in settings.fields.items():
            try:
                samples.append(Sample(now, metric, as_number(pick(document, path), path)))
            except FieldProblem as exc:
                problems.append(str(exc))
        for metric, ratio in settings.ratios.items():
            try:
                numerator = as_number(pick(document, ratio.numerator), ratio.numerator)
                denominator = as_number(pick(document, ratio.denominator), ratio.denominator)
            except FieldProblem as exc:
                problems.append(f"ratio {metric}: {exc}")
                continue
            if denominator == 0:
                # 0 answered of 0 offered is neither 0 % nor 100 %; a made-up value would colour the wall.
                # After a planned close it is simply no traffic: NaN tells the engine so (never stored).
                if ratio.when_zero == "no_traffic":
                    samples.append(Sample(now, metric, math.nan))
                else:
                    problems.append(f"ratio {metric}: denominator '{ratio.denominator}' is 0, ratio undefined")
                continue
            samples.append(Sample(now, metric, numerator / denominator * ratio.scale))
        if problems:
            raise CollectError(f"{target}: " + "; ".join(problems), samples=samples)
        return samples
