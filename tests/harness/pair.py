"""Two (or three) `warroom collect` processes side by side, each with its own file, port and node name."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.daemon_kit import api_base, start_collect, stop, wait_for, write_config
from tests.harness.rig import TOKEN, pushed_config


@contextmanager
def running_nodes(tmp: Path, names: tuple[str, ...] = ("node-a", "node-b"),
                  ) -> Iterator[tuple[list[subprocess.Popen[bytes]], list[str]]]:
    """The nodes' processes and API bases, each serving /api/v1/health under its name; all stopped afterwards."""
    procs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for name in names:
            raw = pushed_config(tmp / f"{name}.duckdb", {})
            config = write_config(raw, tmp / f"{name}.yaml")
            log = tmp / f"{name}.log"
            procs.append(start_collect(config, log, {"WARROOM_TOKEN": TOKEN, "WARROOM_NODE": name}))
            bases.append(api_base(raw))
            wait_for(lambda b=bases[-1], n=name: requests.get(f"{b}/api/v1/health", timeout=2).json()["node"] == n,
                     60, f"{name} to serve", procs[-1], log)
        yield procs, bases
    finally:
        for proc in procs:
            stop(proc)
