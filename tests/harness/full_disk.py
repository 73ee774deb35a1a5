"""A small filesystem of its own (tmpfs) that a test or bench can fill to the last byte and free again.

Mounting needs root (CI runs as root). Where it cannot mount, `small_filesystem` raises
`NoSmallFilesystem`; tests turn that into a skip, or a failure under WARROOM_REQUIRE_REAL_PARTS=1.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHUNK = 64 * 1024


class NoSmallFilesystem(Exception):
    """A tmpfs could not be mounted here (not root, or no mount command)."""


@contextmanager
def small_filesystem(where: Path, size_mb: int = 32) -> Iterator[Path]:
    """A tmpfs of `size_mb` mounted at `where` (made if missing), unmounted afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(where)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise NoSmallFilesystem(f"cannot run mount: {err}") from None
    if done.returncode != 0:
        raise NoSmallFilesystem(f"cannot mount a {size_mb} MB tmpfs at {where} (root is needed): "
                                f"{(done.stderr or done.stdout).strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30, check=False)


def fill(folder: Path, name: str = "filler") -> Path:
    """Write a file in `folder` until the filesystem has no byte left; returns it (delete it to free the space)."""
    path = folder / name
    chunk = b"\0" * CHUNK
    with path.open("ab", buffering=0) as f:
        size = len(chunk)
        while size:
            try:
                f.write(chunk[:size])
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise
                size //= 2  # the last pages: smaller and smaller writes until not one byte fits
    return path


def free_bytes(folder: Path) -> int:
    """Bytes still available to an unprivileged writer in `folder`'s filesystem."""
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize
