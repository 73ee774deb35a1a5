"""Schemathesis over the OpenAPI schema of a live daemon, with and without the board token:
no 5xx, and every answer (status, content type, body) as the schema documents it."""

from __future__ import annotations

import itertools
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.harness.rig import ACK_SECRET, TOKEN, push, pushed_config, running_daemon

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("WARROOM_FUZZ_EXAMPLES", "10"))


@pytest.fixture(scope="module")
def fuzzed_daemon(tmp_path_factory):
    """A daemon with one open alert, so ack, decision and silence routes have something to act on."""
    saved = {k: os.environ.get(k) for k in ("WARROOM_TOKEN", "WARROOM_ACK_SECRET")}
    os.environ.update(WARROOM_TOKEN=TOKEN, WARROOM_ACK_SECRET=ACK_SECRET)
    raw = pushed_config(tmp_path_factory.mktemp("fuzz") / "f.duckdb", {})
    raw["campaign"]["run_sheet"] = [{"at": "+10m", "action": "close the entry", "owner": "ops_lead"}]
    try:
        with running_daemon(raw) as (_, base):
            assert push(base, [{"metric": "failures", "value": 60}]).status_code == 202
            yield base
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def fuzz(base: str, headers: dict[str, str]) -> list[str]:
    """Every operation with EXAMPLES generated requests; the failures, one line each."""
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    calls = [0]
    for result, mode in itertools.product(list(schema.get_all_operations()), GenerationMode):
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  phases=[Phase.explicit, Phase.generate], derandomize=True)
        def run(case: schemathesis.Case) -> None:
            calls[0] += 1
            case.call_and_validate(checks=CHECKS, headers=headers, timeout=10)

        try:
            run()
        except Unsatisfiable:
            continue  # no parameters and no body: nothing negative to send
        except Exception as err:  # noqa: BLE001 - collect every operation's failure, not just the first
            failures.append(f"{operation.label} ({mode}): {str(err).strip()[:1500]}")
    print(f"fuzzed {calls[0]} requests with headers {sorted(headers)}")
    return failures


def test_without_the_token(fuzzed_daemon):
    failures = fuzz(fuzzed_daemon, {})
    assert not failures, "\n\n".join(failures)


def test_with_the_token(fuzzed_daemon):
    failures = fuzz(fuzzed_daemon, {"Authorization": f"Bearer {TOKEN}"})
    assert not failures, "\n\n".join(failures)
