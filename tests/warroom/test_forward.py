"""A follower sends an action to the leader again only when it cannot have arrived (real sockets on 127.0.0.1)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from tests.realparts import free_port
from warroom.daemon.forward import never_reached


@pytest.fixture
def silent_server() -> Iterator[tuple[int, threading.Event]]:
    """A port that takes connections and reads the request; `hang_up` set: closes it unanswered, else says nothing."""
    hang_up = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.recv(65536)
            if hang_up.is_set():
                conn.close()  # as a leader killed while answering
            else:
                held.append(conn)  # as a frozen leader: the request is in, the answer never comes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], hang_up
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def _error(url: str, timeout: float = 5.0) -> requests.RequestException:
    with pytest.raises(requests.RequestException) as caught:
        requests.post(url, json={"by": "general_manager"}, timeout=timeout)
    return caught.value


def test_a_refused_connection_never_reached_the_leader() -> None:
    assert never_reached(_error(f"http://127.0.0.1:{free_port()}/api/v1/alerts/1/ack"))


def test_a_request_the_leader_took_and_never_answered_may_have_been_taken(silent_server) -> None:
    port, hang_up = silent_server
    assert not never_reached(_error(f"http://127.0.0.1:{port}/api/v1/alerts/1/ack", timeout=0.5))  # frozen
    hang_up.set()
    assert not never_reached(_error(f"http://127.0.0.1:{port}/api/v1/alerts/1/ack"))  # killed while answering
