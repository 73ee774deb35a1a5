"""The dead man's switch: while this node pages, it tells the outside world so, every `heartbeat.every`.

When every warroom node is gone nobody is paged, and nobody is told that nobody will be paged; only
something outside warroom can notice silence. Two ways, both fed by the leader only:

- `heartbeat.url`: a healthchecks-style ping (GET, answered 2xx) — healthchecks.io, Uptime Kuma's push
  monitor, Cronitor: each pages someone when the pings stop;
- `heartbeat.alertmanagers`: an always-firing `WarroomWatchdog` alert, re-posted with an `endsAt` a few
  beats ahead, as Prometheus' Watchdog alert: route it to a dead man's snitch receiver that pages the
  technical lead when it stops arriving.

A beat never waits on the pager or the database; a failed beat is logged (rate-limited) and counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import requests

from warroom.config.channels import shown

log = logging.getLogger("warroom.heartbeat")

WATCHDOG = "WarroomWatchdog"
# The watchdog stays active this many beats after the last one: one lost beat never resolves it.
ENDS_AFTER_BEATS = 3


def watchdog_alert(cluster: str, node: str, now: datetime, every: float) -> list[dict]:
    """The /api/v2/alerts body of the always-firing watchdog."""
    return [{"labels": {"alertname": WATCHDOG, "source": "warroom", "cluster": cluster, "severity": "none"},
             "annotations": {"summary": f"warroom is alive and paging (leader {node})",
                             "description": "Always firing while a warroom node leads. Route it to a dead man's "
                                            "switch: when it stops arriving, warroom is down and pages nobody."},
             "startsAt": now.isoformat(),
             "endsAt": (now + timedelta(seconds=every * ENDS_AFTER_BEATS)).isoformat()}]


class DeadMansSwitch:
    """Beats on its own thread while `leading()` says so; `status()` for /api/v1/health."""

    def __init__(self, url: str | None, alertmanagers: list[str], every: float, cluster: str, node: str,
                 leading: Callable[[], bool], timeout: float = 5.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.url, self.alertmanagers, self.every = url, list(alertmanagers), every
        self.cluster, self.node, self.leading, self.timeout, self.clock = cluster, node, leading, timeout, clock
        self.beats = 0
        self.failures = 0
        self.last_ok: datetime | None = None
        self.last_error: str | None = None
        self._logged_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session = requests.Session()

    def beat(self) -> bool:
        """One heartbeat to every target; True when all of them took it."""
        now = self.clock()
        errors = []
        if self.url:
            try:
                reply = self._session.get(self.url, timeout=self.timeout)
                if reply.status_code >= 300:
                    errors.append(f"{shown(self.url)}: HTTP {reply.status_code}")
            except requests.RequestException as err:
                errors.append(f"{shown(self.url)}: {type(err).__name__}")
        for am in self.alertmanagers:
            base = ("https://" if am.lower().startswith("alertmanagers://") else "http://") + am.split("://", 1)[-1]
            try:
                reply = self._session.post(f"{base.rstrip('/')}/api/v2/alerts", timeout=self.timeout,
                                           json=watchdog_alert(self.cluster, self.node, now, self.every))
                if reply.status_code >= 300:
                    errors.append(f"{shown(am)}: HTTP {reply.status_code}")
            except requests.RequestException as err:
                errors.append(f"{shown(am)}: {type(err).__name__}")
        self.beats += 1
        if errors:
            self.failures += 1
            self.last_error = "; ".join(errors)
            if time.monotonic() - self._logged_at >= 60.0:  # one line a minute, however long it lasts
                self._logged_at = time.monotonic()
                log.error("heartbeat not taken (%d failed beats so far): %s", self.failures, self.last_error)
            return False
        self.last_ok, self.last_error = now, None
        return True

    def start(self) -> None:
        """Beat every `every` seconds while this node leads."""
        if not self.url and not self.alertmanagers:
            return
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.leading():
                try:
                    self.beat()
                except Exception:  # noqa: BLE001 - the switch must outlive a bad beat
                    log.exception("heartbeat failed")
            self._stop.wait(self.every)

    def stop(self) -> None:
        """Stop beating (the outside world notices within a few beats, as it should)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 1)
        self._session.close()

    def status(self) -> dict[str, object]:
        """Beats sent, failures, the last good one and the last error (targets shown masked)."""
        return {"targets": [shown(u) for u in ([self.url] if self.url else []) + self.alertmanagers],
                "every_s": self.every, "beats": self.beats, "failures": self.failures,
                "last_ok": self.last_ok.isoformat() if self.last_ok else None, "last_error": self.last_error}
