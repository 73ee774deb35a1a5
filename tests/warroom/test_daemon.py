"""The real daemon as a process: against the demo night, SIGKILL while ingesting, failing targets."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta

import pytest
import requests

from tests.collectors.conftest import LocalWeb, answer, huge, late
from tests.daemon_kit import (
    api_base,
    demo_config,
    start_collect,
    start_demo,
    stop,
    wait_for,
    write_config,
)
from tests.realparts import free_port
from warroom.config.load import parse_config
from warroom.daemon.daemon import Daemon
from warroom.store.database import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo():
    night = start_demo("23:29:00")
    yield night
    night.shutdown()


def board_tiles(base: str) -> dict[str, dict]:
    return {t["metric"]: t for t in requests.get(f"{base}/api/v1/board", timeout=5).json()["tiles"]}


def test_collect_against_the_demo_night(demo, tmp_path):
    raw = demo_config(demo.url, tmp_path / "night.duckdb")
    cfg, log = write_config(raw, tmp_path / "config.yaml"), tmp_path / "collect.log"
    proc = start_collect(cfg, log)
    base = api_base(raw)
    try:
        wanted = ("response_time", "server_cpu", "db_connections", "order_success", "pickup_rate", "orders_total")

        def all_live():
            tiles = board_tiles(base)
            return tiles if all(tiles[m]["value"] is not None and not tiles[m]["stale"] for m in wanted) else None

        tiles = wait_for(all_live, 30, "every demo tile to be live", proc, log)
        # 23:29 on the seed's night: the page waits past the 3 s timeout, the pool is past 85 %, success is falling
        assert tiles["response_time"]["value"] == pytest.approx(3.0, abs=0.3)
        # a probe that times out reaches the level its timeout reaches: red here (the kit sets red at the timeout)
        assert tiles["response_time"]["level"] == "red"
        assert tiles["response_time"]["owner"]["name"] == "王强 · 总经理"
        assert tiles["db_connections"]["level"] in ("orange", "red"), tiles["db_connections"]
        assert tiles["order_success"]["level"] in ("orange", "red")
        assert tiles["order_success"]["owner"]["role"] in ("ops_lead", "general_manager")
        assert 7856 <= tiles["orders_total"]["value"] <= 8127
        health = requests.get(f"{base}/api/v1/health", timeout=5).json()
        assert health["commits"] > 0 and health["collectors"]["orders"]["ok"] is True
        # the page probe waits out its 3 s timeout at a 1 s interval: the ticks it overlaps are counted, not run
        assert health["collectors"]["h5_order_page"]["skipped_polls"] >= 1
        assert health["collectors"]["orders"]["skipped_polls"] == 0
        # the h5 probe's timeouts are recorded as failed runs with their reason
        # (the tile shows a value the moment the engine sees it; its run row is committed on the next writer tick)
        runs = wait_for(lambda: requests.get(f"{base}/api/v1/runs", params={"collector": "h5_order_page"},
                                             timeout=5).json()["runs"], 5, "the probe's run rows", proc, log)
        assert runs and all(not r["ok"] and "timed out after 3s" in r["error"] for r in runs), (runs, health)
        series = requests.get(f"{base}/api/v1/series", params={"metric": "server_cpu", "from": "-5m"}, timeout=5)
        assert series.status_code == 200 and series.json()["series"]["server_cpu"]
        assert "warroom_metric_level" in requests.get(f"{base}/metrics", timeout=5).text
    finally:
        assert stop(proc) == 0, log.read_text()


def test_sigkill_while_ingesting_loses_no_committed_sample(demo, tmp_path):
    db = tmp_path / "night.duckdb"
    raw = demo_config(demo.url, db)
    cfg, log = write_config(raw, tmp_path / "config.yaml"), tmp_path / "collect.log"
    base = api_base(raw)
    proc = start_collect(cfg, log)
    try:
        committed = wait_for(
            lambda: (h := requests.get(f"{base}/api/v1/health", timeout=5).json())["committed_samples"] >= 60
            and h["committed_samples"], 30, "60 committed samples", proc, log)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    store = Store(db)
    try:
        kept = store.reader().execute("SELECT count(*) FROM samples").fetchall()[0][0]
    finally:
        store.close()
    assert kept >= committed

    # A restart reopens the same file and goes on: old values are there at once, new ones follow.
    proc = start_collect(cfg, log)
    try:
        tiles = wait_for(lambda: board_tiles(base), 20, "the restarted API", proc, log)
        assert tiles["server_cpu"]["value"] is not None
        wait_for(lambda: requests.get(f"{base}/api/v1/health", timeout=5).json()["committed_samples"] > 10,
                 20, "new commits after restart", proc, log)
    finally:
        assert stop(proc) == 0
    store = Store(db)
    try:
        assert store.reader().execute("SELECT count(*) FROM samples").fetchall()[0][0] > kept
    finally:
        store.close()


def test_failing_targets_leave_reasons_and_never_delay_the_others(tmp_path):
    web = LocalWeb()
    web.route("/ok", answer(200, '{"v": 42}', "application/json"))
    web.route("/slow", late(2.5, 200, '{"v": 1}'))
    web.route("/500", answer(503, "overloaded"))
    web.route("/notjson", answer(200, "<html>", "application/json"))
    web.route("/missing", answer(200, '{"w": 1}', "application/json"))
    web.route("/text", answer(200, '{"v": "abc"}', "application/json"))
    web.route("/huge", huge(10_000_000))
    closed = free_port()
    faulty = {"slow": "/slow", "http5xx": "/500", "notjson": "/notjson", "missing": "/missing", "text": "/text",
              "huge": "/huge"}
    collectors = [{"type": "json", "name": "healthy", "interval": "250ms", "timeout": "1s",
                   "url": web.url("/ok"), "fields": {"healthy_v": "v"}},
                  {"type": "json", "name": "refused", "interval": "250ms", "timeout": "1s",
                   "url": f"http://127.0.0.1:{closed}/x", "fields": {"refused_v": "v"}}]
    collectors += [{"type": "json", "name": name, "interval": "250ms", "timeout": "500ms",
                    "url": web.url(path), "fields": {f"{name}_v": "v"}} for name, path in faulty.items()]
    metrics = {c["name"] + "_v": {"title": c["name"], "yellow": 100, "stale_after": "2s"} for c in collectors}
    raw = {"campaign": {"name": "faults", "end": "+1h"},
           "people": {"tech_lead": {"name": "T"}, "ops_lead": {"name": "O"}, "general_manager": {"name": "G"}},
           "collectors": collectors, "metrics": metrics,
           "server": {"port": 0, "database": str(tmp_path / "f.duckdb"), "tick": "100ms"}}
    daemon = Daemon(parse_config(raw, env={}))
    daemon.start()
    base = f"http://127.0.0.1:{daemon.api.port}"
    expected = {"refused": "connection refused", "http5xx": "503", "notjson": "not JSON",
                "missing": "missing", "text": "not a number", "huge": "capped", "slow": "timed out"}

    def runs_of(collector: str) -> list[tuple[datetime, datetime, bool]]:
        """(began, ended, ok) of each finished poll, oldest first."""
        got = requests.get(f"{base}/api/v1/runs", params={"collector": collector, "limit": 100}, timeout=5).json()
        # a run is stamped when it ended (when its value became known); its poll began `duration_s` earlier
        return sorted((datetime.fromisoformat(r["ts"]) - timedelta(seconds=r["duration_s"]),
                       datetime.fromisoformat(r["ts"]), r["ok"]) for r in got["runs"])

    def settled() -> tuple[dict[str, dict], list, list] | None:
        tiles = board_tiles(base)
        shown = all(tiles[f"{name}_v"]["stale"] and words.lower() in (tiles[f"{name}_v"]["error"] or "").lower()
                    for name, words in expected.items())
        healthy = [r for r in runs_of("healthy") if r[2]]
        slow = [r for r in runs_of("slow") if not r[2]]
        return (tiles, healthy, slow) if shown and len(healthy) >= 10 and len(slow) >= 3 else None

    try:
        tiles, healthy, slow = wait_for(settled, 60, "every fault on its tile, 10 healthy polls, 3 timed-out ones")
        assert tiles["healthy_v"]["value"] == 42 and tiles["healthy_v"]["level"] == "green"
        for name, words in expected.items():
            tile = tiles[f"{name}_v"]
            assert tile["stale"] and tile["level"] == "stale", (name, tile)
            assert words.lower() in (tile["error"] or "").lower(), (name, tile["error"])
        # Nobody waits for a hanging target: while a poll of /slow was still waiting for its answer, the healthy
        # collector began a poll and finished it, and its first poll ended before the first slow one did.
        inside = [(h, s) for h in healthy for s in slow if s[0] < h[0] and h[1] < s[1]]
        assert inside, f"no healthy poll ran while a slow one hung: healthy {healthy[:5]}, slow {slow[:3]}"
        assert healthy[0][1] < slow[0][1], (healthy[0], slow[0])
    finally:
        daemon.stop()
        web.stop()
