"""`postgres`: how full the database's connection slots are."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from collectors.base import METRIC_NAME, CollectError
from collectors.pg import PgCollector, PgSettings
from warroom.values import Sample


class PostgresSettings(PgSettings):
    """`type: postgres` — the share of connection slots in use (a full server turns customers away)."""

    type: Literal["postgres"]
    metric: str = Field(
        default="db_connections",
        pattern=METRIC_NAME,
        description="Percent of max_connections in use; `.count` and `.max` hold the raw numbers.",
    )

    def produces(self) -> list[str]:
        """The percentage, the session count and max_connections."""
        return [self.metric, f"{self.metric}.count", f"{self.metric}.max"]


# Only client backends take max_connections slots: autovacuum, background workers and (since 12) WAL
# senders have their own pools, so counting them would overstate how close the server is to refusing
# customers. The collector's own session is a client backend and is counted, because it holds a slot.
# The `pg_read_all_stats` check guards against a silent undercount: without it pg_stat_activity hides the
# backend_type of other roles' sessions.
CONNECTIONS_QUERY = """
select count(*) filter (where backend_type = 'client backend')::bigint,
       current_setting('max_connections')::bigint,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
       current_user::text
from pg_stat_activity
"""


class PostgresCollector(PgCollector):
    """Polls pg_stat_activity over one persistent read-only session."""

    settings_model = PostgresSettings
    settings: PostgresSettings

    def collect(self, now: datetime) -> list[Sample]:
        """One poll: `<metric>` (percent), `<metric>.count` and `<metric>.max`."""
        _, rows = self.session.fetch(CONNECTIONS_QUERY)
        count, max_connections, sees_all, role = rows[0]
        if not sees_all:
            raise CollectError(
                f"{self.session.target}: role {role!r} cannot see other roles' sessions in pg_stat_activity, "
                f"so the count would be too low; grant it pg_monitor (GRANT pg_monitor TO {role})"
            )
        metric = self.settings.metric
        return [
            Sample(now, metric, 100.0 * count / max_connections),
            Sample(now, f"{metric}.count", float(count)),
            Sample(now, f"{metric}.max", float(max_connections)),
        ]
