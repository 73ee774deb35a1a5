"""`warroom status` and the wall against a real warroom pair on a real PostgreSQL.

The leader and the follower named with their heartbeats and lag; after the leader is killed, the new
leader (and the dead one as not answering: exit 1); with PostgreSQL stopped, "HA degraded: lease store
unreachable since …" in the terminal and, in the campaign's language and zone, in the wall's header and
the phone view's header line, in a real Chromium. Every wait is on a condition, bounded.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
import requests

from tests.app.board_kit import chromium, close_chromium, start_board, stop_group, wait_board, wait_dom
from tests.harness.cluster import DSN_ENV, ROOT, Cluster, own_postgres, postgres_stop
from tests.harness.receiver import Receiver
from tests.harness.rig import TOKEN
from tests.harness.until import until
from tests.realparts import free_port

pytestmark = [pytest.mark.needs_postgres, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


# The one bounded wait (tests/harness/until.py), with room for a loaded machine: a bound on a hang only.
_until = partial(until, limit_s=60.0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver()
    yield rx
    rx.stop()


def status(cluster: Cluster, *extra: str) -> subprocess.CompletedProcess[str]:
    """`warroom status --api <every node>` as an operator types it on a node (the DSN in its environment)."""
    apis = ",".join(n.base for n in cluster.nodes)
    return subprocess.run([sys.executable, "-m", "warroom.cli", "status", "-c", str(cluster.nodes[0].config),
                           "--api", apis, *extra], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT), DSN_ENV: cluster.dsn})


def _row(out: str, node: str) -> str:
    return next((line for line in out.splitlines() if line.strip().startswith(node + " ")), "")


def test_status_names_the_leader_the_follower_and_the_new_leader_after_a_kill(tmp_path: Path,
                                                                              receiver: Receiver) -> None:
    with own_postgres() as (server, _runner):
        def beat(raw: dict[str, Any]) -> None:  # the dead man's switch: a WarroomWatchdog to an "Alertmanager"
            raw["heartbeat"] = {"every": "1s", "alertmanagers": [f"http://127.0.0.1:{receiver.port}/am"]}

        cluster = Cluster(tmp_path, server.dsn, receiver, n=2, cluster=f"c{secrets.token_hex(4)}", tune=beat)
        try:
            cluster.start_all()
            leader = cluster.wait_leader()
            follower = 1 - leader
            lead, follow = cluster.nodes[leader].name, cluster.nodes[follower].name
            # both heartbeats are in the lease store once each node has renewed once
            done = _until(lambda: (r := status(cluster)).returncode == 0 and "ago" in _row(r.stdout, follow)
                          and "last beat" in r.stdout and r, "status lists the follower and the leader's beat, exit 0")
            assert f": {lead} leads since " in done.stdout
            assert re.search(rf"{lead}\s+leader\s+yes\s+\d\d:\d\d:\d\d \(\d+\.\ds ago\)\s+\d+\.\ds",
                             _row(done.stdout, lead)), done.stdout
            assert re.search(rf"{follow}\s+follower\s+yes\s+\d\d:\d\d:\d\d \(\d+\.\ds ago\)\s+\d+\.\ds",
                             _row(done.stdout, follow)), done.stdout
            assert "epoch 1" in done.stdout and "HA degraded" not in done.stdout
            assert re.search(rf"dead man's switch \(from {lead}\): last beat \d\d:\d\d:\d\d · \d+ beats, 0 failed, "
                             r"every 1\.0s → http://…", done.stdout), done.stdout
            assert receiver.to("am/api/v2/alerts")[0][0]["labels"]["alertname"] == "WarroomWatchdog"

            cluster.signal(leader, signal.SIGKILL)
            assert cluster.wait_leader(other_than=leader) == follower
            after = _until(lambda: (r := status(cluster)) and f": {follow} leads since " in r.stdout and r,
                           "status names the new leader")
            # the dead node is named as not answering: the pair has no standby left, so the exit code says degraded
            assert re.search(rf"{lead}\s+\S+\s+NO \(ConnectionError\)", _row(after.stdout, lead)), after.stdout
            assert after.returncode == 1, after.stdout
            assert "epoch 2" in after.stdout and "takeovers" in after.stdout
            _until(lambda: f"dead man's switch (from {follow}): last beat" in status(cluster).stdout,
                   "the new leader feeds the dead man's switch")
        finally:
            cluster.stop_all()


def _zh(raw: dict[str, Any]) -> None:
    raw["campaign"].update(locale="zh-CN", timezone="Asia/Shanghai")


@pytest.mark.needs_chromium
def test_with_postgresql_stopped_status_and_the_wall_say_ha_degraded(tmp_path: Path, receiver: Receiver) -> None:
    with own_postgres() as (server, runner):
        cluster = Cluster(tmp_path, server.dsn, receiver, n=2, cluster=f"c{secrets.token_hex(4)}", tune=_zh)
        board = None
        chrome = None
        try:
            cluster.start_all()
            leader = cluster.wait_leader()
            postgres_stop(runner)
            ha = _until(lambda: (cluster.health(leader) or {}).get("ha", {}).get("degraded_since") and
                        cluster.health(leader)["ha"], "the leader says degraded, with the time")
            assert ha["degraded_cause"] == "lease_store" and ha["role"] == "leader"
            since = datetime.fromisoformat(ha["degraded_since"]).astimezone(ZoneInfo("Asia/Shanghai"))
            hms = since.strftime("%H:%M:%S")

            out = status(cluster)
            assert out.returncode == 1, out.stdout + out.stderr
            assert f"HA degraded: lease store unreachable since {hms} (says {cluster.nodes[leader].name})" \
                in out.stdout, out.stdout
            assert f": {cluster.nodes[leader].name} leads since " in out.stdout  # it goes on paging

            port = free_port()
            log = tmp_path / "board.log"
            board = start_board(cluster.nodes[leader].config, cluster.nodes[leader].base, port, log,
                                {"WARROOM_TOKEN": TOKEN, DSN_ENV: cluster.dsn})
            wait_board(port, board, log)
            chrome = chromium()
            chrome.get(f"http://127.0.0.1:{port}/?kiosk=1")
            shown = wait_dom(chrome, "document.querySelector('[data-ha=degraded]')?.textContent", 60,
                             "the wall's header saying HA is degraded")
            assert shown == f"⚠ HA 降级：租约库自 {hms} 起无法连接"
            # in the header's clock line, never in the decision banner's place
            assert chrome.execute_script("return !!document.querySelector('.wr-header [data-ha=degraded]')")
            assert not chrome.execute_script("return !!document.querySelector('[data-decision] [data-ha]')")
            ARTIFACTS.mkdir(exist_ok=True)
            chrome.save_screenshot(str(ARTIFACTS / "wall-ha-degraded.png"))
            chrome.get(f"http://127.0.0.1:{port}/phone")
            phone = wait_dom(chrome, "document.querySelector('.wr-phone-head [data-ha=degraded]')?.textContent", 60,
                             "the phone view's header line saying HA is degraded")
            assert phone == f"⚠ HA 降级：租约库自 {hms} 起无法连接"
            chrome.save_screenshot(str(ARTIFACTS / "phone-ha-degraded.png"))
        finally:
            if chrome is not None:
                close_chromium(chrome)
            if board is not None:
                stop_group(board)
            cluster.stop_all()


def test_a_shared_log_that_takes_no_writes_is_degraded_with_its_own_words_and_paging_goes_on(
        tmp_path: Path, receiver: Receiver) -> None:
    with own_postgres() as (server, _runner):
        cluster = Cluster(tmp_path, server.dsn, receiver, n=2, cluster=f"c{secrets.token_hex(4)}")
        try:
            cluster.start_all()
            leader = cluster.wait_leader()
            # The shared log refuses the nodes' writes (a wrong grant after a migration) while the lease row stays
            # writable: only the shared alert log is unreachable.
            with psycopg.connect(server.admin_dsn, dbname=server.dbname, autocommit=True) as admin:
                admin.execute("REVOKE INSERT ON warroom_log FROM warroom")
                cluster.push([{"metric": "failures", "value": 60}])
                _until(lambda: receiver.to("general_manager"), "the leader pages with the shared log refusing writes")
                ha = _until(lambda: (h := (cluster.health(leader) or {}).get("ha") or {}).get("degraded_since") and h,
                            "the leader says the shared log is unreachable")
                assert ha["degraded_cause"] == "shared_log" and ha["role"] == "leader", (ha["error"], ha["log"])
                board = requests.get(f"{cluster.nodes[leader].base}/api/v1/board", timeout=10).json()
                assert board["ha"]["degraded_cause"] == "shared_log"
                assert board["ha"]["degraded_since"] == ha["degraded_since"]  # one stamp, whoever reads it
                hms = datetime.fromisoformat(ha["degraded_since"]).astimezone(ZoneInfo("UTC")).strftime("%H:%M:%S")
                out = status(cluster)
                assert out.returncode == 1, out.stdout + out.stderr
                assert f"HA degraded: shared alert log unreachable since {hms}" in out.stdout, out.stdout
                admin.execute("GRANT INSERT ON warroom_log TO warroom")
            _until(lambda: (cluster.health(leader) or {}).get("ha", {}).get("degraded") is None,
                   "the held rows are shipped and HA is sound again")
            assert len(receiver.to("general_manager")) == 1
        finally:
            cluster.stop_all()
