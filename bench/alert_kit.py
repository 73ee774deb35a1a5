"""Local parts for the alert benchmark: the gauge target, Prometheus + Alertmanager; webhooks: tests.harness.receiver.

Everything listens on 127.0.0.1; every wait is bounded in time; every process is stopped by its own id.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.harness.receiver import Received
from tests.realparts import free_port

# Debian ships Alertmanager as prometheus-alertmanager; upstream's tarball calls it alertmanager.
PROMETHEUS = ("prometheus",)
ALERTMANAGER = ("prometheus-alertmanager", "alertmanager")
PROM_METRIC = "bench_gauge"
PROM_ALERT = "BenchGaugeHigh"


def binary(names: tuple[str, ...]) -> str:
    """The path of the first of `names` on PATH; RuntimeError naming them all when none is installed."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"none of {', '.join(names)} is installed")


def version_of(names: tuple[str, ...]) -> str:
    """What the installed binary says its version is (`<binary> --version`), e.g. '2.42.0+ds'."""
    path = binary(names)
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    found = re.search(r"\bversion (\S+)", out.stdout + out.stderr)
    if found is None:
        raise RuntimeError(f"{path} --version said no version: {(out.stdout + out.stderr).strip()[:200]!r}")
    return found.group(1)


class Gauge(ThreadingHTTPServer):
    """The watched number: `/gauge` answers {"v": value}, `/metrics` answers `bench_gauge value`."""

    daemon_threads = True

    def __init__(self, value: float):
        self.value = value
        self.reads: dict[str, list[float]] = {}
        """Read times per path: /gauge (warroom), /metrics/<pair> (each Prometheus)."""
        gauge = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                value = gauge.value
                path = self.path.split("?", 1)[0]
                gauge.reads.setdefault(path, []).append(time.time())
                if path.startswith("/metrics"):
                    body = f"# TYPE {PROM_METRIC} gauge\n{PROM_METRIC} {value}\n".encode()
                    kind = "text/plain; version=0.0.4"
                else:
                    body, kind = json.dumps({"v": value}).encode(), "application/json"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        """The bound port."""
        return self.server_address[1]

    def first_read(self, path: str, after: float) -> float | None:
        """When `path` (/gauge, /metrics/<pair>) was first read at or after `after`."""
        return next((t for t in list(self.reads.get(path, [])) if t >= after), None)

    def set(self, value: float) -> None:
        """Change what the next poll or scrape sees."""
        self.value = value

    def stop(self) -> None:
        """Stop serving."""
        self.shutdown()
        self.server_close()


# --- what a message is ----------------------------------------------------------------------------

_ALERT_ID = re.compile(r"(?:alert|告警) #(\d+)")
_KIND_BY_TYPE = {"warning": "opened", "success": "resolved"}


def warroom_page(msg: Received) -> tuple[str, str, int | None]:
    """(metric, kind, alert id) of an Apprise json:// page from warroom (kind: opened, resolved or other)."""
    text = str(msg.body.get("message", ""))
    first = text.splitlines()[0] if text else ""
    # the first line of every page names the metric last, in parentheses: "RED · Queue (queue)"
    metric = first.rsplit("(", 1)[-1].rstrip(")") if first.endswith(")") else ""
    found = _ALERT_ID.search(text)
    kind = _KIND_BY_TYPE.get(str(msg.body.get("type", "")), "other")
    return metric, kind, int(found.group(1)) if found else None


def am_status(msg: Received) -> str:
    """`firing` or `resolved`: the status of an Alertmanager webhook notification."""
    return str(msg.body.get("status", "?"))


# --- Prometheus + Alertmanager --------------------------------------------------------------------


