"""The demo night as a real HTTP service the war room can watch.

It plays a night file on a scenario clock: an H5 order page that really takes page_latency_s to
answer, node_exporter-style CPU counters, database gauges, and order and call-center statistics.
Every request is served on its own daemon thread, so an 18-second order page never delays a scrape.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from demo.scenario import (
    DEFAULT_NIGHT,
    DEFAULT_SPEED,
    NightClock,
    NightState,
    Scenario,
    ScenarioError,
    load_scenario,
    state_at,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8780
WINDOW_S = 60
H5_KEYWORD = "提交订单"
# Fixed text format 0.0.4: newer prometheus_client releases default to 1.0.0, which older
# scrapers and `promtool check metrics` setups may not expect.
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# What the demo serves, for the index page and for a config that watches the demo.
ENDPOINTS: dict[str, str] = {
    "/": "this index (plain text)",
    "/h5/order": f"H5 order page (HTML with '{H5_KEYWORD}' / 'Submit order'); replies after page_latency_s "
    "REAL seconds",
    "/metrics": "node_exporter-style Prometheus text 0.0.4: node_cpu_seconds_total and demo_* gauges",
    "/api/orders/stats": "JSON order counts; submitted/succeeded over the last scenario minute",
    "/api/callcenter/stats": "JSON call-center counts over the last scenario minute",
    "/api/clock": "JSON scenario clock",
    "/im": "the demo inbox: pages warroom sent to POST /im/<role> (Apprise json://), newest first",
}
JSON_FIELDS: dict[str, tuple[str, ...]] = {
    "/api/orders/stats": ("ts", "orders_total", "kpi_target", "window_s", "submitted", "succeeded", "failed",
                          "success_pct", "entry_open", "payment_open"),
    "/api/callcenter/stats": ("ts", "window_s", "offered", "answered", "pickup_pct", "agents", "queue"),
    "/api/clock": ("scenario_time", "scenario_iso", "scenario_s", "speed", "elapsed_s", "ended", "loop",
                   "note", "night", "run_s", "end_iso"),
}
METRICS: dict[str, tuple[str, str]] = {
    "node_cpu_seconds_total": ("counter", "Seconds the CPUs spent in each mode."),
    "demo_db_connections": ("gauge", "Database connections in use."),
    "demo_db_max_connections": ("gauge", "Size of the database connection pool."),
    "demo_load_factor": ("gauge", "Concurrency as a multiple of a normal evening."),
    "demo_stuck_customers": ("gauge", "Customers stuck on the H5 order page."),
    "demo_scenario_seconds": ("gauge", "Scenario seconds since the night's start."),
}

# node_exporter's eight modes. `cpu_pct` is busy time the way psutil, top and warroom's collectors count
# it: everything but idle and iowait. Busy time splits over the working modes; iowait is carved out of
# the remaining time, and kept small, so a dashboard computing `1 - rate(idle)` (which counts iowait
# as busy) reads at most IOWAIT_SHARE of the idle time more than the wall; at the 97 % peak, 0.06 points.
CPU_MODES = ("idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user")
_BUSY_SPLIT = {"user": 0.68, "system": 0.22, "softirq": 0.05, "irq": 0.01, "nice": 0.04}
IOWAIT_SHARE = 0.02
_UPTIME_S = 5 * 86_400.0
_STEP_S = 1.0


class CpuCounters:
    """node_cpu_seconds_total per cpu and mode, advanced in real seconds at the scenario's cpu_pct."""

    def __init__(self, clock: NightClock, now: float):
        self.clock = clock
        cpus = clock.scenario.system.cpus
        # A fixed zero-sum skew per cpu, so the per-cpu lines differ but their mean is cpu_pct.
        self._skew = [1.5 * math.cos(2 * math.pi * i / cpus) if cpus > 1 else 0.0 for i in range(cpus)]
        self._seconds = [self._split(0.30, _UPTIME_S) for _ in range(cpus)]
        self._last = now
        self._lock = threading.Lock()

    @staticmethod
    def _split(busy: float, seconds: float) -> dict[str, float]:
        modes = dict.fromkeys(CPU_MODES, 0.0)
        modes.update({mode: busy * share * seconds for mode, share in _BUSY_SPLIT.items()})
        modes["iowait"] = (1.0 - busy) * IOWAIT_SHARE * seconds
        modes["idle"] = (1.0 - busy) * (1.0 - IOWAIT_SHARE) * seconds
        return modes

    def read(self, now: float) -> list[dict[str, float]]:
        """The counters at monotonic time `now`; never decrease, whatever order scrapes arrive in."""
        with self._lock:
            # Integrate in steps of at most a second, so a rare scrape still follows the curve.
            while self._last < now:
                step = min(_STEP_S, now - self._last)
                middle = self.clock.read(self._last + step / 2).scenario_s
                cpu_pct = state_at(self.clock.scenario, middle).cpu_pct
                for counters, skew in zip(self._seconds, self._skew, strict=True):
                    busy = min(max(cpu_pct + skew, 0.0), 100.0) / 100.0
                    for mode, seconds in self._split(busy, step).items():
                        counters[mode] += seconds
                self._last += step
            return [dict(counters) for counters in self._seconds]


