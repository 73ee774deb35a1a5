"""`ha:` and `heartbeat:`: a warroom pair (or three) on one PostgreSQL, and the dead man's switch.

Off by default: without `ha:` one node pages from its own DuckDB file exactly as before.
"""

from __future__ import annotations

import os
import socket

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collectors.base import CollectError
from collectors.pg import check_dsn
from warroom.durations import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class HaSettings(_Strict):
    """Two or three `warroom collect` nodes; one leader pages, chosen by a lease row in PostgreSQL."""

    dsn: str = Field(min_length=1, description="The lease store and shared alert log, e.g. ${WARROOM_HA_DSN}.")
    cluster: str | None = Field(default=None, min_length=1, max_length=100,
                                description="Nodes of one cluster share one lease; default: the campaign's name.")
    node: str | None = Field(default=None, min_length=1, max_length=100,
                             description="This node's name; default: the host name (WARROOM_NODE overrides both).")
    lease_ttl: Duration = Field(default=3.0, gt=0, le=60,
                                description="A leader that has not renewed for this long loses the lease.")
    renew_every: Duration = Field(default=1.0, gt=0, le=30)
    url: str | None = Field(default=None, description="This node's API as the other nodes and a proxy reach it; "
                            "a follower forwards acknowledgements, silences, stand-ins and decisions to the "
                            "leader's url.")

    @field_validator("dsn")
    @classmethod
    def _dsn_form(cls, dsn: str) -> str:
        try:
            check_dsn(dsn)
        except CollectError as err:
            raise ValueError(err.reason) from None
        return dsn

    @model_validator(mode="after")
    def _renewal_fits(self) -> HaSettings:
        if self.renew_every * 2 > self.lease_ttl:
            raise ValueError(f"renew_every ({self.renew_every:g}s) must be at most half of lease_ttl "
                             f"({self.lease_ttl:g}s): one late renewal must not hand the lease over")
        return self

    def node_name(self) -> str:
        """WARROOM_NODE, else the configured name, else the host name."""
        return os.environ.get("WARROOM_NODE") or self.node or socket.gethostname()


class HeartbeatSettings(_Strict):
    """The dead man's switch the leader feeds: a healthchecks-style URL and/or Alertmanagers' WarroomWatchdog."""

    every: Duration = Field(default=30.0, gt=0, le=3600)
    url: str | None = Field(default=None, description="Pinged (GET) every `every`, e.g. a healthchecks.io check.")
    alertmanagers: list[str] = Field(default_factory=list,
                                     description="Alertmanager base URLs that get an always-firing WarroomWatchdog.")

    @model_validator(mode="after")
    def _has_target(self) -> HeartbeatSettings:
        if not self.url and not self.alertmanagers:
            raise ValueError("heartbeat needs url or alertmanagers (or remove the section)")
        return self


def node_name(ha: HaSettings | None) -> str:
    """The name of this node in /api/v1/health: the HA node, else WARROOM_NODE, else the host name."""
    return ha.node_name() if ha is not None else os.environ.get("WARROOM_NODE") or socket.gethostname()
