"""Record the demo night into a DuckDB file at high speed, with an ack, a decision and a run-sheet step done."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.app.board_kit import night_config
from tests.daemon_kit import api_base, start_collect, start_demo, stop, wait_for, write_config

TOKEN = "night-record-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def record_demo_night(folder: Path, seconds: float = 40.0, speed: float = 30.0, start_at: str = "23:27:00",
                      on_board: object = None) -> Path:
    """Play the seed's night from `start_at` for `seconds` real seconds; returns the closed database file.

    While it runs, the owner of the first alert acknowledges it and records a decision, and the ops
    lead marks the first run-sheet step done, through the API as people would.
    """
    demo = start_demo(start_at, speed=speed)
    db = folder / "night.duckdb"
    raw = night_config(demo.url, db, start_at=start_at, speed=speed)
    config, log = write_config(raw, folder / "config.yaml"), folder / "collect.log"
    proc = start_collect(config, log, {"WARROOM_TOKEN": TOKEN})
    base = api_base(raw)
    acted = False
    try:
        wait_for(lambda: requests.get(f"{base}/api/v1/board", timeout=5).ok, 30, "the daemon", proc, log)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.4)
            try:
                if callable(on_board):
                    on_board(requests.get(f"{base}/api/v1/board", timeout=15).json())
                alerts = requests.get(f"{base}/api/v1/alerts", params={"state": "open"}, timeout=15).json()["alerts"]
            except requests.RequestException:
                continue  # a loaded machine: try again next round
            if alerts and not acted and time.monotonic() > deadline - seconds * 0.6:
                first = alerts[-1]
                role = (first.get("owner") or {}).get("role") or "tech_lead"
                requests.post(f"{base}/api/v1/alerts/{first['id']}/ack", json={"by": role, "note": "on it"},
                              headers=AUTH, timeout=15).raise_for_status()
                requests.post(f"{base}/api/v1/annotations", headers=AUTH, timeout=15,
                              json={"author": (first.get("owner") or {}).get("name") or role, "role": role,
                                    "text": "switch to the backup servers", "alert_id": first["id"],
                                    "level": first["level"] if first["level"] != "green" else None}).raise_for_status()
                requests.post(f"{base}/api/v1/runsheet/0/done", json={"by": "ops_lead"}, headers=AUTH,
                              timeout=15).raise_for_status()
                acted = True
    finally:
        stop(proc)
        demo.shutdown()
    return db
