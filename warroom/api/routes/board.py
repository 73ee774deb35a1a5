"""The wall's reads: health, the board (now or at a past moment), series, poll runs, and /metrics for Prometheus."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from warroom import __version__
from warroom.api.context import ApiContext, Context
from warroom.api.params import ApiError, parse_moment, parse_window
from warroom.store.queries import collector_runs, series
from warroom.values import Level

MAX_POINTS = 5000

router = APIRouter()


class _Exposition:
    """prometheus_client collector producing the board's state at scrape time."""

    def __init__(self, ctx: ApiContext):
        self.reader, self.clock, self.status = ctx.reader, ctx.clock, ctx.status

    def collect(self) -> Iterator[Metric]:
        """The metric families of one scrape (prometheus_client's collector protocol)."""
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


@router.get("/api/v1/health")
def health(ctx: Context) -> dict[str, Any]:
    """Is the daemon alive, and how is each collector doing."""
    # extra_families are prometheus_client objects meant for /metrics only
    body = {k: v for k, v in ctx.status().items() if k != "extra_families"}
    # "node" always: a board reading several nodes (`--api URL1,URL2`) names the one it reads.
    return {"status": "ok", "version": __version__, "node": os.environ.get("WARROOM_NODE") or socket.gethostname(),
            "now": ctx.clock().isoformat(), **body, "refusals": ctx.refusals.as_dict()}


@router.get("/api/v1/board")
def board(ctx: Context,
          at: str | None = Query(None, description="ISO-8601 moment, 'now' or '-2h'")) -> dict[str, Any]:
    """One tile per metric with level and owner; with `at`, the board as it was then."""
    now = ctx.clock()
    moment = parse_moment(at, "at", ctx.reader.cfg.campaign.timezone, now) if at else None
    answer = ctx.reader.board(now, moment)
    if moment is None and ctx.live is not None:
        # The wall says so when the disk stopped taking the record (warroom.store.backlog).
        health = ctx.reader.store.health
        answer["record"] = {"complete": health.complete, "since": health.since.isoformat() if health.since else None,
                            "disk_full": health.disk_full, "message": health.headline()}
    if moment is None and ctx.ha is not None:
        # The same words /api/v1/health gives (ClusterNode.health), so the wall and `warroom status` agree.
        ha = ctx.ha()
        answer["ha"] = {k: ha.get(k) for k in ("node", "role", "leader", "epoch", "degraded", "degraded_cause",
                                               "degraded_since")}
    return answer


@router.get("/api/v1/series")
def get_series(
    ctx: Context,
    metric: list[str] | None = Query(None, description="Metric name(s); all tiles when omitted."),
    from_: str = Query("-2h", alias="from"),
    to: str = Query("now"),
    points: int = Query(600, ge=2, le=MAX_POINTS),
) -> JSONResponse:
    """At most `points` points per metric, min and max per bucket kept (peaks survive)."""
    reader, cfg = ctx.reader, ctx.reader.cfg
    start, end = parse_window(from_, to, cfg.campaign.timezone, ctx.clock())
    names = [m for part in (metric or []) for m in part.split(",") if m] or list(cfg.metrics)
    known = set(cfg.metrics) | set(cfg.feeders())
    unknown = [m for m in names if m not in known and not m.startswith("warroom.")]
    if unknown:
        raise ApiError(404, f"unknown metric {unknown[0]!r}", "metric")
    data = series(reader.store.reader(), names, start, end, points, reader.store.rolled_until(), iso=True)
    # A JSONResponse skips FastAPI's per-item encoder: thousands of points serialise in a few ms.
    return JSONResponse({"from": start.isoformat(), "to": end.isoformat(), "points": points,
                         "series": data})


@router.get("/api/v1/runs")
def runs(ctx: Context, collector: str | None = None, from_: str = Query("-15m", alias="from"), to: str = "now",
         limit: int = Query(200, ge=1, le=5000)) -> dict[str, Any]:
    """Poll records (ok, duration, reason) newest first: why a tile is stale."""
    cfg = ctx.reader.cfg
    zone, now = cfg.campaign.timezone, ctx.clock()
    start, end = parse_moment(from_, "from", zone, now), parse_moment(to, "to", zone, now)
    if collector is not None and collector not in {c.name for c in cfg.collectors}:
        raise ApiError(404, f"unknown collector {collector!r}", "collector")
    rows = collector_runs(ctx.reader.store.reader(), start, end, collector, limit)
    return {"runs": [{"ts": r.ts.isoformat(), "collector": r.collector, "ok": r.ok,
                      "duration_s": r.duration_s, "samples": r.samples, "error": r.error} for r in rows]}


@router.get("/metrics", response_class=Response, responses={200: {
    "description": "Prometheus text exposition", "content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics(ctx: Context) -> Response:
    """Prometheus exposition of each metric's latest value and level."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Exposition(ctx))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
