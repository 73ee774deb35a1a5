"""The explicit map from a config `type:` to its collector class; nothing is discovered by magic.

The map is checked as it is built, at import, so a mistake stops `warroom collect` and `warroom validate`
before anything polls (as prometheus_client's registry refuses a duplicated name): a `type:` listed twice,
or a class whose settings model declares another `type` literal than the one it is listed under (the
config's discriminated union picks the settings by that literal, so the two must agree).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from types import MappingProxyType

from collectors.base import Collector, CollectorSettings
from collectors.http_probe import HttpProbe
from collectors.json_api import JsonApiCollector
from collectors.postgres import PostgresCollector
from collectors.prometheus_scrape import PrometheusScrape
from collectors.promql import PromqlCollector
from collectors.sql import SqlCollector
from collectors.system import SystemCollector


class RegistryError(Exception):
    """A collector registration that would make a config `type:` ambiguous or point at the wrong settings."""


def declared_type(cls: type[Collector]) -> str | None:
    """The one `type` literal the class's settings model declares, or None when it declares no single one."""
    field = cls.settings_model.model_fields.get("type")
    if field is None or typing.get_origin(field.annotation) is not typing.Literal:
        return None
    values = typing.get_args(field.annotation)
    return values[0] if len(values) == 1 and isinstance(values[0], str) else None


def _declared_text(settings: type[CollectorSettings]) -> str:
    field = settings.model_fields.get("type")
    if field is None:
        return "no `type` field"
    annotation = field.annotation
    if typing.get_origin(annotation) is typing.Literal:
        return "type: Literal[" + ", ".join(repr(value) for value in typing.get_args(annotation)) + "]"
    return f"type: {getattr(annotation, '__name__', annotation)}"


def registry(*entries: tuple[str, type[Collector]]) -> Mapping[str, type[Collector]]:
    """A read-only map from `type:` to class; RegistryError on a duplicate type or a settings `type` that disagrees."""
    found: dict[str, type[Collector]] = {}
    for kind, cls in entries:
        if not (isinstance(cls, type) and issubclass(cls, Collector)):
            raise RegistryError(f"collector type {kind!r}: {cls!r} is not a Collector subclass")
        if kind in found:
            raise RegistryError(
                f"collector type {kind!r} registered twice ({found[kind].__name__} and {cls.__name__}): "
                "a config `type:` must name exactly one collector"
            )
        if declared_type(cls) != kind:
            settings = cls.settings_model
            raise RegistryError(
                f"collector type {kind!r}: {cls.__name__}.settings_model {settings.__name__} declares "
                f"{_declared_text(settings)}, expected type: Literal[{kind!r}]"
            )
        found[kind] = cls
    return MappingProxyType(found)


COLLECTORS: Mapping[str, type[Collector]] = registry(
    ("http", HttpProbe),
    ("system", SystemCollector),
    ("postgres", PostgresCollector),
    ("sql", SqlCollector),
    ("json", JsonApiCollector),
    ("prometheus", PrometheusScrape),
    ("promql", PromqlCollector),
)


def settings_models() -> list[type[CollectorSettings]]:
    """Each registered collector's settings model, in registry order (the config's `collectors:` union)."""
    return [cls.settings_model for cls in COLLECTORS.values()]


def collector_class(kind: str) -> type[Collector]:
    """The class for a config `type:`; KeyError lists the known types."""
    try:
        return COLLECTORS[kind]
    except KeyError:
        known = ", ".join(sorted(COLLECTORS))
        raise KeyError(f"unknown collector type {kind!r} (known: {known})") from None
