"""An archive is read-only by the routers' own rule: every route is walked, none is listed by hand.

A write is any method but GET, HEAD and OPTIONS (spelled out here, not imported, so the test does not
share a mistake with the code): on an archive each one answers 409 "read-only replay", token or not.
A read answers from the record, or 409 when it needs the live night; never a 5xx. Every answer is
one the archive's OpenAPI schema documents.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alerts.engine import AlertEngine
from tests.warroom.record.kit import at, queue_config, recorded_night
from warroom.api.app import create_app
from warroom.api.context import Context
from warroom.api.read_model import BoardReader
from warroom.api.read_only import served
from warroom.archive.replay import archive_app, open_archive
from warroom.store.database import Store
from warroom.store.writer import LatestValues
from warroom.values import CampaignWindow

TOKEN = "read-only-token"
READS = {"GET", "HEAD", "OPTIONS"}


@pytest.fixture
def archive(tmp_path, monkeypatch):
    # a configured token: a write refused for lack of one would be the gate's 403, not the archive's 409
    monkeypatch.setenv("WARROOM_TOKEN", TOKEN)
    recorded_night(tmp_path / "night.duckdb", queue_config()).close()
    opened = open_archive(tmp_path / "night.duckdb")
    yield opened
    opened.close()


def breaches(app: FastAPI) -> list[str]:
    """Every route of `app` that an archive must not serve as it does, one line each; [] when read-only holds."""
    client = TestClient(app, raise_server_exceptions=False)
    documented = client.get("/openapi.json").json()["paths"]
    found = []
    for route in served(app):
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in sorted(route.methods):
            tries = [{}, {"Authorization": f"Bearer {TOKEN}"}] if method not in READS else [{}]
            for headers in tries:
                r = client.request(method, path, json={"by": "ops_lead"} if method not in READS else None,
                                   headers=headers)
                said = r.json().get("error", {}).get("message", "") if r.status_code == 409 else ""
                where = f"{method} {route.path}{' with the token' if headers else ''} answered {r.status_code}"
                if method not in READS and (r.status_code != 409 or "read-only replay" not in said):
                    found.append(f"{where}, not 409 read-only replay: {r.text[:200]}")
                elif r.status_code >= 500 or (r.status_code == 409 and "read-only replay" not in said):
                    found.append(f"{where}: {r.text[:200]}")
                operation = documented.get(route.path, {}).get(method.lower())
                if operation is not None and str(r.status_code) not in operation["responses"]:
                    found.append(f"{where}, which its OpenAPI operation does not document")
    return found


def test_every_write_on_an_archive_answers_409_read_only_and_every_read_serves_the_record(archive):
    app = archive_app(archive)
    assert breaches(app) == []
    routes = served(app)
    writes = {(m, r.path) for r in routes for m in r.methods if m not in READS}
    # the walk sees the action routers (an empty walk would pass above for nothing)
    assert {("POST", "/api/v1/push"), ("POST", "/api/v1/alerts/{alert_id}/ack"), ("POST", "/api/v1/annotations"),
            ("DELETE", "/api/v1/silences/{silence_id}"), ("POST", "/api/v1/runsheet/{index}/undo"),
            ("POST", "/api/v1/duty"), ("DELETE", "/api/v1/duty/{role}")} <= writes
    client = TestClient(app)
    # reads that need the live night say so; the record's reads answer from the archive
    for path in ("/api/v1/alerts/1/ack", "/api/v1/duty"):
        r = client.get(path)
        assert r.status_code == 409 and "read-only replay" in r.json()["error"]["message"], (path, r.text)
    assert client.get("/api/v1/frame", params={"at": at(115).isoformat()}).status_code == 200
    assert client.get("/api/v1/board").status_code == 200


def test_the_archive_serves_the_routes_of_the_live_daemon(archive, tmp_path):
    loaded = queue_config()
    store = Store(tmp_path / "live.duckdb")
    try:
        engine = AlertEngine(loaded, store, lambda: at(0))
        reader = BoardReader(loaded.config, store, CampaignWindow("n", None, at(0) + timedelta(hours=1)),
                             LatestValues(), engine.views)
        live = create_app(reader, engine.clock, engine=engine, deliver=engine.observe)
        routes = {(m, r.path) for r in served(live) for m in r.methods}
    finally:
        store.close()
    assert {(m, r.path) for r in served(archive_app(archive)) for m in r.methods} == routes
    # and the schema lists them all: nothing the walk could miss
    schema = TestClient(archive_app(archive)).get("/openapi.json").json()["paths"]
    assert {(m.upper(), p) for p, ops in schema.items() for m in ops} <= routes


def test_the_walk_sees_a_route_that_escapes_the_rule(archive):
    """The check itself: a planted breach is reported, so the test above cannot pass by accident."""
    app = archive_app(archive)

    @app.post("/api/v1/planted")
    def planted_write() -> dict[str, bool]:
        return {"changed": True}

    @app.get("/api/v1/planted")
    def planted_read(ctx: Context) -> dict[str, str]:
        return {"holder": ctx.live.engine.roster.on_duty(ctx.clock())}  # type: ignore[union-attr]

    # a write added to an archive's app is refused the day it is written; a read of the live night that
    # forgot to depend on it is found
    assert {_head(b) for b in breaches(app)} == {"GET /api/v1/planted answered 500"}
    bare = FastAPI()  # no read-only rule at all: the planted write is found, with the token and without
    bare.post("/api/v1/planted")(planted_write)
    assert {_head(b) for b in breaches(bare)} == {"POST /api/v1/planted answered 200",
                                                  "POST /api/v1/planted with the token answered 200"}


def _head(breach: str) -> str:
    return re.split(r"[,:]", breach, maxsplit=1)[0]
