"""A busy port is one line naming the port and the config key that sets it, exit 2, and nothing started.

Issue 18 item 9: with anything already listening on 8780, `warroom up` started the demo, which died
with a raw `OSError: [Errno 98]` traceback and was restarted in a loop while the daemon paged the
foreign server; and `warroom demo -c config.yaml` ignored the config's `demo.port`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.daemon_kit import write_config
from tests.harness.rig import pushed_config
from tests.realparts import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def listening(port: int) -> Iterator[socket.socket]:
    """A foreign program holding `port` on 127.0.0.1."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a run just stopped may leave TIME_WAIT behind
    sock.bind(("127.0.0.1", port))
    sock.listen(8)
    try:
        yield sock
    finally:
        sock.close()


def _config(tmp_path: Path, demo_port: int, api_port: int, board_port: int) -> Path:
    raw = pushed_config(tmp_path / "night.duckdb", {}, port=api_port)
    raw["server"]["board_port"] = board_port
    raw["demo"] = {"port": demo_port, "speed": 9}
    return write_config(raw, tmp_path / "config.yaml")


def _run(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A warroom command that must end by itself; its process group is killed if it does not."""
    proc = subprocess.Popen([sys.executable, "-m", "warroom.cli", *argv], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "WARROOM_TOKEN": "t"})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"warroom {' '.join(argv)} did not end within {timeout:g}s:\n{out}\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _refused_on(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


@pytest.mark.parametrize("taken", ["demo.port", "server.port", "server.board_port"])
def test_up_refuses_a_busy_port_in_one_line_before_starting_anything(tmp_path, taken):
    ports = {"demo.port": free_port(), "server.port": free_port(), "server.board_port": free_port()}
    config = _config(tmp_path, ports["demo.port"], ports["server.port"], ports["server.board_port"])
    with listening(ports[taken]):
        done = _run("up", "-c", str(config))
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"port {ports[taken]} on 127.0.0.1 is already in use" in lines[0] and f"set by {taken} in" in lines[0]
    assert all(_refused_on(port) for name, port in ports.items() if name != taken)  # nothing was started
    assert not (tmp_path / "night.duckdb").exists()


def test_up_refuses_two_keys_on_one_port(tmp_path):
    port = free_port()
    done = _run("up", "-c", str(_config(tmp_path, port, port, free_port())))
    assert done.returncode == 2 and "set by both demo.port and server.port" in done.stderr, done


def test_demo_serves_on_the_configs_port_and_refuses_a_busy_one_in_one_line(tmp_path):
    port = free_port()
    config = _config(tmp_path, port, free_port(), free_port())
    proc = subprocess.Popen([sys.executable, "-m", "warroom.cli", "demo", "-c", str(config)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/api/clock", timeout=1).json()
            except requests.RequestException:
                time.sleep(0.1)
        assert answer is not None and answer["speed"] == 9, f"no demo on demo.port {port} (exit {proc.poll()})"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    with listening(port):
        done = _run("demo", "-c", str(config))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr and "demo.port in" in done.stderr


def test_collect_on_a_busy_port_is_one_line_and_exit_2(tmp_path):
    port = free_port()
    with listening(port):
        done = _run("collect", "-c", str(_config(tmp_path, free_port(), port, free_port())))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "server.port" in done.stderr
