"""The leadership lease against a real PostgreSQL: one leader, takeover after expiry, fencing by epoch."""

from __future__ import annotations

import secrets
import time

import psycopg
import pytest

from tests.harness.cluster import own_postgres, postgres_start, postgres_stop
from tests.harness.until import until
from tests.realparts import free_port
from warroom.daemon.lease import Leadership, Lease

pytestmark = pytest.mark.needs_postgres


@pytest.fixture
def cluster() -> str:
    return f"c{secrets.token_hex(4)}"


def test_one_leader_and_a_takeover_when_the_leader_stops_renewing(postgres_dsn: str, cluster: str) -> None:
    changes: list[tuple[str, Leadership]] = []
    a = Lease(postgres_dsn, cluster, "a", ttl=1.0, renew_every=0.3, on_change=lambda s: changes.append(("a", s)))
    b = Lease(postgres_dsn, cluster, "b", ttl=1.0, renew_every=0.3, on_change=lambda s: changes.append(("b", s)))
    try:
        assert a.look().leader
        first = b.look()
        assert not first.leader and first.holder == "a" and first.epoch == 1
        # a is frozen (it stops renewing, as under SIGSTOP): b takes over once a's lease has expired, not before
        taken = until(lambda: (s := b.look()).leader and s, "b takes the expired lease")
        assert taken.holder == "b" and taken.epoch == 2
        # a wakes up: its renewal finds another holder, so it stops paging and says so
        woke = a.look()
        assert not woke.leader and woke.holder == "b" and woke.epoch == 2
        assert [(who, s.leader) for who, s in changes] == [("a", True), ("b", False), ("b", True), ("a", False)]
        nodes = {n["node"]: n for n in b.nodes()}
        assert nodes["b"]["leader"] and not nodes["a"]["leader"] and nodes["b"]["epoch"] == 2
    finally:
        a.stop(release=False)
        b.stop()


def test_the_leader_keeps_the_lease_while_it_renews(postgres_dsn: str, cluster: str) -> None:
    a = Lease(postgres_dsn, cluster, "a", ttl=1.0, renew_every=0.3)
    b = Lease(postgres_dsn, cluster, "b", ttl=1.0, renew_every=0.3)
    try:
        assert a.start().leader
        b.start()
        # several ttls pass: a renews on its thread, so b never takes over
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            assert not b.leading() and b.state.holder == "a"
            time.sleep(0.1)
        assert a.leading() and a.state.epoch == 1
    finally:
        a.stop()
        b.stop()


def test_a_clean_stop_hands_the_lease_over_at_once(postgres_dsn: str, cluster: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    a = Lease(postgres_dsn, cluster, "a", ttl=30.0, renew_every=1.0)
    b = Lease(postgres_dsn, cluster, "b", ttl=30.0, renew_every=1.0)
    try:
        assert a.look().leader
        assert not b.look().leader
        a.stop()  # released: b need not wait the 30 s ttl
        assert b.look().leader
        # a clean stop is said as one, never as an error "lost the lease ... to a" (itself), seen in every bench log
        said = [r.getMessage() for r in caplog.records if r.name == "warroom.ha"]
        assert "this node (a) handed the lease of cluster" in " ".join(said)
        assert not [r for r in caplog.records if r.levelname == "ERROR"], said
    finally:
        b.stop()


def test_an_unreachable_lease_store_never_silences_the_leader(postgres_dsn: str, cluster: str) -> None:
    a = Lease(postgres_dsn, cluster, "a", ttl=1.0, renew_every=0.3)
    follower = Lease(postgres_dsn, cluster, "f", ttl=1.0, renew_every=0.3)
    try:
        assert a.look().leader and not follower.look().leader
        dead = f"postgresql://nobody:x@127.0.0.1:{free_port()}/none"
        a._drop()
        a.dsn = follower.dsn = dead
        follower._drop()
        cut_off = a.look()
        assert cut_off.leader and cut_off.unreachable_since is not None
        assert cut_off.as_dict("a")["degraded"].startswith("HA degraded: lease store unreachable since ")
        assert not follower.look().leader  # nobody takes over what nobody can reach
        a.dsn = postgres_dsn
        back = a.look()
        assert back.leader and back.unreachable_since is None and back.epoch == 1
    finally:
        a.stop()
        follower.stop(release=False)


def test_renewing_must_fit_twice_in_the_lease() -> None:
    with pytest.raises(ValueError, match="renew_every"):
        Lease("postgresql://x", "c", "n", ttl=2.0, renew_every=1.5)


def test_after_a_lease_store_outage_the_node_that_paged_through_it_keeps_the_lease() -> None:
    with own_postgres() as (server, runner):
        a = Lease(server.dsn, "night", "a", ttl=1.0, renew_every=0.3, connect_timeout=1.0)
        b = Lease(server.dsn, "night", "b", ttl=1.0, renew_every=0.3, connect_timeout=1.0)
        try:
            assert a.look().leader and not b.look().leader
            postgres_stop(runner)
            assert a.look().leader and a.state.unreachable_since is not None  # pages on, degraded
            assert not b.look().leader
            postgres_start(runner)
            # the lease expired while PostgreSQL was down; the follower happens to look first
            with psycopg.connect(server.dsn, autocommit=True) as con:
                until(lambda: con.execute("SELECT expires_at < clock_timestamp() FROM warroom_lease").fetchone()[0],
                      "the lease to have expired")
            first = b.look()
            # before: b took the expired lease (epoch 2) and a stepped down at its next renewal: a takeover,
            # and its resent pages, caused by nothing but the outage
            assert not first.leader and first.holder == "a", first
            assert a.look().leader and a.state.epoch == 1 and a.state.unreachable_since is None
            assert b.look().holder == "a"
        finally:
            a.stop(release=False)
            b.stop()


def test_a_node_that_has_not_looked_yet_finds_the_leader_to_forward_to(postgres_dsn: str, cluster: str) -> None:
    # Found by bench/failover_bench.py: an acknowledgement posted to a node that had just restarted (serving, still
    # catching up with the shared log, its lease not yet read) was refused "no node leads the cluster right now".
    from types import SimpleNamespace

    from warroom.daemon.ha import ClusterNode

    url = f"http://127.0.0.1:{free_port()}"
    a = Lease(postgres_dsn, cluster, "a", ttl=3.0, renew_every=1.0, url=url)
    b = Lease(postgres_dsn, cluster, "b", ttl=3.0, renew_every=1.0)
    try:
        assert a.look().leader
        assert b.state.holder is None  # b has not looked
        assert ClusterNode.leader_url(SimpleNamespace(lease=b)) == ("a", url)
        a.stop(release=True)  # handed over, nobody holds a live lease: nobody to forward to, and b says so
        assert ClusterNode.leader_url(SimpleNamespace(lease=b)) == (None, None)
    finally:
        a.stop(release=False)
        b.stop()
