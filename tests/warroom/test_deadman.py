"""The dead man's switch: pings while leading, nothing while following, a watchdog in a real Alertmanager."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.harness.receiver import Receiver
from tests.harness.until import until
from tests.realparts import find_binary, free_port
from warroom.daemon.deadman import WATCHDOG, DeadMansSwitch


class Pings(Receiver):
    """The receiver, counting GETs too: a healthchecks ping is a GET."""

    def __init__(self) -> None:
        super().__init__()
        self.gets = 0
        pings = self

        handler = self.RequestHandlerClass

        class WithGet(handler):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                pings.gets += 1
                self.send_response(200)
                self.end_headers()

        self.RequestHandlerClass = WithGet


@pytest.fixture
def pings() -> Iterator[Pings]:
    server = Pings()
    yield server
    server.stop()


def test_only_the_leader_beats(pings: Pings) -> None:
    leading = threading.Event()
    switch = DeadMansSwitch(f"http://127.0.0.1:{pings.port}/ping/abc", [], 0.05, "c", "a", leading.is_set)
    switch.start()
    try:
        time.sleep(0.3)  # a follower's switch runs, and must not ping: checked on the count, not a time
        assert pings.gets == 0 and switch.beats == 0
        leading.set()
        until(lambda: pings.gets >= 3, "three pings once leading")
        leading.clear()
        quiet_from = switch.beats
        time.sleep(0.3)
        assert switch.beats <= quiet_from + 1  # at most the beat already under way when leadership went
        assert switch.status()["failures"] == 0 and switch.status()["last_ok"]
    finally:
        switch.stop()


def test_a_failing_target_is_counted_and_shown_masked() -> None:
    port = free_port()  # nobody listens
    switch = DeadMansSwitch(f"http://127.0.0.1:{port}/ping/SECRET-UUID", [], 1.0, "c", "a", lambda: True,
                            timeout=1.0)
    assert switch.beat() is False
    status = switch.status()
    assert status["failures"] == 1 and "ConnectionError" in status["last_error"]
    assert "SECRET-UUID" not in repr(status)


@pytest.mark.needs_prometheus
def test_the_watchdog_fires_in_a_real_alertmanager_while_the_leader_lives(tmp_path) -> None:
    binary = find_binary("prometheus-alertmanager", "alertmanager")
    port = free_port()
    (tmp_path / "am.yml").write_text("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n")
    am = subprocess.Popen([binary, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am'}",
                           f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                          stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    switch = DeadMansSwitch(None, [f"alertmanager://127.0.0.1:{port}"], 0.5, "night", "node-a", lambda: True)
    try:
        until(lambda: _ready(port), "alertmanager ready", 30)
        switch.start()

        def watchdog() -> list[dict]:
            got = requests.get(f"http://127.0.0.1:{port}/api/v2/alerts", timeout=2).json()
            return [a for a in got if a["labels"].get("alertname") == WATCHDOG and a["status"]["state"] == "active"]

        (alert,) = until(watchdog, "the watchdog active in Alertmanager")
        assert alert["labels"]["cluster"] == "night" and "node-a" in alert["annotations"]["summary"]
        switch.stop()  # every node gone: the watchdog lapses on its own, which is what pages someone
        until(lambda: not watchdog(), "the watchdog lapsed after the beats stopped", 30)
    finally:
        switch.stop()
        am.terminate()
        am.wait(10)


def _ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).ok
    except requests.RequestException:
        return False
