"""`warroom collect`: the one process that owns the live database, polls, stores and serves the API."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI
from prometheus_client.core import GaugeMetricFamily

from alerts.engine import AlertEngine
from collectors.base import CollectError, Collector, CollectorContext
from collectors.registry import collector_class
from warroom.api.app import create_app
from warroom.api.read_model import LOOKBACK_S, BoardReader, real_clock
from warroom.clock import SteadyClock
from warroom.config.ha import node_name
from warroom.config.load import LoadedConfig
from warroom.config.models import WarroomConfig
from warroom.daemon.night_clock import NightClock
from warroom.daemon.scheduler import Scheduler
from warroom.daemon.warm_up import warm_up
from warroom.record.campaign import open_campaign
from warroom.record.runsheet_actions import RunSheetActions
from warroom.store.queries import last_runs_at, last_stamp, latest_at
from warroom.store.writer import LatestValues, Writer
from warroom.values import PollResult, RunRecord

if TYPE_CHECKING:
    from warroom.daemon.deadman import DeadMansSwitch
    from warroom.daemon.ha import ClusterNode

log = logging.getLogger("warroom.daemon")
# `warroom up` starts the demo and the daemon together; the demo may need a moment to listen.
DEMO_CLOCK_WAIT_S = 10.0


class ListenError(Exception):
    """The API address cannot be bound; names the address."""


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before starting uvicorn so a busy port is a clear error in the main thread."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted sockets only when it does, and
    # without it every reply waits ~40 ms for a delayed ACK (measured in bench/api_bench.py).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port}: {err.strerror} "
                          "(is another warroom daemon running? set server.port)") from None
    sock.listen(128)
    return sock


class ApiServer:
    """uvicorn in a background thread on an already-bound socket."""

    def __init__(self, app: FastAPI, sock: socket.socket):
        self.sock = sock
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                                    timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       name="api", daemon=True)

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0 in tests)."""
        return self.sock.getsockname()[1]

    def start(self, wait_s: float = 10.0) -> None:
        """Start serving and wait until uvicorn says it is up."""
        self.thread.start()
        deadline = time.monotonic() + wait_s
        while not self.server.started and time.monotonic() < deadline and self.thread.is_alive():
            time.sleep(0.02)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for it."""
        self.server.should_exit = True
        self.thread.join(5)
        self.sock.close()


def _alert_families(alerts: dict[str, Any]) -> list[GaugeMetricFamily]:
    """Alert level per metric and open alert counts for /metrics."""
    level = GaugeMetricFamily("warroom_alert_level", "Alert engine level per metric (0 green .. 3 red).",
                              labels=["metric"])
    for metric, lv in alerts["levels"].items():
        level.add_metric([metric], int(lv))
    counts: dict[tuple[str, str], int] = {}
    for lv, state, _ in alerts["open"]:
        counts[(lv, state)] = counts.get((lv, state), 0) + 1
    open_ = GaugeMetricFamily("warroom_open_alerts", "Alerts not yet resolved, by level and state.",
                              labels=["level", "state"])
    for lv in ("yellow", "orange", "red"):
        for state in ("open", "acked"):
            open_.add_metric([lv, state], counts.get((lv, state), 0))
    return [level, open_]


def build_collectors(cfg: WarroomConfig, context: CollectorContext) -> list[Collector]:
    """One instance per configured collector, through the explicit registry."""
    return [collector_class(s.type)(s, context) for s in cfg.collectors]


class Daemon:
    """Wires store, writer, scheduler and API together; `start()` then `wait()` or `stop()`."""

    def __init__(self, loaded: LoadedConfig, db_path: str | Path | None = None,
                 clock: Callable[[], datetime] | None = None, context: CollectorContext | None = None,
                 port: int | None = None):
        self.loaded = loaded
        self.cfg = loaded.config
        self.db_path = Path(db_path) if db_path else loaded.path(self.cfg.server.database)
        # The one clock: the system's time at start, counted on by the monotonic clock (warroom.clock);
        # an injected clock (tests, benches) is taken as it is.
        self.clock = clock if clock is not None else SteadyClock()
        self.context = context or CollectorContext(clock=self.clock)
        self.port = self.cfg.server.port if port is None else port
        self.stopped = threading.Event()
        self.started_at: datetime | None = None
        self.listeners: list[Callable[[PollResult], None]] = []
        self.night_clock: NightClock | None = None
        self.anchor: datetime | None = None
        self.runsheet: RunSheetActions | None = None
        self.cluster: ClusterNode | None = None
        self.deadman: DeadMansSwitch | None = None

    def start(self) -> None:
        """Open the store, reload the last values, start polling and serving."""
        sock = bind_socket(self.cfg.server.host, self.port)
        if self.cfg.demo is not None and self.cfg.demo.night_clock:
            self._follow_the_night()
        self.started_at = self.clock()
        anchor = self.started_at
        if self.night_clock is not None:
            # Relative campaign times count from the demo night's 23:00, so the wall's 23:59:59 is the night's.
            anchor = self.night_clock.night_started() or anchor
        # One file per campaign: resume tonight's (same window, same countdown) or archive the last one.
        try:
            self.store, self.campaign, archived = open_campaign(self.db_path, self.loaded, self.started_at, anchor,
                                                                replayed_night=self.night_clock is not None)
        except Exception:
            sock.close()
            if self.night_clock is not None:
                self.night_clock.stop()
            raise
        if self.store.wal.torn:
            log.error("DATA LOSS: the write-ahead log of %s was torn (%d bytes, cut mid-entry); DuckDB recovered "
                      "only what precedes the cut. The log was kept as %s", self.db_path, self.store.wal.bytes,
                      self.store.wal.kept_as)
        if archived is not None:
            log.info("previous campaign archived to %s (warroom replay --db %s)", archived, archived)
        if isinstance(self.clock, SteadyClock) and self.clock.not_before(last_stamp(self.store.reader()) or anchor):
            self.started_at = self.clock()
        self.anchor = self.campaign.anchor
        self.window = self.campaign.window
        self.latest = LatestValues()
        # After a restart the wall shows the last values with their true age, not empty tiles.
        cur = self.store.reader()
        self.latest.update(latest_at(cur, self.started_at, LOOKBACK_S),
                           list(last_runs_at(cur, self.started_at, LOOKBACK_S).values()))
        self.writer = Writer(self.store, self.latest, tick=self.cfg.server.tick)
        # The engine sees every sample before the writer queue: paging never waits for a commit.
        self.engine = AlertEngine(self.loaded, self.store, self.clock)
        self.engine.writer.demo_night = self.night_clock is not None  # pages say their times are the night's
        if not self.cfg.alerts.public_url:
            # ack links must name the port actually bound (server.port may be 0)
            self.engine.dispatch.public_url = f"http://{self.cfg.server.host}:{sock.getsockname()[1]}"
        self.listeners.append(self.engine.observe)
        self.engine.campaign_end = self.campaign.end
        self.cluster = self._join_cluster(sock)
        self.engine.start(self.latest.snapshot()[0])
        self.collectors = build_collectors(self.cfg, self.context)
        for collector in self.collectors:
            self._check(collector)
        self.reader = BoardReader(self.cfg, self.store, self.window, self.latest, self.engine.views,
                                  self.engine.phone_of, self.night_clock.json if self.night_clock else real_clock,
                                  since=self.campaign.anchor)
        self.app = create_app(self.reader, self.clock, self.status, campaign=self.campaign, engine=self.engine,
                              deliver=self.deliver, ha=self.cluster.health if self.cluster is not None else None)
        if self.cluster is not None:
            from warroom.daemon.forward import Forwarder  # HA only: a lone node has nobody to forward to

            ha = self.cfg.ha
            self.app.middleware("http")(Forwarder(self.cluster.node, self.cluster.leading, self.cluster.leader_url,
                                                  self.cluster.durable, ha.lease_ttl + 2 * ha.renew_every))
        self.writer.start()
        self.scheduler = Scheduler(self.collectors, self.deliver, clock=self.clock)
        self.scheduler.start()
        self.api = ApiServer(self.app, sock)
        self.api.start()
        warm_up()  # pyarrow, Apprise's plug-ins: loaded now that /health answers, before the first batch or page
        # T=0 without a keyboard: `do:` steps of the run sheet, in a thread (and a process) of their own.
        self.runsheet = RunSheetActions(self.cfg, self.store, self.engine.roster, self.clock, self.campaign.anchor,
                                        self.db_path, report_url=self._report_url, mask=self.loaded.mask,
                                        leading=self.engine.leading)
        self.runsheet.start()
        self.deadman = self._dead_mans_switch()
        if self.cluster is not None:
            self.cluster.start()
        log.info("collecting %d collectors into %s; API on http://%s:%d", len(self.collectors), self.db_path,
                 self.cfg.server.host, self.api.port)

    def _join_cluster(self, sock: socket.socket) -> ClusterNode | None:
        """HA on: this node pages only while it holds the lease (warroom.daemon.ha); off: it always pages."""
        ha = self.cfg.ha
        if ha is None:
            return None
        from warroom.daemon.ha import ClusterNode  # HA only: a lone node never loads the PostgreSQL driver

        own = f"http://{self.cfg.server.host}:{sock.getsockname()[1]}"
        return ClusterNode(ha, ha.cluster or self.cfg.campaign.name, self.store, self.engine, self.clock, url=own)

    def _dead_mans_switch(self) -> DeadMansSwitch | None:
        """`heartbeat:`: the leader (a lone node always) tells the outside world it is alive and paging."""
        beat = self.cfg.heartbeat
        if beat is None:
            return None
        from warroom.daemon.deadman import DeadMansSwitch

        switch = DeadMansSwitch(beat.url, beat.alertmanagers, beat.every,
                                self.cluster.cluster if self.cluster else self.cfg.campaign.name,
                                node_name(self.cfg.ha), self.engine.leading)
        switch.start()
        return switch

    def _follow_the_night(self) -> None:
        """Demo mode: the night's clock becomes the daemon's one clock (stamps, durations, timeouts, pages)."""
        assert self.cfg.demo is not None
        night = NightClock(self.cfg.demo.clock_url(), self.context.session_factory)
        if not night.first_reading(DEMO_CLOCK_WAIT_S):
            # One clock per run: a night that starts on the real clock stays on it, never jumps two years back.
            log.warning("demo clock %s did not answer within %gs (%s): this run keeps the real clock",
                        self.cfg.demo.clock_url(), DEMO_CLOCK_WAIT_S, night.error)
            night.stop()
            return
        self.night_clock = night.start()
        self.clock = self.context.clock = night.now
        log.info("demo mode: the daemon runs on the night's clock (%s at %gx)", night.now().isoformat(),
                 night.json()["speed"] or 0)

    def _check(self, collector: Collector) -> None:
        """A target that is down at start is recorded, not fatal: it may come up during the night."""
        t0 = time.monotonic()
        try:
            collector.check()
        except CollectError as err:
            self.writer.put(PollResult([], RunRecord(self.clock(), collector.name, False,
                                                     time.monotonic() - t0, 0, f"check: {err.reason}")))
            log.warning("collector %s: check failed: %s", collector.name, self.loaded.mask(err.reason))
        except Exception as err:  # noqa: BLE001 - a collector bug must not stop the other collectors
            self.writer.put(PollResult([], RunRecord(self.clock(), collector.name, False, 0.0, 0,
                                                     f"check: {type(err).__name__}: {err}")))
            log.exception("collector %s: check crashed", collector.name)

    def deliver(self, result: PollResult) -> None:
        """Every poll result: listeners (the alert engine) first, then the writer queue."""
        if result.run and result.run.error:
            result.run = RunRecord(result.run.ts, result.run.collector, False, result.run.duration_s,
                                   result.run.samples, self.loaded.mask(result.run.error))
        for listener in self.listeners:
            try:
                listener(result)
            except Exception:  # noqa: BLE001 - a listener bug must not lose the samples
                log.exception("listener failed on a poll result")
        self.writer.put(result)

    def _report_url(self, name: str) -> str:
        """Where a phone opens a report the run sheet wrote: the API's address as ack links give it."""
        return f"{self.engine.dispatch.public_url}/api/v1/reports/{name}"

    def status(self) -> dict[str, Any]:
        """Health of collectors, writer and scheduler for /health and /metrics."""
        _, runs = self.latest.snapshot()
        alerts = self.engine.status()
        skipped = self.scheduler.skipped()
        return {
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "database": str(self.db_path),
            "database_wal": self.store.wal.as_dict(),
            "collectors": {c.name: {**(self._run_json(runs[c.name]) if c.name in runs else
                                       {"ok": None, "ts": None, "duration_s": None, "error": "no poll finished yet"}),
                                    "skipped_polls": skipped.get(c.name, 0)}
                           for c in self.collectors},
            "tick_lag_s": self.scheduler.last_lag,
            "commits": self.writer.commits,
            "committed_samples": self.writer.committed_samples,
            "queue": self.writer.queue.qsize(),
            "writer_error": self.writer.last_error,
            "record": self.store.health.as_dict(),
            "clock": self.clock.as_dict() if isinstance(self.clock, SteadyClock) else {"steady": False},
            "alerts": {k: v for k, v in alerts.items() if k != "levels" and k != "open"},
            "open_alerts": len(alerts["open"]),
            "extra_families": _alert_families(alerts),
            "node": node_name(self.cfg.ha),
            **({"ha": self.cluster.health()} if self.cluster is not None else {}),
            **({"heartbeat": self.deadman.status()} if self.deadman is not None else {}),
        }

    @staticmethod
    def _run_json(run: RunRecord) -> dict[str, Any]:
        return {"ok": run.ok, "ts": run.ts.isoformat(), "duration_s": run.duration_s, "error": run.error}

    def stop(self) -> None:
        """Stop polling, flush the last batch, close the database (checkpointed)."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        if self.runsheet is not None:
            self.runsheet.stop()
        if self.deadman is not None:
            self.deadman.stop()
        if self.cluster is not None:
            self.cluster.stop()  # hand the lease over now rather than after its ttl
        self.api.stop()
        if self.night_clock is not None:
            self.night_clock.stop()
        self.scheduler.stop()
        self.engine.stop()
        self.writer.stop()
        for collector in self.collectors:
            try:
                collector.close()
            except Exception:  # noqa: BLE001
                log.exception("collector %s failed to close", collector.name)
        self.store.close()

    def wait(self) -> None:
        """Block until SIGINT or SIGTERM, then stop cleanly."""
        wake = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: wake.set())
        while not wake.wait(1.0):
            pass
        self.stop()
