"""Make the report of an archive: serve it read-only on a free local port, fetch the answers, write the HTML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from warroom.archive.report.answers import FETCHES, Progress, fetch
from warroom.archive.report.html import report_html
from warroom.config.load import LoadedConfig

SECTIONS = 5


def make_report(db: Path, out: Path, start: str | None = None, end: str | None = None, lang: str | None = None,
                fallback: LoadedConfig | None = None, stderr: TextIO = sys.stderr) -> Path:
    """Write the report of `db` to `out` (nothing is written to `db`); ArchiveError for a bad file."""
    from warroom.archive.replay import archive_app, open_archive
    from warroom.daemon.daemon import ApiServer, bind_socket

    archive = open_archive(db, fallback)
    api = ApiServer(archive_app(archive), bind_socket("127.0.0.1", 0))
    progress = Progress(FETCHES + SECTIONS + len(archive.loaded.config.metrics), stderr)
    try:
        api.start()
        answers = fetch(f"http://127.0.0.1:{api.port}", start, end, progress.step)
    finally:
        api.stop()
        archive.close()
    page = report_html(answers, lang, source=db.name, progress=progress.step)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    progress.finish()
    return out
