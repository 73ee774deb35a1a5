"""The explicit map from a config `type:` to its collector class; nothing is discovered by magic."""

from __future__ import annotations

from collectors.base import Collector
from collectors.http_probe import HttpProbe
from collectors.json_api import JsonApiCollector
from collectors.postgres import PostgresCollector
from collectors.prometheus_scrape import PrometheusScrape
from collectors.promql import PromqlCollector
from collectors.sql import SqlCollector
from collectors.system import SystemCollector

COLLECTORS: dict[str, type[Collector]] = {
    "http": HttpProbe,
    "system": SystemCollector,
    "postgres": PostgresCollector,
    "sql": SqlCollector,
    "json": JsonApiCollector,
    "prometheus": PrometheusScrape,
    "promql": PromqlCollector,
}


def collector_class(kind: str) -> type[Collector]:
    """The class for a config `type:`; KeyError lists the known types."""
    try:
        return COLLECTORS[kind]
    except KeyError:
        known = ", ".join(sorted(COLLECTORS))
        raise KeyError(f"unknown collector type {kind!r} (known: {known})") from None
