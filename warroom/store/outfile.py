"""Where the record's files go: the target checked before any work, written under a temporary name, renamed whole.

A report or an export that is killed half-way must never leave a file that looks finished (a cut CSV
that `import` accepted is how a night lost 5.8 M samples), and an unusable target (an existing file
where a folder is wanted, a missing parent, a read-only filesystem) must be one clear line before
minutes of work, not a traceback after them. So the temporary name is made first, in the target's own
folder (the rename stays on one filesystem, so it is atomic), and it is what proves the place writable.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from pathlib import Path

# Left behind only by a killed writer: the name says so, and `import` refuses anything inside one.
PARTIAL = ".partial-"


class OutputRefused(Exception):
    """The target cannot be written; the message names it and why."""


def _why(err: OSError) -> str:
    if err.errno == errno.EROFS:
        return "the filesystem is read-only"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.ENOSPC:
        return "no space left on the device"
    if err.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    return err.strerror or type(err).__name__


def _parent(out: Path) -> Path:
    """The folder `out` goes into, created when missing; OutputRefused when it cannot be."""
    parent = out.parent if str(out.parent) else Path(".")
    for part in (parent, *parent.parents):
        if part.exists() and not part.is_dir():
            raise OutputRefused(f"{out}: {part} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputRefused(f"{out}: cannot create the folder {parent}: {_why(err)}") from None
    return parent


def begin_file(out: Path) -> Path:
    """A temporary file beside `out` (which may exist and is replaced at the end); OutputRefused when unusable."""
    if out.is_dir():
        raise OutputRefused(f"{out}: is a folder; give a file name, e.g. {out / 'report.html'}")
    parent = _parent(out)
    # Not mkstemp: its 0600 would stay on the finished report; the umask decides, as for any file written.
    temporary = parent / f".{out.name}{PARTIAL}{secrets.token_hex(4)}"
    try:
        os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as err:
        raise OutputRefused(f"{out}: cannot write in {parent}: {_why(err)}") from None
    return temporary


def begin_folder(out: Path) -> Path:
    """A temporary folder beside `out`, which must not exist yet (or be empty); OutputRefused when unusable."""
    if out.exists() and not out.is_dir():
        raise OutputRefused(f"{out}: is a file; an export is written into a new folder")
    if out.is_dir() and any(out.iterdir()):
        raise OutputRefused(f"{out}: the folder is not empty; export into a new folder")
    parent = _parent(out)
    temporary = parent / f"{out.name}{PARTIAL}{secrets.token_hex(4)}"
    try:
        temporary.mkdir()  # not mkdtemp: its 0700 would stay on the finished export
        return temporary
    except OSError as err:
        raise OutputRefused(f"{out}: cannot write in {parent}: {_why(err)}") from None


def finish(temporary: Path, out: Path) -> Path:
    """Flush the temporary file or folder to disk and give it its name in one step."""
    for path in ([temporary] if temporary.is_file() else [*temporary.iterdir(), temporary]):
        _fsync(path)
    if temporary.is_dir() and out.is_dir():
        out.rmdir()  # an empty folder given as the target (checked by begin_folder)
    os.replace(temporary, out)
    _fsync(out.parent if str(out.parent) else Path("."))
    return out


def abandon(temporary: Path) -> None:
    """Remove a temporary file or folder after a failure (a kill leaves it, named as unfinished)."""
    if temporary.is_dir():
        shutil.rmtree(temporary, ignore_errors=True)
    else:
        temporary.unlink(missing_ok=True)


def unfinished(path: Path) -> bool:
    """True for a path written by a writer that never finished (inside a temporary name of this module)."""
    return any(PARTIAL in part for part in path.resolve().parts)


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a folder; the rename is still atomic
    finally:
        os.close(fd)
