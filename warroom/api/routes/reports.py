"""The reports warroom wrote at a run-sheet step (`do: report`), served so the page's link opens one on a phone.

Only the HTML reports of the folder beside the database (`reports/`), by their plain file name; the
database copies stay on the machine (a link in a chat is no way to hand out a whole night's file).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from warroom.api.context import ApiContext, Context
from warroom.api.params import ApiError
from warroom.record.runsheet_actions import REPORTS

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}-report(-\d+)?\.html$")

router = APIRouter()


def _folder(ctx: ApiContext) -> Path:
    return ctx.reader.store.path.parent / REPORTS


@router.get("/api/v1/reports")
def reports(ctx: Context) -> dict[str, Any]:
    """The reports written at run-sheet steps, newest first."""
    folder = _folder(ctx)
    found = sorted((p for p in folder.glob("*.html") if _NAME.match(p.name)) if folder.is_dir() else [],
                   key=lambda p: p.stat().st_mtime, reverse=True)
    return {"reports": [{"name": p.name, "bytes": p.stat().st_size,
                         "written_at": datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat()} for p in found]}


@router.get("/api/v1/reports/{name}", response_class=FileResponse)
def report(name: str, ctx: Context) -> FileResponse:
    """One report, as the self-contained HTML file it is."""
    path = _folder(ctx) / name
    if not _NAME.match(name) or not path.is_file():
        raise ApiError(404, f"no report named {name[:80]!r}", "name")
    return FileResponse(path, media_type="text/html; charset=utf-8")
