"""How tests treat a missing real part (PostgreSQL, Prometheus, Chromium): skip locally, fail in CI.

CI sets WARROOM_REQUIRE_REAL_PARTS=1 after installing the parts, so a broken install can never
turn into a quietly green run of skipped tests.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

REQUIRE_ENV = "WARROOM_REQUIRE_REAL_PARTS"


def real_parts_required() -> bool:
    """True when a missing real part must fail the test run (CI)."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}


def missing_part(reason: str) -> None:
    """Skip the test, or fail it when real parts are required; never returns."""
    if real_parts_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV} is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def find_binary(*names: str) -> str:
    """The first of `names` on PATH, or a skip/fail naming all of them."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    missing_part(f"none of {', '.join(names)} is installed")
    raise AssertionError("unreachable")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