def order_stats(scenario: Scenario, state: NightState, window_s: int = WINDOW_S) -> dict[str, Any]:
    """What the order API reports: submit requests at this moment's rate, scaled to the window."""
    system = scenario.system
    submitted = 0
    if state.entry_open:
        submitted = round(system.submits_per_min_at_normal_load * state.load_factor * window_s / 60)
    succeeded = round(submitted * state.order_success_pct / 100)
    return {
        "ts": state.at.isoformat(timespec="seconds"),
        "orders_total": state.orders_total,
        "kpi_target": scenario.night.kpi_target,
        "window_s": window_s,
        "submitted": submitted,
        "succeeded": succeeded,
        "failed": submitted - succeeded,
        # None, not 0 or 100, once the entry is closed: no submits is no sample, and a 0 % would
        # page the general manager at midnight for a planned close.
        "success_pct": round(100 * succeeded / submitted, 2) if submitted else None,
        "entry_open": state.entry_open,
        "payment_open": state.payment_open,
    }


def callcenter_stats(scenario: Scenario, state: NightState, window_s: int = WINDOW_S) -> dict[str, Any]:
    """What the call-center system reports; stuck customers call in, so offered calls follow them."""
    system = scenario.system
    per_min = system.calls_per_min_base + state.stuck_customers * system.calls_per_stuck_customer_per_min
    offered = round(per_min * window_s / 60)
    answered = round(offered * state.pickup_pct / 100)
    return {
        "ts": state.at.isoformat(timespec="seconds"),
        "window_s": window_s,
        "offered": offered,
        "answered": answered,
        "pickup_pct": round(100 * answered / offered, 2) if offered else None,
        "agents": system.agents,
        "queue": offered - answered,
    }


def order_page(state: NightState) -> str:
    """The H5 order page; after the entry closes it says so but keeps its form, as the real page did."""
    closed = "" if state.entry_open else '<p class="closed">活动已结束 · The campaign has ended</p>\n'
    disabled = "" if state.entry_open else " disabled"
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width">\n'
        "<title>冬季关怀服务周 · 下单</title></head>\n<body>\n"
        "<h1>冬季关怀服务周 · Winter care service week</h1>\n"
        f"{closed}"
        f'<form><button type="button"{disabled}>{H5_KEYWORD} · Submit order</button></form>\n'
        f"<p>{state.clock} · {state.orders_total:,} orders</p>\n</body></html>\n"
    )


