"""The one bounded wait the tests use: poll a condition until it holds, fail naming what never happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(check: Callable[[], Any], what: str, limit_s: float = 20.0,
          tolerate: tuple[type[BaseException], ...] = ()) -> Any:
    """`check()`'s first truthy answer; AssertionError naming `what` after `limit_s` (a bound on a hang only).

    Exceptions of the `tolerate` types count as "not yet" (a node still starting, a proxy between checks);
    the last one is named in the failure.
    """
    deadline = time.monotonic() + limit_s
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if (found := check()):
                return found
        except tolerate as err:
            last = err
        time.sleep(0.05)
    raise AssertionError(f"never happened within {limit_s:g}s: {what}" + (f" (last: {last!r})" if last else ""))
