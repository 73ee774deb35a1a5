"""The README's HAProxy configuration, run as documented in front of a real HA pair (two nodes, one PostgreSQL).

The block is read from the README (between its `haproxy.cfg` marker and the end of the fence), so the
configuration people copy is the one tested; only the addresses are replaced.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.daemon_kit import ROOT, wait_for
from tests.harness.cluster import Cluster
from tests.harness.receiver import Receiver
from tests.harness.rig import TOKEN
from tests.harness.until import until
from tests.realparts import find_binary, free_port

pytestmark = [pytest.mark.slow, pytest.mark.needs_postgres]

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


def answer_of(proxy: str) -> tuple[str, str | None]:
    """The node that answered /api/v1/health through the proxy, and its HA role."""
    resp = requests.get(f"{proxy}/api/v1/health", timeout=5)
    if not resp.ok:  # a ValueError: until tries again, a direct call fails naming the answer
        raise ValueError(f"the proxy answered {resp.status_code}: {resp.text[:200]}")
    health = resp.json()
    return health["node"], (health.get("ha") or {}).get("role")


@contextmanager
def haproxy_in_front(tmp_path: Path, bases: list[str]) -> Iterator[str]:
    """The documented HAProxy in front of `bases`; its address. Checked with `haproxy -c` first."""
    haproxy = find_binary("haproxy", "/usr/sbin/haproxy")
    port = free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(documented_config(bases, port), encoding="utf-8")
    checked = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    log = tmp_path / "haproxy.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT)
    proxy = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{proxy}/api/v1/health", timeout=5).ok, 30, "HAProxy to answer", proc, log)
        yield proxy
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_the_documented_haproxy_sends_to_the_leader_and_to_a_live_node_the_moment_the_leader_dies(
        tmp_path: Path, postgres_dsn: str) -> None:
    receiver = Receiver()
    cluster = Cluster(tmp_path, postgres_dsn, receiver, n=2, cluster=f"proxy{free_port()}")
    try:
        cluster.start_all()
        leader = cluster.wait_leader()
        name = cluster.nodes[leader].name
        with haproxy_in_front(tmp_path, [n.base for n in cluster.nodes]) as proxy:
            # Once the checks have run, every request goes to the node whose health says it leads.
            until(lambda: [answer_of(proxy) for _ in range(4)] == [(name, "leader")] * 4,
                  "requests to go to the leader", 60.0, (ValueError, requests.RequestException))
            push = requests.post(f"{proxy}/api/v1/push", json={"samples": [{"metric": "queue", "value": 4.0}]},
                                 headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
            assert push.status_code == 202, push.text
            cluster.signal(leader, signal.SIGKILL)
            other = cluster.nodes[1 - leader].name
            # The very next requests, before any health check has noticed: answered by the live node, not a 503.
            assert [answer_of(proxy)[0] for _ in range(4)] == [other] * 4
            push = requests.post(f"{proxy}/api/v1/push", json={"samples": [{"metric": "queue", "value": 5.0}]},
                                 headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
            assert push.status_code == 202, push.text
            # It takes the lease; the proxy goes on sending to it, now as the leader.
            until(lambda: [answer_of(proxy) for _ in range(4)] == [(other, "leader")] * 4,
                  "the proxy to send to the new leader", 60.0, (ValueError, requests.RequestException))
    finally:
        cluster.stop_all()
        receiver.stop()
