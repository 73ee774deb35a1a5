"""The read API the board (and anyone else) uses; served by the daemon, or read-only by replay."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.exceptions import HTTPException as StarletteHTTPException

from warroom import __version__
from warroom.api.gate import LINK_ACK, READ_METHODS, Refusals, RequestGate
from warroom.api.params import ApiError, parse_moment
from warroom.api.read_model import BoardReader
from warroom.store.queries import collector_runs, series
from warroom.values import Level

log = logging.getLogger("warroom.api")

MAX_POINTS = 5000
MAX_WINDOW = timedelta(days=8)
# every error answer the routes can give, for the OpenAPI schema (clients and the fuzzer read it)
_ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["message"],
    "properties": {"message": {"type": "string"}, "field": {"type": ["string", "null"]}}}}}


_ERROR_WORDS = {"400": "Bad request (e.g. an unreadable Content-Length)", "403": "Refused: missing or wrong token",
                "404": "No such alert, metric, collector, silence or step",
                "409": "Conflicts with the current state (e.g. a push to a polled metric)", "413": "Body too large",
                "422": "Invalid parameter or body; `field` names it",
                "429": "Too many refused ack attempts from this client; retry later"}


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI schema tell the truth about errors: every answer a route can give, in its real shape.

    FastAPI documents only 422 and as {"detail": [...]}; the API answers {"error": {message, field}}
    and also 400/403/404/413 (and 429 on ack links), which clients and the fuzzer read from here.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for path, methods in schema.get("paths", {}).items():
            for method, operation in methods.items():
                codes = ["400", "404", "422"]
                if method.upper() not in READ_METHODS:
                    codes += ["403", "409", "413"]
                if LINK_ACK.match(path.replace("{alert_id}", "1")):
                    codes += ["403", "429"]
                responses = operation.setdefault("responses", {})
                # a page for people (the ack form) answers its own refusals as a page too
                html = "text/html" in responses.get("200", {}).get("content", {})
                for code in dict.fromkeys(codes):
                    content: dict[str, Any] = {"application/json": {"schema": _ERROR_SCHEMA}}
                    if html:
                        content["text/html"] = {"schema": {"type": "string"}}
                    responses[code] = {"description": _ERROR_WORDS[code], "content": content}
        schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class _Exposition:
    """prometheus_client collector producing the board's state at scrape time."""

    def __init__(self, reader: BoardReader, clock: Callable[[], datetime], status: Callable[[], dict[str, Any]]):
        self.reader, self.clock, self.status = reader, clock, status

    def collect(self):  # noqa: ANN201 - prometheus_client protocol
        board = self.reader.board(self.clock())
        value = GaugeMetricFamily("warroom_metric_value", "Latest value of each watched metric.",
                                  labels=["metric", "unit"])
        level = GaugeMetricFamily("warroom_metric_level",
                                  "Level of each metric: 0 green, 1 yellow, 2 orange, 3 red, -1 stale.",
                                  labels=["metric"])
        age = GaugeMetricFamily("warroom_metric_age_seconds", "Seconds since the metric's last sample.",
                                labels=["metric"])
        for tile in board["tiles"]:
            if tile["value"] is not None:
                value.add_metric([tile["metric"], tile["unit"]], tile["value"])
                age.add_metric([tile["metric"]], tile["age_s"])
            lvl = -1 if tile["stale"] else int(Level.from_word(tile["level"]))
            level.add_metric([tile["metric"]], lvl)
        yield from (value, level, age)
        status = self.status()
        up = GaugeMetricFamily("warroom_collector_up", "1 when the collector's last poll succeeded.",
                               labels=["collector"])
        dur = GaugeMetricFamily("warroom_collector_duration_seconds", "Duration of the collector's last poll.",
                                labels=["collector"])
        for name, run in status.get("collectors", {}).items():
            up.add_metric([name], 1.0 if run.get("ok") else 0.0)
            if run.get("duration_s") is not None:
                dur.add_metric([name], run["duration_s"])
        skipped = CounterMetricFamily("warroom_collector_skipped_polls",
                                      "Ticks a collector missed because its previous poll was still running.",
                                      labels=["collector"])
        for name, run in status.get("collectors", {}).items():
            if "skipped_polls" in run:
                skipped.add_metric([name], run["skipped_polls"])
        yield from (up, dur, skipped)
        if "tick_lag_s" in status:
            yield GaugeMetricFamily("warroom_scheduler_tick_lag_seconds",
                                    "Worst delay of a due poll in the last second.", value=status["tick_lag_s"])
        if "commits" in status:
            yield CounterMetricFamily("warroom_writer_commits", "Batched commits to the store.",
                                      value=status["commits"])
            yield CounterMetricFamily("warroom_samples_committed", "Samples committed to the store.",
                                      value=status["committed_samples"])
        yield from status.get("extra_families", [])


