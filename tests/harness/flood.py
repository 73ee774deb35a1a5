"""Posters of 33 MB bodies against a daemon's /api/v1/push, half with the board token and half without.

Used by tests/reliability/test_hostile_api.py (the read path keeps answering, memory stays flat) and by
bench/flood_bench.py (how fast it answers meanwhile).
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

BODY_MB = 33
ROUNDS = 200


def _post_again_and_again(port: int, stop: threading.Event, sent: list[int], token: str | None) -> None:
    """Post 33 MB bodies again and again (bounded by `stop` and ROUNDS rounds)."""
    # valid JSON, so that a server parsing it before the token check spends its time (and memory) on it
    item = b'{"metric": "queue", "value": 1},'
    block = item * ((1 << 20) // len(item))
    for _ in range(ROUNDS):
        if stop.is_set():
            return
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                auth = f"Authorization: Bearer {token}\r\n" if token else ""
                head, tail = b'{"samples": [', b'{"metric": "queue", "value": 1}]}'
                length = len(head) + BODY_MB * len(block) + len(tail)
                sock.sendall(f"POST /api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{auth}"
                             f"Content-Length: {length}\r\n\r\n".encode() + head)
                for _ in range(BODY_MB):
                    if stop.is_set():
                        return
                    sock.sendall(block)
                    sent[0] += len(block)
                sock.sendall(tail)
                sock.recv(1024)
        except OSError:
            continue  # refused early and closed: the point; try again


class Flood:
    """`posters` threads posting to 127.0.0.1:`port` until the block ends; `sent` counts the bytes that left."""

    def __init__(self, port: int, token: str, posters: int = 6) -> None:
        self.stop_event = threading.Event()
        self._sent = [0]
        self.threads = [threading.Thread(target=_post_again_and_again, daemon=True, name=f"poster {i}",
                                         args=(port, self.stop_event, self._sent, token if i % 2 else None))
                        for i in range(posters)]

    @property
    def sent(self) -> int:
        """Body bytes sent so far, by every poster."""
        return self._sent[0]

    def running(self) -> int:
        """Posters still posting."""
        return sum(t.is_alive() for t in self.threads)

    def __enter__(self) -> Flood:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(5)
