"""Starting the real daemon and the demo night for integration tests; every wait is bounded."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import yaml

from demo.scenario import DEFAULT_NIGHT, load_scenario
from demo.server import DemoNight
from tests.realparts import free_port
from warroom.durations import parse_duration

ROOT = Path(__file__).resolve().parents[1]
DEMO_BASE = "http://127.0.0.1:8780"


def start_demo(start_at: str = "23:29:00", speed: float = 9.0) -> DemoNight:
    """The seed's night on a free port, started at `start_at` scenario time."""
    return DemoNight(load_scenario(DEFAULT_NIGHT), "127.0.0.1", 0, speed=speed, start_at=start_at).start()


def demo_config(demo_url: str, db: Path, api_port: int | None = None, h5_timeout: str = "3s") -> dict[str, Any]:
    """The shipped config.yaml pointed at a demo on `demo_url`, a temp database and a free API port."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    # the demo's address stands in both the targets (http://) and the people's inbox channels (json://)
    raw = _replace(copy.deepcopy(raw), DEMO_BASE.removeprefix("http://"), demo_url.removeprefix("http://"))
    raw.pop("demo", None)
    # Without the demo's clock this run is on real time, where the shipped night's 2024 dates are long over:
    # the campaign and its run sheet count from the daemon's start instead, the night's hour in real seconds at 9x.
    raw["campaign"].update(start="+0s", end="+6m39.889s")
    for step, at in zip(raw["campaign"]["run_sheet"], ("+6m39.889s", "+7m13.334s", "+10m"), strict=True):
        step["at"] = at
    raw["server"].update(port=api_port or free_port(), database=str(db), tick="100ms")
    for collector in raw["collectors"]:
        if collector["type"] == "http":
            # The demo's page takes up to 18 s; a short timeout is itself a measured value (the wait).
            collector["timeout"] = h5_timeout
            collector["interval"] = "1s"
    # A timed-out probe records its timeout, so red must be reachable by it (warroom validate insists).
    limit = parse_duration(h5_timeout)
    raw["metrics"]["response_time"].update(yellow=round(limit / 4, 2), orange=round(limit / 2, 2), red=limit,
                                           clear=round(limit / 20, 2))
    return raw


def _replace(node: Any, old: str, new: str) -> Any:
    if isinstance(node, dict):
        return {k: _replace(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, old, new) for v in node]
    return node.replace(old, new) if isinstance(node, str) else node


def write_config(raw: dict[str, Any], path: Path) -> Path:
    """Write a config dict as YAML."""
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def start_collect(config: Path, log: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`warroom collect -c config` as a child process, output to `log`."""
    env = {**os.environ, **(extra_env or {})}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "warroom.cli", "collect", "-c", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def api_base(raw: dict[str, Any]) -> str:
    """http://127.0.0.1:PORT of the config's API."""
    return f"http://127.0.0.1:{raw['server']['port']}"


def wait_for(probe: Callable[[], Any], timeout: float, what: str, proc: subprocess.Popen | None = None,
             log: Path | None = None) -> Any:
    """Call `probe` until it returns something truthy; fail naming `what` (and the daemon log) at the deadline."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"daemon exited with {proc.returncode} while waiting for {what}:\n{_tail(log)}")
        try:
            result = probe()
            if result:
                return result
        except (requests.RequestException, KeyError, ValueError) as err:
            last_error = err
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_error})\n{_tail(log)}")


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-30:])


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> int:
    """SIGTERM and wait; SIGKILL if it does not stop in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode
