"""What every route reads, put on `app.state` once by create_app and handed to handlers as a FastAPI dependency.

The daemon and replay differ only in what they put here: replay has no live night (no engine to
page, nowhere to push), so the routes that need one answer 409 (warroom.api.read_only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from alerts.ack_page import AckPages
from alerts.engine import AlertEngine
from warroom.api.gate import Refusals
from warroom.api.read_model import BoardReader
from warroom.record.campaign import CampaignRecord
from warroom.record.sign_ins import Sessions
from warroom.record.source import NightSource
from warroom.values import PollResult


@dataclass(frozen=True)
class LiveNight:
    """What only the live daemon has: the engine that pages, where pushed samples go, the ack link's pages, sessions."""

    engine: AlertEngine
    deliver: Callable[[PollResult], None]
    pages: AckPages
    sessions: Sessions


@dataclass(frozen=True)
class ApiContext:
    """The board reader, the one clock, the night's record and its campaign, refusals; the live night if any."""

    reader: BoardReader
    clock: Callable[[], datetime]
    status: Callable[[], dict[str, Any]]
    night: NightSource
    campaign: CampaignRecord | None
    refusals: Refusals
    live: LiveNight | None = None
    ha: Callable[[], dict[str, Any]] | None = None
    """This node's `ha` health (warroom.daemon.ha) when it is one of a cluster: the wall says when HA is degraded."""

    @property
    def token_env(self) -> str:
        """The variable holding the board token (the gate reads the same one)."""
        return self.reader.cfg.server.token_env


async def context(request: Request) -> ApiContext:
    """FastAPI dependency: the context create_app put on the app."""
    return request.app.state.context


Context = Annotated[ApiContext, Depends(context)]
