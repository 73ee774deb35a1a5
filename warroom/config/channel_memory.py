"""Channel URLs Apprise accepted before, remembered so that a restart need not load Apprise's plug-ins to check them.

Apprise reads a URL only after importing its hundred plug-ins: 0.2 s on a quiet machine, more under load,
in front of every start of the daemon (`warroom validate` refuses a URL no notifier could use). A URL it
accepted is remembered as a hash (never its text: URLs carry secrets) together with the installed Apprise,
so the same config restarting after a crash checks its channels without the plug-ins; the daemon's warm-up
thread loads them right after /health answers. A refused URL is never remembered, so a broken channel is
found again at every start; another Apprise (upgraded, reinstalled) forgets everything.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

# One line (64 hex digits) per distinct URL; a file past this is started afresh rather than grown without end.
LIMIT_BYTES = 256 * 1024


def memory_file() -> Path:
    """Where accepted URLs are remembered: $XDG_CACHE_HOME/warroom (or ~/.cache/warroom)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "warroom" / "accepted-channels"


def _apprise_stamp() -> str:
    """Which Apprise is installed (its location and when it was written), without importing it."""
    spec = importlib.util.find_spec("apprise")
    origin = spec.origin if spec and spec.origin else ""
    try:
        return f"{origin}:{os.stat(origin).st_mtime_ns}"
    except OSError:
        return origin


def _key(url: str) -> str:
    return hashlib.sha256(f"{_apprise_stamp()}\0{url}".encode()).hexdigest()


def accepted_before(url: str) -> bool:
    """True when this Apprise accepted `url` before."""
    try:
        with memory_file().open(encoding="ascii") as lines:
            return _key(url) in {line.strip() for line in lines}
    except (OSError, UnicodeDecodeError):
        return False


def remember_accepted(url: str) -> None:
    """Remember that Apprise accepted `url` (best effort: an unwritable cache only means checking again)."""
    path = memory_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        full = path.exists() and path.stat().st_size > LIMIT_BYTES
        # One short line per write in append mode: processes checking configs at once never interleave them.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if full else os.O_APPEND), 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(_key(url) + "\n")
    except OSError:
        pass
