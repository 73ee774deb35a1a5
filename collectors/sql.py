"""`sql`: one business number (success rate, orders per minute) computed by a read-only query."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from collectors.base import METRIC_NAME, CollectError
from collectors.pg import PgCollector, PgSettings
from warroom.values import Sample


class SqlSettings(PgSettings):
    """`type: sql` — run `query` each poll in a read-only transaction; its one number is `metric`."""

    type: Literal["sql"]
    query: str = Field(
        min_length=1,
        description="One statement returning one row with one numeric column; it runs read-only.",
    )
    metric: str = Field(pattern=METRIC_NAME, description="The metric the query's value is stored as.")

    def produces(self) -> list[str]:
        """The one metric."""
        return [self.metric]


def _describe(value: Any) -> str:
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{type(value).__name__} {shown}"


class SqlCollector(PgCollector):
    """Runs the configured query over one persistent read-only session."""

    settings_model = SqlSettings
    settings: SqlSettings

    def collect(self, now: datetime) -> list[Sample]:
        """One poll: the query's single value as `metric`."""
        columns, rows = self.session.fetch(self.settings.query)
        target = self.session.target
        if columns is None:
            raise CollectError(
                f"{target}: the query returned no result; it must be a SELECT returning one number"
            )
        if len(columns) != 1:
            raise CollectError(
                f"{target}: the query returned {len(columns)} columns ({', '.join(columns)}); "
                "it must return exactly one"
            )
        if not rows:
            raise CollectError(f"{target}: the query returned no rows; it must return exactly one")
        if len(rows) > 1:
            raise CollectError(
                f"{target}: the query returned more than one row; it must return exactly one (aggregate it)"
            )
        value = rows[0][0]
        if value is None:
            # Usually an aggregate or a division over an empty window; zero may not be what is meant,
            # so the operator decides with coalesce() rather than the collector guessing.
            raise CollectError(
                f"{target}: the query returned NULL ({columns[0]}); use coalesce() if a value is meant"
            )
        # bool is an int in Python but a yes/no in SQL; storing it as 1.0 would hide a wrong query.
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise CollectError(
                f"{target}: the query returned {_describe(value)} ({columns[0]}), not a number"
            )
        number = float(value)
        if not math.isfinite(number):
            raise CollectError(f"{target}: the query returned {value} ({columns[0]}), not a finite number")
        return [Sample(now, self.settings.metric, number)]