class AlertPair:
    """Prometheus scraping the gauge and Alertmanager paging a webhook; `tuned` is 1 s everywhere.

    `name` makes the scrape path `/metrics/<name>` (so the gauge knows who read it) and the job name;
    with a fresh `workdir` it also gives this pair its own scrape and evaluation offsets.
    """

    def __init__(self, name: str, workdir: Path, target_port: int, webhook: str, threshold: float, tuned: bool):
        self.name = name
        self.scrape_path = f"/metrics/{name}"
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.target_port = target_port
        self.webhook = webhook
        self.threshold = threshold
        self.tuned = tuned
        self.prom_port = 0
        self.am_port = 0
        self.procs: list[subprocess.Popen[bytes]] = []

    def _write_configs(self) -> tuple[Path, Path]:
        prom: dict[str, Any] = {
            "rule_files": [str(self.dir / "rules.yml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{self.am_port}"]}]}]},
            "scrape_configs": [{"job_name": f"bench_{self.name}", "metrics_path": self.scrape_path, "static_configs": [
                {"targets": [f"127.0.0.1:{self.target_port}"]}]}],
        }
        route: dict[str, Any] = {"receiver": "hook", "group_by": ["alertname"]}
        if self.tuned:
            prom["global"] = {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
            route.update(group_wait="1s", group_interval="1s", repeat_interval="1h")
        # Otherwise Prometheus' defaults (scrape and evaluation every 1m) and Alertmanager's
        # (group_wait 30s, group_interval 5m, repeat_interval 4h).
        rules = {"groups": [{"name": "bench", "rules": [
            {"alert": PROM_ALERT, "expr": f"{PROM_METRIC} > {self.threshold:g}", "for": "0s",
             "labels": {"severity": "warning"}}]}]}
        am = {"route": route, "receivers": [{"name": "hook", "webhook_configs": [
            {"url": self.webhook, "send_resolved": True}]}]}
        (self.dir / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
        prom_cfg, am_cfg = self.dir / "prometheus.yml", self.dir / "alertmanager.yml"
        prom_cfg.write_text(yaml.safe_dump(prom, sort_keys=False))
        am_cfg.write_text(yaml.safe_dump(am, sort_keys=False))
        return prom_cfg, am_cfg

    def _spawn(self, name: str, args: list[str]) -> None:
        with (self.dir / f"{name}.log").open("ab") as out:
            self.procs.append(subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=self.dir))

    def start(self, wait_s: float = 30.0) -> AlertPair:
        """Start both with fresh storage and wait (bounded) until Prometheus is ready and knows Alertmanager."""
        self.prom_port, self.am_port = free_port(), free_port()
        prom_cfg, am_cfg = self._write_configs()
        self._spawn("alertmanager", [binary(ALERTMANAGER), f"--config.file={am_cfg}",
                                     f"--storage.path={self.dir / 'am'}",
                                     f"--web.listen-address=127.0.0.1:{self.am_port}", "--cluster.listen-address="])
        self._spawn("prometheus", [binary(PROMETHEUS), f"--config.file={prom_cfg}",
                                   f"--storage.tsdb.path={self.dir / 'tsdb'}",
                                   f"--web.listen-address=127.0.0.1:{self.prom_port}"])
        deadline = time.monotonic() + wait_s
        checks = [(f"http://127.0.0.1:{self.am_port}/-/ready", None),
                  (f"http://127.0.0.1:{self.prom_port}/-/ready", None),
                  (f"http://127.0.0.1:{self.prom_port}/api/v1/alertmanagers",
                   lambda r: bool(r.json()["data"]["activeAlertmanagers"]))]
        for url, ok in checks:
            while True:
                self._alive()
                try:
                    reply = requests.get(url, timeout=2)
                    if reply.status_code == 200 and (ok is None or ok(reply)):
                        break
                except (requests.RequestException, ValueError, KeyError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"timed out after {wait_s:g}s waiting for {url}\n{self.tail()}")
                time.sleep(0.1)
        return self

    def wait_scraped(self, wait_s: float = 15.0) -> None:
        """Wait (bounded) until the gauge has been scraped and the rule evaluated at least once."""
        base = f"http://127.0.0.1:{self.prom_port}/api/v1"
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            self._alive()
            try:
                targets = requests.get(f"{base}/targets", timeout=2).json()["data"]["activeTargets"]
                groups = requests.get(f"{base}/rules", timeout=2).json()["data"]["groups"]
                evaluated = any(g.get("lastEvaluation", "").startswith("2") for g in groups)
                if targets and targets[0]["health"] == "up" and evaluated:
                    return
            except (requests.RequestException, ValueError, KeyError, IndexError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"Prometheus did not scrape the gauge within {wait_s:g}s\n{self.tail()}")

    def _alive(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}\n{self.tail()}")

    def tail(self) -> str:
        """The last lines of both logs."""
        lines = []
        for name in ("prometheus", "alertmanager"):
            log = self.dir / f"{name}.log"
            if log.exists():
                lines += [f"{name}: {line}" for line in log.read_text(errors="replace").splitlines()[-8:]]
        return "\n".join(lines)

    def stop(self) -> None:
        """SIGTERM each process we started, SIGKILL the ones that do not stop in time."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs = []
