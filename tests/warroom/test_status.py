"""`warroom status` in words and exit codes: a single real daemon, a hostile health answer, a dead address,
and the cluster's verdicts from answers as nodes give them (the real pair: tests/reliability/test_cluster_status.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.harness.rig import pushed_config, running_daemon
from tests.realparts import free_port
from warroom.cli.status import DEGRADED, NOBODY_LEADS, OK, show_status, status_lines
from warroom.config.load import parse_config

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _ha(node: str, role: str, **extra: Any) -> dict[str, Any]:
    nodes = [{"node": n, "url": f"http://{n}:8765", "last_heartbeat": "2024-11-11T15:31:04+00:00",
              "heartbeat_age_s": 0.4, "lag_s": 0.0, "leader": n == "a"} for n in ("a", "b")]
    return {"node": node, "ha": {"node": node, "cluster": "night", "url": f"http://{node}:8765", "role": role,
                                 "leader": "a", "leader_since": "2024-11-11T15:20:00+00:00", "lease_age_s": 0.4,
                                 "epoch": 2, "degraded": None, "degraded_cause": None, "degraded_since": None,
                                 "nodes": nodes, "takeovers": 1, "resent_after_failover": 0, **extra}}


def test_a_sound_pair_exits_0_and_names_leader_and_follower_in_the_campaigns_zone() -> None:
    lines, code = status_lines({"http://a:8765": (_ha("a", "leader"), None),
                                "http://b:8765": (_ha("b", "follower"), None)}, SHANGHAI)
    assert code == OK
    assert lines[0] == "cluster night: a leads since 23:20:00 · epoch 2 · lease renewed 0.4s ago"
    assert any(line.split()[:3] == ["b", "follower", "yes"] and "23:31:04 (0.4s ago)" in line for line in lines)


def test_degraded_says_what_and_since_when_and_exits_1() -> None:
    down = _ha("a", "leader", degraded="HA degraded: shared alert log unreachable for 9s (2 rows held)",
               degraded_cause="shared_log", degraded_since="2024-11-11T15:31:05+00:00")
    lines, code = status_lines({"http://a:8765": (down, None), "http://b:8765": (_ha("b", "follower"), None)},
                               SHANGHAI)
    assert code == DEGRADED
    assert "HA degraded: shared alert log unreachable since 23:31:05 (says a)" in lines


def test_nobody_leading_or_nobody_answering_exits_2() -> None:
    lines, code = status_lines({"http://a:8765": (_ha("a", "follower"), None),
                                "http://b:8765": (None, "ConnectionError")}, SHANGHAI)
    assert code == NOBODY_LEADS and "NO NODE LEADS" in lines[0]
    lines, code = status_lines({"http://a:8765": (None, "ReadTimeout")}, SHANGHAI)
    assert code == NOBODY_LEADS and lines == ["no node answers: http://a:8765 (ReadTimeout)",
                                              "nobody leads: nobody is paged"]


def test_two_leaders_are_named_and_degraded() -> None:
    lines, code = status_lines({"http://a:8765": (_ha("a", "leader"), None),
                                "http://b:8765": (_ha("b", "leader", epoch=3), None)}, SHANGHAI)
    assert code == DEGRADED and any(line.startswith("TWO LEADERS (a, b)") for line in lines)



def test_a_single_real_daemon_is_a_single_node(tmp_path, capsys) -> None:
    raw = pushed_config(tmp_path / "n.duckdb", {})
    with running_daemon(raw) as (_, base):
        capsys.readouterr()
        assert show_status(parse_config(raw, env={}), base, False) == OK
    out = capsys.readouterr().out
    assert out.startswith("single node (no ha:): ") and f"at {base}" in out and "collectors" in out


@pytest.fixture
def hostile_node() -> Iterator[str]:
    """A node whose health names it with an escape sequence and a fake line (outside text reaches the terminal)."""
    answer = _ha("a\x1b[2J\nroot leads", "leader")
    answer["ha"]["nodes"] = []  # nothing more to ask
    body = json.dumps(answer).encode()

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_control_characters_from_a_node_are_shown_never_obeyed(tmp_path, capsys, hostile_node) -> None:
    loaded = parse_config(pushed_config(tmp_path / "n.duckdb", {}), env={})
    dead = f"http://127.0.0.1:{free_port()}"
    code = show_status(loaded, f"{hostile_node},{dead}", False)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out
    assert not any(line.startswith("root leads") for line in out.splitlines())
    assert code == DEGRADED  # the dead address named on the command line does not answer
    assert "NO (ConnectionError)" in out


def test_a_health_answer_of_the_wrong_shapes_is_reported_never_a_crash() -> None:
    odd = _ha("a", "leader", takeovers="many", resent_after_failover=None,
              nodes=["x", {"node": None, "url": 5, "heartbeat_age_s": "old", "lag_s": []}])
    odd["ha"]["role"] = {"leader": True}
    lines, code = status_lines({"http://a:8765": (odd, None)}, SHANGHAI)
    assert code == NOBODY_LEADS and "NO NODE LEADS" in lines[0]  # a role that is not "leader" leads nothing
    assert "takeovers 0 · pages resent after failover 0 (counted by the nodes that answer)" in lines