class _NightMetrics(Collector):
    """A prometheus_client collector reading the night at scrape time."""

    def __init__(self, night: DemoNight):
        self.night = night

    def collect(self) -> Iterator[Metric]:
        now = self.night.monotonic()
        reading = self.night.clock.read(now)
        state = state_at(self.night.scenario, reading.scenario_s)
        help_of = {name: text for name, (_, text) in METRICS.items()}
        cpu = CounterMetricFamily("node_cpu_seconds_total", help_of["node_cpu_seconds_total"],
                                  labels=["cpu", "mode"])
        for index, modes in enumerate(self.night.cpu.read(now)):
            for mode in CPU_MODES:
                cpu.add_metric([str(index), mode], round(modes[mode], 3))
        yield cpu
        gauges = {
            "demo_db_connections": state.db_connections,
            "demo_db_max_connections": state.db_pool_max,
            "demo_load_factor": round(state.load_factor, 3),
            "demo_stuck_customers": state.stuck_customers,
            "demo_scenario_seconds": round(reading.scenario_s, 3),
        }
        for name, value in gauges.items():
            yield GaugeMetricFamily(name, help_of[name], value=value)


class CampaignSite(BaseHTTPRequestHandler):
    """The simulated campaign system's HTTP front: one GET route per endpoint."""

    server: DemoNight
    server_version = "warroom-demo/0.1"

    def do_GET(self) -> None:
        """Serve one endpoint; unknown paths get a 404 naming them."""
        night = self.server
        path = urlsplit(self.path).path
        reading = night.clock.read()
        state = state_at(night.scenario, reading.scenario_s)
        if path == "/h5/order":
            # Real seconds, not scenario seconds: a probe at the peak must truly wait 18 s.
            if night.closing.wait(state.page_latency_s):
                return
            self._reply(200, "text/html; charset=utf-8", order_page(state).encode(), state)
        elif path == "/metrics":
            self._reply(200, PROMETHEUS_CONTENT_TYPE, generate_latest(night.registry), state)
        elif path == "/api/orders/stats":
            self._json(200, order_stats(night.scenario, state), state)
        elif path == "/api/callcenter/stats":
            self._json(200, callcenter_stats(night.scenario, state), state)
        elif path == "/api/clock":
            self._json(200, night.clock_report(reading.elapsed_s, reading.ended, state), state)
        elif path == "/im":
            # The demo's stand-in for the team's phones: every page warroom sent, newest first.
            lines = [f"{m['received']}  → {m['to']}\n{m.get('title', '')}\n{m.get('message', '')}\n"
                     for m in reversed(night.inbox[-100:])]
            self._reply(200, "text/plain; charset=utf-8", ("\n".join(lines) or "no pages yet\n").encode(), state)
        elif path == "/":
            index = "\n".join(f"GET {route:<24} {text}" for route, text in ENDPOINTS.items())
            title = f"warroom demo night: {night.scenario.night.name}\n\n"
            self._reply(200, "text/plain; charset=utf-8", (title + index + "\n").encode(), state)
        else:
            self._json(404, {"error": "not found", "path": path, "endpoints": list(ENDPOINTS)}, state)

    def do_POST(self) -> None:
        """`/im/<role>`: receive a page (Apprise json://) for the demo inbox; anything else is 404."""
        night = self.server
        path = urlsplit(self.path).path
        state = state_at(night.scenario, night.clock.read().scenario_s)
        length = min(int(self.headers.get("Content-Length") or 0), 64_000)
        raw = self.rfile.read(length)
        if not path.startswith("/im/"):
            self._json(404, {"error": "not found", "path": path}, state)
            return
        try:
            message = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, {"error": "body is not JSON"}, state)
            return
        message = message if isinstance(message, dict) else {"message": str(message)}
        with night.inbox_lock:
            # The night's clock in its own timezone (23:31 at the spike), and the real moment in the same zone.
            zone = ZoneInfo(night.scenario.night.timezone)
            real = datetime.now(zone).strftime("%H:%M:%S")
            received = f"{state.at.strftime('%H:%M:%S')} (real {real} {night.scenario.night.timezone})"
            night.inbox.append({**message, "to": path[4:], "received": received})
            del night.inbox[:-500]
        self._json(200, {"ok": True}, state)

    def _json(self, status: int, body: dict[str, Any], state: NightState) -> None:
        self._reply(status, "application/json", json.dumps(body, ensure_ascii=False).encode(), state)

    def _reply(self, status: int, content_type: str, body: bytes, state: NightState) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Scenario-Time", state.at.isoformat(timespec="seconds"))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # A probe that gave up during an 18 s page is expected at the peak, not a server fault.
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a war room polling every second would bury the one line that matters."""


class DemoNight(ThreadingHTTPServer):
    """The demo night served over HTTP on (host, port); port 0 picks a free one."""

    daemon_threads = True

    def __init__(
        self,
        scenario: Scenario,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        speed: float = DEFAULT_SPEED,
        loop: bool = False,
        start_at: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.scenario = scenario
        self.monotonic = monotonic
        self.clock = NightClock(scenario, speed, loop=loop, start_at=start_at, monotonic=monotonic)
        self.cpu = CpuCounters(self.clock, monotonic())
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_NightMetrics(self))
        # Set on shutdown: wakes order pages still sleeping out their latency.
        self.closing = threading.Event()
        self.inbox: list[dict[str, Any]] = []
        self.inbox_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), CampaignSite)

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8780 (a wildcard host is shown as 127.0.0.1)."""
        host, port = self.server_address[:2]
        shown = host if isinstance(host, str) and host not in ("", "0.0.0.0") else "127.0.0.1"
        return f"http://{shown}:{port}"

    def start(self) -> DemoNight:
        """Serve in a background daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                            name="demo-night", daemon=True)
            self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving, wake sleeping order pages and close the socket; safe to call twice."""
        self.closing.set()
        if self._thread is not None:
            super().shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def clock_report(self, elapsed_s: float, ended: bool, state: NightState) -> dict[str, Any]:
        """The /api/clock answer."""
        return {
            "scenario_time": state.clock,
            "scenario_iso": state.at.isoformat(timespec="seconds"),
            "scenario_s": round(state.scenario_s, 3),
            "speed": self.clock.speed,
            "elapsed_s": round(elapsed_s, 3),
            "ended": ended,
            "loop": self.clock.loop,
            "note": state.note,
            "night": self.scenario.night.name,
            # A looping night's time runs on (scenario_s starts over); a watcher's clock must never go back.
            "run_s": round(self.clock.start_offset_s + max(elapsed_s, 0.0) * self.clock.speed, 3) if self.clock.loop
            else round(state.scenario_s, 3),
            "end_iso": self.scenario.datetime_at(self.scenario.duration_s).isoformat(timespec="seconds"),
        }


