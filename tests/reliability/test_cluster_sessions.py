"""A person signed in on the board stays signed in through a failover, on whichever node the board reads.

Real `warroom collect` nodes over a real PostgreSQL: the sign-in posted to a follower is passed to the
leader, which writes the session; every node mirrors it. The leader is killed: the new leader knows the
session, a decision posted through a follower is recorded as the person, and a sign-out on any node
ends the session on every node.
"""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from alerts.signin import make_signin
from app.api_client import Actor, DaemonClient
from tests.harness.cluster import Cluster
from tests.harness.receiver import Receiver
from tests.harness.rig import ACK_SECRET, TOKEN
from tests.harness.until import until

pytestmark = pytest.mark.needs_postgres

BOARD = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def cluster(tmp_path: Path, postgres_dsn: str) -> Iterator[Cluster]:
    receiver = Receiver()
    nodes = Cluster(tmp_path, postgres_dsn, receiver, cluster=f"s{secrets.token_hex(4)}")
    try:
        nodes.start_all()
        yield nodes
    finally:
        nodes.stop_all()
        receiver.stop()


def _who(cluster: Cluster, i: int, session: str) -> int:
    try:
        return requests.get(f"{cluster.nodes[i].base}/api/v1/signin", headers={"X-Warroom-Session": session},
                            timeout=5).status_code
    except requests.RequestException:
        return 0


def _post(cluster: Cluster, i: int, path: str, session: str, body: dict | None = None) -> requests.Response | None:
    """The answer, or None when the node said 503 (no leader known yet: nothing was changed)."""
    reply = requests.post(f"{cluster.nodes[i].base}{path}", json=body, timeout=10,
                          headers={**BOARD, "X-Warroom-Session": session})
    return None if reply.status_code == 503 else reply


def test_a_signed_in_person_stays_signed_in_through_a_failover_and_signs_out_everywhere(cluster: Cluster) -> None:
    leader = cluster.wait_leader()
    follower, other = (i for i in range(3) if i != leader)
    token = make_signin(ACK_SECRET, "general_manager", "Wang", int(time.time()) + 3600)
    reply = requests.post(f"{cluster.nodes[follower].base}/api/v1/signin", json={"token": token}, headers=BOARD,
                          timeout=10)
    assert reply.status_code == 201, reply.text
    assert reply.headers.get("x-warroom-answered-by") == cluster.nodes[leader].name  # the leader opened it
    session = reply.json()["session"]
    # before: only the node that opened the session knew it ([201-node: 200, others: 401])
    until(lambda: [_who(cluster, i, session) for i in range(3)] == [200] * 3, "every node knows the session")

    cluster.signal(leader, signal.SIGKILL)
    new = cluster.wait_leader(other_than=leader)
    assert _who(cluster, new, session) == 200
    rest = follower if new != follower else other
    # A follower that has not yet seen the new lease answers 503 "nothing was changed, try again": so do we.
    decided = until(lambda: _post(cluster, rest, "/api/v1/annotations", session, {"text": "switch to standby"}),
                    "the decision taken through a follower")
    assert decided.status_code == 201, decided.text
    notes = until(lambda: [n for n in requests.get(f"{cluster.nodes[new].base}/api/v1/annotations",
                                                   params={"from": "-1h"}, timeout=5).json()["annotations"]
                           if n["text"] == "switch to standby"], "the decision in the new leader's log")
    assert "Wang" in notes[0]["author"] and notes[0]["role"] == "general_manager", notes[0]

    out = until(lambda: _post(cluster, rest, "/api/v1/signout", session), "the sign-out taken")
    assert out.json() == {"signed_out": True}, out.text
    until(lambda: [_who(cluster, i, session) for i in (new, rest)] == [401, 401], "signed out on every node")


def test_the_board_signed_in_as_a_person_decides_while_the_leader_dies(cluster: Cluster) -> None:
    leader = cluster.wait_leader()
    board = DaemonClient(",".join(n.base for n in cluster.nodes), token=TOKEN)
    board.nodes.survey()  # as the board's first snapshot does: ask every node, read the leader
    assert board.nodes.current == cluster.nodes[leader].base
    token = make_signin(ACK_SECRET, "general_manager", "Wang", int(time.time()) + 3600)
    session = board.sign_in(token, "127.0.0.1")["session"]
    cluster.signal(leader, signal.SIGKILL)
    # the board's write: refused by the dead leader, taken by a follower, which waits for the next leader
    # (before: the board gave up after 2 s while the follower waited, "unreachable", the decision unknown)
    board.annotate("switch to the standby site", Actor(session=session))
    new = cluster.wait_leader(other_than=leader)
    notes = until(lambda: [n for n in requests.get(f"{cluster.nodes[new].base}/api/v1/annotations",
                                                   params={"from": "-1h"}, timeout=5).json()["annotations"]
                           if n["text"] == "switch to the standby site"], "the decision in the new leader's log")
    assert len(notes) == 1 and "Wang" in notes[0]["author"], notes
