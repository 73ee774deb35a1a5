"""Which node the board reads (app/nodes.py): the choice as a table, and the client against local HTTP servers.

The servers here answer health with an `ha` block the way the HA core does; the real daemons are in
test_follow_leader.py (the board moving when the node it reads is killed).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.api_client import Actor, DaemonClient, DaemonUnreachable
from app.hub import SnapshotHub
from app.nodes import NodeAnswer, NodeListError, choose, parse_bases

A, B, C = "http://a:1", "http://b:1", "http://c:1"
LEADER, FOLLOWER, SINGLE = NodeAnswer("a", "leader", 3), NodeAnswer("b", "follower", 3), NodeAnswer("x", None, None)


@pytest.mark.parametrize(("current", "answers", "chosen"), [
    (A, {A: SINGLE, B: SINGLE}, A),  # no HA: stay while it answers
    (A, {A: None, B: SINGLE}, B),  # it stopped answering: the first that answers
    (A, {A: None, B: None}, A),  # nobody answers: nowhere better to go
    (A, {A: FOLLOWER, B: LEADER}, B),  # a follower while another leads: to the leader
    (B, {A: FOLLOWER, B: LEADER}, B),  # on the leader: stay
    (A, {A: None, B: FOLLOWER, C: LEADER}, C),  # gone: straight to the leader, not the first follower
    (A, {A: NodeAnswer("a", "leader", 3), B: NodeAnswer("b", "leader", 4)}, B),  # two say so: the newer lease
    (A, {A: NodeAnswer("a", "leader", 4), B: NodeAnswer("b", "leader", 4)}, A),  # a tie keeps the current one
])
def test_choose_reads_the_leader_else_stays_while_answering(current, answers, chosen):
    assert choose(current, answers) == chosen


def test_node_answer_reads_name_role_and_epoch_and_survives_odd_answers():
    assert NodeAnswer.of({"node": "n1", "ha": {"role": "follower", "epoch": 7}}) == NodeAnswer("n1", "follower", 7)
    assert NodeAnswer.of({"node": "n1"}) == NodeAnswer("n1", None, None)
    assert NodeAnswer.of({"ha": {"node": "n2", "role": "leader", "epoch": True}}) == NodeAnswer("n2", "leader", None)
    assert NodeAnswer.of(["not", "a", "dict"]) == NodeAnswer(None, None, None)


def test_parse_bases_trims_and_names_the_bad_entry():
    assert parse_bases(" http://a:1/, http://b:2 ,http://a:1,") == ("http://a:1", "http://b:2")
    with pytest.raises(NodeListError, match=r"entry 2 \('b:2'\)"):
        parse_bases("http://a:1,b:2")
    with pytest.raises(NodeListError, match="no address"):
        parse_bases(" , ")


class FakeNode(ThreadingHTTPServer):
    """A node's API as far as the board needs it: health (with an HA role), board, alerts, and a slow ack."""

    daemon_threads = True

    def __init__(self, name: str, role: str | None, epoch: int = 1):
        self.name, self.role, self.epoch = name, role, epoch
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str) -> None:
                path = self.path.split("?")[0]
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with node.lock:
                    node.seen.append((method, path))
                if path == "/api/v1/health":
                    ha = {"node": node.name, "role": node.role, "epoch": node.epoch} if node.role else None
                    self._send({"status": "ok", "node": node.name, **({"ha": ha} if ha else {})})
                elif path == "/api/v1/board":
                    self._send({"at": "2024-11-11T15:30:00+00:00", "campaign": {"name": node.name}, "tiles": []})
                elif path == "/api/v1/alerts/1/ack":
                    time.sleep(3)  # longer than the client's 2 s bound: the answer never comes in time
                    try:
                        self._send({"id": 1})
                    except BrokenPipeError:
                        pass  # the client stopped waiting, as it should
                else:
                    self._send({"alerts": []})

            def do_GET(self) -> None:  # noqa: N802 - http.server's dispatch name
                self._route("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._route("POST")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def asked(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.seen if (m, p) == (method, path))


@pytest.fixture
def pair():
    nodes = [FakeNode("node-a", "follower"), FakeNode("node-b", "leader")]
    yield nodes
    for node in nodes:
        node.shutdown()
        node.server_close()


def wait_until(probe, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_the_first_snapshot_reads_the_leader_and_the_board_follows_a_new_one(pair):
    a, b = pair
    hub = SnapshotHub(DaemonClient(f"{a.base},{b.base}"), 0.2)
    first = hub.current()
    # Listed first, but a follower: the board reads the node whose health says it leads.
    assert first.error is None and first.node == "node-b" and first.board["campaign"]["name"] == "node-b"
    assert a.asked("GET", "/api/v1/board") == 0
    a.role, b.role, a.epoch = "leader", "follower", 2  # failover: node-a took the lease
    # The survey runs in the background, once per period, started by a refresh.
    wait_until(lambda: hub.current(max_age_s=0).node == "node-a", 30, "the board to move to the new leader")
    snap = hub.current(max_age_s=0)
    # Two moves: to node-b for the first snapshot, back to node-a after the failover.
    assert snap.error is None and snap.board["campaign"]["name"] == "node-a" and hub.client.nodes.moves == 2


def test_an_action_goes_to_the_node_the_board_reads_and_is_never_repeated_after_a_timeout(pair):
    a, b = pair
    client = DaemonClient(f"{b.base},{a.base}", token="t")
    assert client.write_timeout == 8.0  # several nodes: a follower may be waiting for the next leader
    client.write_timeout = 2.0  # the fake leader answers after 3 s: too late for this bound
    client.board()
    with pytest.raises(DaemonUnreachable):
        client.ack(1, Actor(wall="wall-1"))
    # The leader may have done it (its answer was late): sending it to the follower too could act twice.
    assert b.asked("POST", "/api/v1/alerts/1/ack") == 1 and a.asked("POST", "/api/v1/alerts/1/ack") == 0
