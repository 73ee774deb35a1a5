"""A small daemon on free ports with pushed metrics, paging local webhooks: the reliability rig.

Used by tests/reliability and by bench/ (crash and soak benches), so both see the same parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.realparts import free_port
from warroom.config.load import parse_config
from warroom.daemon.daemon import Daemon

TOKEN = "board-token-for-reliability"
ACK_SECRET = "ack-secret-for-reliability"
ROLES = (("tech_lead", "Zhang"), ("ops_lead", "Li"), ("general_manager", "Wang"))


def pushed_config(db: Path, channels: dict[str, list[str]], port: int | None = None,
                  **alerts: Any) -> dict[str, Any]:
    """A config with two pushed metrics and no collector: the API is the only input."""
    return {
        "campaign": {"name": "reliability", "end": "+1h", "locale": "en"},
        "people": {role: {"name": name, "phone": "1", "channels": list(channels.get(role, []))}
                   for role, name in ROLES},
        "levels": {"yellow": {"owner": "tech_lead", "ack_timeout": "1h"},
                   "orange": {"owner": "ops_lead"}, "red": {"owner": "general_manager"}},
        "collectors": [],
        "metrics": {"failures": {"title": "Order failures", "yellow": 5, "orange": 20, "red": 50, "pushed": True,
                                 "stale_after": "1h"},
                    "queue": {"title": "Call queue", "yellow": 10, "red": 50, "pushed": True}},
        "alerts": {"resolve_after": "0s", "repeat_every": "0s", **alerts},
        "server": {"port": port if port is not None else free_port(), "database": str(db), "tick": "100ms"},
    }


@contextmanager
def running_daemon(raw: dict[str, Any], env: dict[str, str] | None = None) -> Iterator[tuple[Daemon, str]]:
    """An in-process daemon over `raw` and its base URL; stopped afterwards."""
    daemon = Daemon(parse_config(raw, env=env or {}))
    daemon.start()
    try:
        yield daemon, f"http://127.0.0.1:{daemon.api.port}"
    finally:
        daemon.stop()


def push(base: str, samples: list[dict[str, Any]], token: str = TOKEN, timeout: float = 5) -> requests.Response:
    """POST /api/v1/push with the board token."""
    return requests.post(f"{base}/api/v1/push", json={"samples": samples},
                         headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
