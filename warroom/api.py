"""The read API the board (and anyone else) uses; served by the daemon, or read-only by replay."""

from __future__ import annotations

import hmac
import logging
import os
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.exceptions import HTTPException as StarletteHTTPException

from alerts.levels import Level
from warroom import __version__
from warroom.board import BoardReader
from warroom.durations import parse_duration
from warroom.guard import Refusals
from warroom.history import collector_runs, series

log = logging.getLogger("warroom.api")

MAX_POINTS = 5000
MAX_WINDOW = timedelta(days=8)
# How far from the API's "now" a moment may lie: years of archives, never year 1 or 9999.
SANE_SPAN = timedelta(days=3660)
_RELATIVE = re.compile(r"^(now)?\s*-\s*(.+)$")
MAX_BODY = 1 << 20  # 1,000 pushed samples are ~100 KB
MAX_LINK_BODY = 8 << 10  # an ack link's form post: one token
_LINK_ACK = re.compile(r"^/api/v1/alerts/[^/]+/ack(/form)?/?$")
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}
# every error answer the routes can give, for the OpenAPI schema (clients and the fuzzer read it)
_ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["message"],
    "properties": {"message": {"type": "string"}, "field": {"type": ["string", "null"]}}}}}


class ApiError(Exception):
    """An answer naming the cause: status, message and the offending parameter."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def parse_moment(text: str, field: str, zone: str, now: datetime, span: timedelta | None = None) -> datetime:
    """ISO-8601 (naive = the campaign's timezone), `now`, or `-2h` / `now-30m`; 422 otherwise.

    A moment more than `span` (default SANE_SPAN) from `now` is refused too: nothing the war room
    stores or asks about lies there, and dates near year 1 overflow the UTC conversion (a 500).
    """
    span = SANE_SPAN if span is None else span
    moment = _moment(text, field, zone, now)
    try:
        distance = abs(moment - now)
    except OverflowError:
        distance = timedelta.max
    if distance > span:
        raise ApiError(422, f"{field}: {text.strip()[:60]!r} is more than {_days(span)} from now "
                            f"({now.isoformat(timespec='seconds')})", field)
    return moment


def _days(span: timedelta) -> str:
    return f"{span.days} days" if span.days >= 2 else f"{span.total_seconds() / 3600:g} hours"


def _moment(text: str, field: str, zone: str, now: datetime) -> datetime:
    raw = text.strip()
    if raw == "now":
        return now
    rel = _RELATIVE.match(raw)
    if rel:
        try:
            return now - timedelta(seconds=parse_duration(rel.group(2).strip()))
        except ValueError as err:
            raise ApiError(422, f"{field}: {err}", field) from None
        except OverflowError:
            raise ApiError(422, f"{field}: {text.strip()[:60]!r} is out of range", field) from None
    try:
        moment = datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw and " " in raw else raw)
    except ValueError:
        raise ApiError(422, f"{field}: {text[:60]!r} is not an ISO-8601 time (e.g. 2024-11-11T23:30:00+08:00), "
                            "'now' or '-2h'", field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


class RequestGate:
    """ASGI middleware: the board token is checked and the body size capped before any body is read.

    Six clients posting 33 MB bodies without a token once made FastAPI parse each one (to answer
    422), pushing /board from 7 ms to 2.2 s and the daemon from 340 to 728 MB. Refusing on the
    headers alone keeps the read path answering. An ack link carries its own signed token, so its
    routes skip the board token but get a smaller cap.
    """

    def __init__(self, app: Any, token_env: str, refusals: Refusals, max_body: int = MAX_BODY):
        self.app, self.token_env, self.refusals, self.max_body = app, token_env, refusals, max_body

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        """Pass reads through; refuse writes without the token, or with too large a body."""
        if scope["type"] != "http" or scope["method"] in _READ_METHODS:
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        client = scope["client"][0] if scope.get("client") else "unknown"
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        link = bool(_LINK_ACK.match(path)) and (path.rstrip("/").endswith("/form") or bool(query.get("token")))
        cap = MAX_LINK_BODY if link else self.max_body
        if not link:
            refusal = self._token_refusal(headers.get("authorization", ""))
            if refusal:
                self.refusals.token_refused()
                log.warning("refused %s %r from %s: %s", method, path[:200], client, refusal)
                await _error(scope, receive, send, 403, refusal, "authorization")
                return
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                await _error(scope, receive, send, 400, "content-length: not a number", "content-length")
                return
            if int(length) > cap:
                await _error(scope, receive, send, 413, f"body of {int(length)} bytes is over the {cap}-byte limit",
                             "body")
                return
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read up to the cap here, since FastAPI turns any error raised
        # while it reads a body into a 400.
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > cap:
                await _error(scope, receive, send, 413, f"body is over the {cap}-byte limit", "body")
                return
        replayed = False

        async def buffered() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, buffered, send)

    def _token_refusal(self, authorization: str) -> str | None:
        expected = os.environ.get(self.token_env, "")
        if not expected:
            return f"state-changing actions are disabled: set {self.token_env} for the daemon"
        given = authorization.removeprefix("Bearer ").strip()
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            return "missing or wrong token (Authorization: Bearer …)"
        return None


async def _error(scope: dict, receive: Callable, send: Callable, status: int, message: str, field: str) -> None:
    await JSONResponse({"error": {"message": message, "field": field}}, status_code=status)(scope, receive, send)


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
                if method.upper() not in _READ_METHODS:
                    codes += ["403", "409", "413"]
                if _LINK_ACK.match(path.replace("{alert_id}", "1")):
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
