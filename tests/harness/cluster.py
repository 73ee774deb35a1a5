"""A warroom cluster on this machine: real `warroom collect` processes sharing a real PostgreSQL, paging webhooks.

Used by tests/reliability/test_cluster.py and bench/failover_bench.py, so both see the same parts.
Each node has its own DuckDB file and API port; all share one lease and one shared alert log.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.daemon_kit import write_config
from tests.harness.receiver import Receiver
from tests.harness.rig import ACK_SECRET, TOKEN, pushed_config
from tests.pg_server import MISSING, PostgresServer, _Runner, find_server_bindir, start_postgres, stop_postgres
from tests.realparts import free_port, missing_part

ROOT = Path(__file__).resolve().parents[2]
DSN_ENV = "WARROOM_HA_DSN"


@contextmanager
def own_postgres() -> Iterator[tuple[PostgresServer, _Runner]]:
    """A PostgreSQL cluster of its own under a temporary folder (it may be stopped and restarted), removed after."""
    bindir = find_server_bindir()
    if bindir is None:
        missing_part(MISSING)
    # its own folder: the server may run as another user, who must be able to enter it
    workdir = Path(tempfile.mkdtemp(prefix="warroom-ha-pg-"))
    runner: _Runner | None = None
    try:
        runner = _Runner(bindir, workdir)
        yield start_postgres(runner), runner
    finally:
        if runner is not None:
            stop_postgres(runner)
        shutil.rmtree(workdir, ignore_errors=True)


def postgres_stop(runner: _Runner) -> None:
    """Stop the server (its data stays): every node loses the lease store."""
    runner.run("pg_ctl", "-D", str(runner.workdir / "data"), "-m", "fast", "-w", "-t", "20", "stop", timeout=30)


def postgres_start(runner: _Runner) -> None:
    """Start it again on the same port."""
    result = runner.run("pg_ctl", "-D", str(runner.workdir / "data"), "-l", str(runner.workdir / "server.log"),
                        "-w", "-t", "30", "start", timeout=40)
    if result.returncode != 0:
        raise RuntimeError(f"pg_ctl start failed: {result.stdout}{result.stderr}")


@dataclass
class Node:
    """One `warroom collect` of the cluster."""

    name: str
    base: str
    config: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None


def node_config(db: Path, port: int, name: str, cluster: str, receiver: Receiver, ttl: str, renew: str,
                **alerts: Any) -> dict[str, Any]:
    """The reliability rig's pushed metrics, each role paged on its own receiver path, with `ha:` on."""
    raw = pushed_config(db, {role: [receiver.url(role)] for role in ("tech_lead", "ops_lead", "general_manager")},
                        port=port, **{"max_delivery_failures": 3, "retry_backoff": "200ms", "group_window": "0s",
                                      **alerts})
    raw["ha"] = {"dsn": "${" + DSN_ENV + "}", "cluster": cluster, "node": name, "lease_ttl": ttl,
                 "renew_every": renew, "url": f"http://127.0.0.1:{port}"}
    return raw


class Cluster:
    """N nodes over one PostgreSQL; `leader()` asks each node's /api/v1/health."""

    def __init__(self, workdir: Path, dsn: str, receiver: Receiver, n: int = 3, cluster: str = "night",
                 ttl: str = "3s", renew: str = "1s", tune: Callable[[dict[str, Any]], None] | None = None,
                 **alerts: Any):
        self.dsn = dsn
        self.nodes: list[Node] = []
        for i in range(n):
            port = free_port()
            name = f"node{i + 1}"
            raw = node_config(workdir / f"{name}.duckdb", port, name, cluster, receiver, ttl, renew, **alerts)
            if tune is not None:
                tune(raw)
            self.nodes.append(Node(name, f"http://127.0.0.1:{port}", write_config(raw, workdir / f"{name}.yaml"),
                                   workdir / f"{name}.log"))

    def start(self, i: int) -> None:
        """Start node `i` (again) as a process of its own."""
        node = self.nodes[i]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "WARROOM_TOKEN": TOKEN, "WARROOM_ACK_SECRET": ACK_SECRET,
               DSN_ENV: self.dsn}
        with node.log.open("ab") as out:
            node.proc = subprocess.Popen([sys.executable, "-m", "warroom.cli", "collect", "-c", str(node.config)],
                                         stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)

    def start_all(self) -> None:
        """Every node, then wait until each serves."""
        for i in range(len(self.nodes)):
            self.start(i)
        for i in range(len(self.nodes)):
            self.wait_serving(i)

    def wait_serving(self, i: int, timeout: float = 90.0) -> None:
        """Until node `i` answers /api/v1/health."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.nodes[i].proc
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{self.nodes[i].name} exited with {proc.returncode}:\n{self.tail(i)}")
            if self.health(i) is not None:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.nodes[i].name} did not serve within {timeout:g}s:\n{self.tail(i)}")

    def tail(self, i: int, lines: int = 30) -> str:
        """The last lines of node `i`'s log."""
        text = self.nodes[i].log.read_text(errors="replace") if self.nodes[i].log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def signal(self, i: int, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to node `i` (SIGKILL: the box is gone; SIGSTOP: frozen; SIGCONT: thawed)."""
        proc = self.nodes[i].proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            if sig == signal.SIGKILL:
                proc.wait(10)

    def alive(self) -> list[int]:
        """Indexes of nodes whose process runs."""
        return [i for i, n in enumerate(self.nodes) if n.proc is not None and n.proc.poll() is None]

    def stop_all(self) -> None:
        """Thaw and stop every node (SIGTERM, then SIGKILL)."""
        for node in self.nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.proc.send_signal(signal.SIGCONT)
                node.proc.terminate()
        for node in self.nodes:
            if node.proc is not None:
                try:
                    node.proc.wait(20)
                except subprocess.TimeoutExpired:
                    node.proc.kill()
                    node.proc.wait(10)

    def health(self, i: int, timeout: float = 2.0) -> dict[str, Any] | None:
        """Node `i`'s /api/v1/health, or None when it does not answer."""
        try:
            reply = requests.get(f"{self.nodes[i].base}/api/v1/health", timeout=timeout)
            return reply.json() if reply.ok else None
        except (requests.RequestException, ValueError):
            return None

    def leader(self) -> int | None:
        """The one node that says it leads (and pages), or None."""
        leaders = [i for i in self.alive() if ((self.health(i) or {}).get("ha") or {}).get("role") == "leader"]
        return leaders[0] if len(leaders) == 1 else None

    def wait_leader(self, timeout: float = 60.0, other_than: int | None = None) -> int:
        """Until exactly one live node leads (not `other_than`); its index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.leader()
            if found is not None and found != other_than:
                return found
            time.sleep(0.05)
        raise RuntimeError("no single leader within the wait:\n" +
                           "\n".join(f"{n.name}: {self.health(i)}" for i, n in enumerate(self.nodes)))

    def push(self, samples: list[dict[str, Any]], only: list[int] | None = None) -> None:
        """The same samples to every live node (each node collects its own; pushes are how this rig collects)."""
        for i in only if only is not None else self.alive():
            try:
                requests.post(f"{self.nodes[i].base}/api/v1/push", json={"samples": samples},
                              headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
            except requests.RequestException:
                pass  # a frozen or dying node: the others have it

    def alerts(self, i: int, state: str = "all") -> list[dict[str, Any]]:
        """Node `i`'s /api/v1/alerts."""
        reply = requests.get(f"{self.nodes[i].base}/api/v1/alerts", params={"state": state}, timeout=5)
        reply.raise_for_status()
        return reply.json()["alerts"]
