"""Who acts, what it costs: a sign-in link exchanged for a session, "who is this session", and an action as a
person against the same action as a machine, over HTTP to the API as the daemon serves it (uvicorn on a
bound socket, the real engine and DuckDB file).

The board asks "who is this session" at most once per WHO_TTL_S (5 s) per session, so that cost is per
signed-in browser, not per refresh; the exchange happens once per link opened.

    python -m bench.people_bench [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from alerts.engine import AlertEngine
from alerts.signin import make_signin
from bench.common import metrics_config, summary
from warroom.api.app import create_app
from warroom.api.read_model import BoardReader
from warroom.daemon.daemon import ApiServer, bind_socket
from warroom.store.database import Store
from warroom.store.writer import LatestValues
from warroom.values import CampaignWindow

SECRET, TOKEN = "bench-ack-secret", "bench-board-token"


def timed(call) -> float:  # noqa: ANN001 - any zero-argument call
    started = time.perf_counter()
    answer = call()
    elapsed = time.perf_counter() - started
    assert answer.status_code < 300, answer.text
    return elapsed


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    os.environ["WARROOM_ACK_SECRET"], os.environ["WARROOM_TOKEN"] = SECRET, TOKEN
    now = datetime.now(UTC)
    loaded = metrics_config(3, now + timedelta(hours=2))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "people.duckdb")
        engine = AlertEngine(loaded, store, send=lambda url, page: None, tick=3600)
        engine.start()
        reader = BoardReader(loaded.config, store, CampaignWindow("bench", None, now + timedelta(hours=2)),
                             LatestValues(), engine.views)
        api = ApiServer(create_app(reader, engine.clock, engine=engine, deliver=engine.observe),
                        bind_socket("127.0.0.1", 0))
        api.start()
        base, http = f"http://127.0.0.1:{api.port}", requests.Session()
        board = {"Authorization": f"Bearer {TOKEN}"}
        try:
            link = make_signin(SECRET, "general_manager", "G", int(time.time()) + 3600)
            exchange = [timed(lambda: http.post(f"{base}/api/v1/signin", json={"token": link, "client": "10.0.0.1"},
                                                headers=board)) for _ in range(args.requests)]
            session = http.post(f"{base}/api/v1/signin", json={"token": link}, headers=board).json()["session"]
            person = {**board, "X-Warroom-Session": session}
            who = [timed(lambda: http.get(f"{base}/api/v1/signin", headers={"X-Warroom-Session": session}))
                   for _ in range(args.requests)]
            note = {"text": "bench decision", "kind": "note"}
            as_person = [timed(lambda: http.post(f"{base}/api/v1/annotations", json=note, headers=person))
                         for _ in range(args.requests)]
            as_machine = [timed(lambda: http.post(f"{base}/api/v1/annotations", json={**note, "author": "G"},
                                                  headers=board)) for _ in range(args.requests)]
            print(summary("POST /api/v1/signin (link → session, 1 row)", exchange))
            print(summary("GET /api/v1/signin (who is this session)", who))
            print(summary("POST /api/v1/annotations as a signed-in person", as_person))
            print(summary("POST /api/v1/annotations as a machine (board token)", as_machine))
        finally:
            api.stop()
            engine.stop()
            store.close()


if __name__ == "__main__":
    main()