def run_demo(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    scenario_path: Path | str | None = None,
    speed: float = DEFAULT_SPEED,
    loop: bool = False,
    start_at: str | None = None,
) -> int:
    """Serve the demo night until SIGINT or SIGTERM; call from the main thread. Returns 0."""
    scenario = load_scenario(scenario_path or DEFAULT_NIGHT)
    night = DemoNight(scenario, host, port, speed=speed, loop=loop, start_at=start_at)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        night.start()
        print(f"demo night serving on {night.url} - {night.clock.describe()}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        night.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m demo.server`: the same as run_demo, from the command line."""
    parser = argparse.ArgumentParser(prog="python -m demo.server", description="Play the demo night.")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--scenario", type=Path, default=DEFAULT_NIGHT, help="night file (YAML)")
    parser.add_argument("--speed", type=float, default=DEFAULT_SPEED, help="scenario seconds per real second")
    parser.add_argument("--loop", action="store_true", help="start over after the end instead of holding it")
    parser.add_argument("--start-at", help='scenario time to start at, e.g. "23:30:00"')
    args = parser.parse_args(argv)
    try:
        return run_demo(args.host, args.port, args.scenario, args.speed, args.loop, args.start_at)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
    except (ValueError, OSError) as exc:
        print(f"demo night cannot start: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
