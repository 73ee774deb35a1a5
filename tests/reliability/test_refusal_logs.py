"""Refused requests are counted and logged at a bounded rate; a 413 is logged and counted too (issue 18 item 10).

Each refused push wrote ~140 bytes of log with no limit (2.8 MB per 20,000 requests, on the disk the
record lives on), and a body over the cap was refused (413) without a line or a count.
"""

from __future__ import annotations

import logging

import requests

from tests.harness.rig import TOKEN, pushed_config, running_daemon
from warroom.api.gate import LOG_LINES, MAX_BODY

REFUSED = 400


def _lines(caplog, word: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "warroom.api" and word in r.getMessage()]


def test_refused_pushes_are_all_counted_and_logged_at_a_bounded_rate(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    caplog.set_level(logging.WARNING, logger="warroom.api")
    with running_daemon(pushed_config(tmp_path / "night.duckdb", {})) as (_, base):
        session = requests.Session()
        for i in range(REFUSED):
            reply = session.post(f"{base}/api/v1/push", json={"samples": [{"metric": "queue", "value": i}]},
                                 headers={"Authorization": "Bearer wrong"}, timeout=5)
            assert reply.status_code == 403
        refusals = session.get(f"{base}/api/v1/health", timeout=5).json()["refusals"]
    lines = _lines(caplog, "refused POST '/api/v1/push'")
    assert refusals["board_token"] == REFUSED
    assert len(lines) == LOG_LINES, len(lines)
    assert refusals["not_logged"] == {"token": REFUSED - LOG_LINES}
    assert sum(len(line) for line in lines) < 2000  # 400 refusals: a few hundred bytes, not 56 KB


def test_a_body_over_the_cap_is_logged_and_counted(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    caplog.set_level(logging.WARNING, logger="warroom.api")
    with running_daemon(pushed_config(tmp_path / "night.duckdb", {})) as (_, base):
        big = b"x" * (MAX_BODY + 1)
        auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        assert requests.post(f"{base}/api/v1/push", data=big, headers=auth, timeout=10).status_code == 413

        def chunked():  # no Content-Length: the gate counts as it reads
            yield big[: MAX_BODY // 2]
            yield big[MAX_BODY // 2:]

        assert requests.post(f"{base}/api/v1/push", data=chunked(), headers=auth, timeout=10).status_code == 413
        refusals = requests.get(f"{base}/api/v1/health", timeout=5).json()["refusals"]
    assert refusals["body_too_large"] == 2
    lines = _lines(caplog, ": 413 ")
    assert len(lines) == 2 and f"body of {MAX_BODY + 1} bytes is over the {MAX_BODY}-byte limit" in lines[0]