def create_app(
    reader: BoardReader,
    clock: Callable[[], datetime],
    status: Callable[[], dict[str, Any]] | None = None,
) -> FastAPI:
    """The FastAPI app over a BoardReader; `status` reports the daemon's own health."""
    app = FastAPI(title="warroom", version=__version__,
                  description="Read API of the warroom daemon: the board, series, runs and /metrics.")
    status = status or (lambda: {})
    cfg = reader.cfg
    zone = cfg.campaign.timezone
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Exposition(reader, clock, status))
    app.state.reader = reader
    app.state.refusals = Refusals()
    app.add_middleware(RequestGate, token_env=cfg.server.token_env, refusals=app.state.refusals)
    document_errors(app)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, err: ApiError) -> JSONResponse:
        return JSONResponse({"error": {"message": err.message, "field": err.field}}, status_code=err.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        headers = getattr(err, "headers", None)
        if err.status_code in (404, 405):
            # no such route: FastAPI's own {"detail": ...}, which the board reads as "this daemon lacks it"
            return JSONResponse({"detail": err.detail}, status_code=err.status_code, headers=headers)
        # FastAPI's other refusals (an undecodable body) in the API's one error shape
        return JSONResponse({"error": {"message": str(err.detail), "field": None}}, status_code=err.status_code,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first["loc"][1:]) or None
        msg = f"{field}: {first['msg']}" if field else first["msg"]
        return JSONResponse({"error": {"message": msg, "field": field}}, status_code=422)

    @app.get("/api/v1/health")
    def health() -> dict[str, Any]:
        """Is the daemon alive, and how is each collector doing."""
        # extra_families are prometheus_client objects meant for /metrics only
        body = {k: v for k, v in status().items() if k != "extra_families"}
        return {"status": "ok", "version": __version__, "now": clock().isoformat(), **body,
                "refusals": app.state.refusals.as_dict()}

    @app.get("/api/v1/board")
    def board(at: str | None = Query(None, description="ISO-8601 moment, 'now' or '-2h'")) -> dict[str, Any]:
        """One tile per metric with level and owner; with `at`, the board as it was then."""
        now = clock()
        moment = parse_moment(at, "at", zone, now) if at else None
        return reader.board(now, moment)

    @app.get("/api/v1/series")
    def get_series(
        metric: list[str] | None = Query(None, description="Metric name(s); all tiles when omitted."),
        from_: str = Query("-2h", alias="from"),
        to: str = Query("now"),
        points: int = Query(600, ge=2, le=MAX_POINTS),
    ) -> JSONResponse:
        """At most `points` points per metric, min and max per bucket kept (peaks survive)."""
        now = clock()
        start, end = parse_moment(from_, "from", zone, now), parse_moment(to, "to", zone, now)
        if end <= start:
            raise ApiError(422, f"to ({end.isoformat()}) must be after from ({start.isoformat()})", "to")
        if end - start > MAX_WINDOW:
            raise ApiError(422, f"window of {end - start} is longer than the {MAX_WINDOW.days}-day limit", "from")
        names = [m for part in (metric or []) for m in part.split(",") if m] or list(cfg.metrics)
        known = set(cfg.metrics) | set(cfg.feeders())
        unknown = [m for m in names if m not in known and not m.startswith("warroom.")]
        if unknown:
            raise ApiError(404, f"unknown metric {unknown[0]!r}", "metric")
        data = series(reader.store.reader(), names, start, end, points, reader.store.rolled_until(), iso=True)
        # A JSONResponse skips FastAPI's per-item encoder: thousands of points serialise in a few ms.
        return JSONResponse({"from": start.isoformat(), "to": end.isoformat(), "points": points,
                             "series": data})

    @app.get("/api/v1/runs")
    def runs(collector: str | None = None, from_: str = Query("-15m", alias="from"), to: str = "now",
             limit: int = Query(200, ge=1, le=5000)) -> dict[str, Any]:
        """Poll records (ok, duration, reason) newest first: why a tile is stale."""
        now = clock()
        start, end = parse_moment(from_, "from", zone, now), parse_moment(to, "to", zone, now)
        if collector is not None and collector not in {c.name for c in cfg.collectors}:
            raise ApiError(404, f"unknown collector {collector!r}", "collector")
        rows = collector_runs(reader.store.reader(), start, end, collector, limit)
        return {"runs": [{"ts": r.ts.isoformat(), "collector": r.collector, "ok": r.ok,
                          "duration_s": r.duration_s, "samples": r.samples, "error": r.error} for r in rows]}

    @app.get("/metrics", response_class=Response, responses={200: {
        "description": "Prometheus text exposition", "content": {"text/plain": {"schema": {"type": "string"}}}}})
    def metrics() -> Response:
        """Prometheus exposition of each metric's latest value and level."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
