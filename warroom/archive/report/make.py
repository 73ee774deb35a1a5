"""Make the report of an archive: serve it read-only on a free local port, fetch the answers, write the HTML."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from warroom.api.params import MAX_WINDOW, ApiError, parse_moment
from warroom.archive.report.answers import FETCHES, Progress, fetch
from warroom.archive.report.html import report_html
from warroom.config.load import LoadedConfig
from warroom.store.outfile import abandon, begin_file, finish
from warroom.store.queries import sample_bounds

SECTIONS = 7  # outcome, alerts, reached, health, run sheet, collectors, decisions
_OPTION = {"from": "--from", "to": "--to"}


class ReportRefused(Exception):
    """The report cannot be made as asked (its window); the message names the option and why."""


def report_window(archive, start: str | None, end: str | None) -> tuple[datetime, datetime]:  # noqa: ANN001
    """--from / --to against the archive (ISO-8601, naive = the campaign's timezone, `now`, `-2h`; `now` is its
    last recorded moment); by default from the first sample (else the campaign's start) to the last sample."""
    zone = archive.loaded.config.campaign.timezone
    first, last = sample_bounds(archive.store.reader())
    campaign = archive.campaign
    moments = {}
    for field, text in (("from", start), ("to", end)):
        if text is None:
            continue
        try:
            moments[field] = parse_moment(text, field, zone, archive.now)
        except ApiError as err:
            raise ReportRefused(f"{_OPTION[field]}{err.message.removeprefix(field)}") from None
    lo = moments.get("from") or first or (campaign.start or campaign.anchor if campaign else None)
    hi = moments.get("to") or last or (campaign.end if campaign else None)
    if lo is None or hi is None:
        raise ReportRefused(f"{archive.path}: holds no samples and no campaign; nothing to report")
    if "to" not in moments and hi <= lo:
        hi = lo + timedelta(seconds=1)  # a single recorded moment is still a night to report
    if hi <= lo:
        raise ReportRefused(f"--to ({hi.isoformat()}) must be after --from ({lo.isoformat()})")
    if hi - lo > MAX_WINDOW:
        raise ReportRefused(f"--from/--to: a window of {hi - lo} is longer than the {MAX_WINDOW.days}-day limit")
    return lo, hi


def make_report(db: Path, out: Path, start: str | None = None, end: str | None = None, lang: str | None = None,
                fallback: LoadedConfig | None = None, stderr: TextIO = sys.stderr) -> Path:
    """Write the report of `db` to `out` (nothing is written to `db`).

    ArchiveError for a bad file, OutputRefused for an unusable `out`, ReportRefused for a bad window:
    each before the work; `out` appears only when the report is whole.
    """
    from warroom.archive.replay import archive_app, open_archive
    from warroom.daemon.daemon import ApiServer, bind_socket

    temporary = begin_file(out)
    try:
        archive = open_archive(db, fallback)
        try:
            lo, hi = report_window(archive, start, end)
            progress = Progress(FETCHES + SECTIONS + len(archive.loaded.config.metrics), stderr)
            api = ApiServer(archive_app(archive), bind_socket("127.0.0.1", 0))
            try:
                api.start()
                answers = fetch(f"http://127.0.0.1:{api.port}", lo.isoformat(), hi.isoformat(), progress.step)
            finally:
                api.stop()
        finally:
            archive.close()
        page = report_html(answers, lang, source=db.name, progress=progress.step)
        temporary.write_text(page, encoding="utf-8")
        finish(temporary, out)
    except BaseException:
        abandon(temporary)
        raise
    progress.finish()
    return out
