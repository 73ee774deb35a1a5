"""The one way to build the API: the daemon serves it live, `warroom replay` read-only over an archive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from alerts.ack_page import AckPages
from alerts.engine import AlertEngine
from alerts.log import AlertLog
from alerts.silences import Silences
from warroom import __version__
from warroom.api.context import ApiContext, LiveNight
from warroom.api.errors import answer_errors, document_errors
from warroom.api.gate import Refusals, RequestGate
from warroom.api.read_model import BoardReader
from warroom.api.read_only import ReadOnly
from warroom.api.routes import actions, board, duty, people, record, reports
from warroom.record.campaign import CampaignRecord
from warroom.record.sign_ins import Sessions
from warroom.record.source import ArchivedNight, NightSource
from warroom.values import PollResult

# In this order in the OpenAPI schema; routers that need the live night guard themselves (warroom.api.read_only).
ROUTERS = (board.router, record.router, actions.router, duty.router, people.router, reports.router)


def create_app(
    reader: BoardReader,
    clock: Callable[[], datetime],
    status: Callable[[], dict[str, Any]] | None = None,
    *,
    night: NightSource | None = None,
    campaign: CampaignRecord | None = None,
    engine: AlertEngine | None = None,
    deliver: Callable[[PollResult], None] | None = None,
) -> FastAPI:
    """The FastAPI app with every router; with an engine (and `deliver` for pushes) live, else a read-only archive.

    `status` reports the daemon's own health; `night` is the record the reads come from (the engine
    when live, else the reader's store read back).
    """
    if (engine is None) != (deliver is None):
        raise ValueError("create_app: a live app needs both the engine and deliver, an archive neither")
    app = FastAPI(title="warroom", version=__version__,
                  description="Read API of the warroom daemon: the board, series, runs and /metrics.")
    live = None
    if engine is not None and deliver is not None:
        sessions = Sessions(engine.log.store, engine.secret, clock(), shared=engine.cfg.ha is not None)
        live = LiveNight(engine, deliver, AckPages(engine.writer), sessions)
    if night is None:
        night = engine if engine is not None else ArchivedNight(reader.cfg, AlertLog(reader.store),
                                                                Silences(reader.store), clock)
    refusals = Refusals()
    app.state.context = ApiContext(reader, clock, status or (lambda: {}), night, campaign, refusals, live)
    app.add_middleware(RequestGate, token_env=reader.cfg.server.token_env, refusals=refusals)
    if live is None:
        # Outside the gate: a replayed night cannot be changed, so a write is 409 whatever token it carries.
        app.add_middleware(ReadOnly)
    answer_errors(app)
    for router in ROUTERS:
        app.include_router(router)
    document_errors(app, read_only=live is None)
    return app
