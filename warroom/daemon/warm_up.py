"""What the daemon loads just after it answers: what the first batch and the first page need, but /health does not.

Importing the daemon used to cost 1.3-1.8 s under load, most of it libraries that serving /health and
deciding a page never touch: pyarrow and numpy (the writer's Arrow batches), psycopg (PostgreSQL
collectors), Apprise's hundred plug-ins (loaded on the first delivery). They are imported where they are
used, and this thread loads them right after the API is up, so the first batch and the first page do not
pay for them either (tests/warroom/test_cold_start.py keeps them out of `import warroom.daemon.daemon`).
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("warroom.daemon")


def warm_up() -> threading.Thread:
    """Load the heavy parts in a background thread (never in front of /health or a page); returns the thread."""
    thread = threading.Thread(target=_load, name="warm-up", daemon=True)
    thread.start()
    return thread


def _load() -> None:
    started = time.monotonic()
    try:
        import pyarrow  # noqa: F401 - the writer's first batch

        from alerts.notifiers.apprise_channel import warm as warm_apprise

        warm_apprise()
    except Exception:  # noqa: BLE001 - a failed warm-up only means the first use loads it
        log.exception("warm-up failed; the first batch or page loads what it needs itself")
        return
    log.debug("warm-up done in %.2f s", time.monotonic() - started)
