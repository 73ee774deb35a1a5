"""The README's HAProxy configuration, run as documented in front of two real daemons.

The block is read from the README (between its `haproxy.cfg` marker and the end of the fence), so the
configuration people copy is the one tested; only the addresses are replaced.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests

from tests.daemon_kit import ROOT, wait_for
from tests.harness.pair import running_nodes
from tests.harness.rig import TOKEN
from tests.realparts import find_binary, free_port

pytestmark = pytest.mark.slow

BLOCK = re.compile(r"<!-- haproxy\.cfg[^>]*-->\n```haproxy\n(.*?)```", re.S)


def documented_config(nodes: list[str], listen: int) -> str:
    """The README's HAProxy block with the example addresses replaced by the nodes' and a free port."""
    found = BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md has no haproxy.cfg block"
    text = found.group(1)
    for example, base in zip(("10.0.0.1:8765", "10.0.0.2:8765"), nodes, strict=True):
        assert example in text
        text = text.replace(example, urlsplit(base).netloc)
    assert "bind 127.0.0.1:8080" in text
    return text.replace("bind 127.0.0.1:8080", f"bind 127.0.0.1:{listen}")


def node_of(proxy: str) -> str:
    """The name of the node that answered /api/v1/health through the proxy."""
    resp = requests.get(f"{proxy}/api/v1/health", timeout=5)
    if not resp.ok:  # a ValueError: wait_for tries again, a direct call fails naming the answer
        raise ValueError(f"the proxy answered {resp.status_code}: {resp.text[:200]}")
    return resp.json()["node"]


def test_the_documented_haproxy_keeps_answering_when_the_node_behind_it_dies(tmp_path):
    haproxy = find_binary("haproxy", "/usr/sbin/haproxy")
    with running_nodes(tmp_path) as (procs, bases):
        port = free_port()
        config = tmp_path / "haproxy.cfg"
        config.write_text(documented_config(bases, port), encoding="utf-8")
        checked = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        log = tmp_path / "haproxy.log"
        with log.open("ab") as out:
            proxy_proc = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT)
        proxy = f"http://127.0.0.1:{port}"
        try:
            first = wait_for(lambda: requests.get(f"{proxy}/api/v1/health", timeout=5).json().get("node"), 30,
                             "HAProxy to answer", proxy_proc, log)
            # An action through the proxy reaches a node (the board token, as an ack link's page would post).
            push = requests.post(f"{proxy}/api/v1/push", json={"samples": [{"metric": "queue", "value": 4.0}]},
                                 headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
            assert push.status_code == 202, push.text
            dead = procs[("node-a", "node-b").index(first)]
            dead.send_signal(signal.SIGKILL)
            dead.wait(10)
            other = "node-b" if first == "node-a" else "node-a"
            # The very next requests, before any health check has noticed: sent on to the live node.
            assert [node_of(proxy) for _ in range(4)] == [other] * 4
            push = requests.post(f"{proxy}/api/v1/push", json={"samples": [{"metric": "queue", "value": 5.0}]},
                                 headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
            assert push.status_code == 202, push.text
        finally:
            proxy_proc.terminate()
            try:
                proxy_proc.wait(10)
            except subprocess.TimeoutExpired:
                proxy_proc.kill()
                proxy_proc.wait(5)


class HealthAsLeader(ThreadingHTTPServer):
    """Answers /api/v1/health as an HA leader does (Starlette's compact JSON) and every other path with its name.

    The HA core (the lease wired into the daemon) lands on its own branch; until then this stands in for the
    leader so the documented check is tried against the body a leader sends.
    """

    daemon_threads = True

    def __init__(self, name: str):
        body = json.dumps({"status": "ok", "node": name, "ha": {"node": name, "role": "leader", "epoch": 2}},
                          separators=(",", ":")).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's dispatch name
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


def test_the_documented_haproxy_prefers_the_node_whose_health_says_leader(tmp_path):
    haproxy = find_binary("haproxy", "/usr/sbin/haproxy")
    leader = HealthAsLeader("node-l")
    with running_nodes(tmp_path, ("node-a",)) as (_, bases):
        port = free_port()
        config = tmp_path / "haproxy.cfg"
        config.write_text(documented_config([bases[0], f"http://127.0.0.1:{leader.server_address[1]}"], port),
                          encoding="utf-8")
        log = tmp_path / "haproxy.log"
        with log.open("ab") as out:
            proxy_proc = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT)
        proxy = f"http://127.0.0.1:{port}"
        try:
            # Once the checks have run, only the leader is in the leader backend: every request goes there.
            wait_for(lambda: [node_of(proxy) for _ in range(4)] == ["node-l"] * 4, 30, "requests to go to the leader",
                     proxy_proc, log)
            leader.shutdown()
            leader.server_close()
            # No node says it leads (HA degraded): any live node answers, here the follower.
            wait_for(lambda: [node_of(proxy) for _ in range(4)] == ["node-a"] * 4, 30, "the follower to answer",
                     proxy_proc, log)
        finally:
            leader.shutdown()
            proxy_proc.terminate()
            try:
                proxy_proc.wait(10)
            except subprocess.TimeoutExpired:
                proxy_proc.kill()
                proxy_proc.wait(5)
