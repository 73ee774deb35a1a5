"""Pure: the page a step's owner gets when warroom did a run-sheet step (or could not), in the campaign's language.

Read on a phone at 00:30: what was done, where the report and the copy are, the one link to press. The
step's text comes from the config; paths are warroom's own; nothing else from outside goes in.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from alerts.notifiers.page import Page
from warroom.config.models import RunSheetStep, WarroomConfig

_WORDS = {
    "zh-CN": {"done": "执行清单 · 已由 warroom 完成", "failed": "执行清单 · warroom 未能完成",
              "report": "报告", "copy": "数据库副本 (一致快照)", "open": "打开报告", "replay": "回放",
              "owner": "负责人", "why": "原因", "retry": "warroom 将于 {t} 再试一次",
              "by_hand": "warroom 不再重试。请在停止守护进程后手动生成: warroom report --db {db}",
              "board": "看板", "demo": ", 演示之夜的时间"},
    "en": {"done": "RUN SHEET · DONE BY WARROOM", "failed": "RUN SHEET · WARROOM COULD NOT DO IT",
           "report": "Report", "copy": "Database copy (one consistent snapshot)", "open": "Open the report",
           "replay": "Replay", "owner": "Owner", "why": "Why", "retry": "warroom tries again at {t}",
           "by_hand": "warroom will not try again. Once the daemon is stopped, by hand: warroom report --db {db}",
           "board": "Board", "demo": ", the demo night's time"},
}


def _size(path: Path) -> str:
    try:
        return f"{path.stat().st_size / 1e6:.1f} MB"
    except OSError:
        return "?"


def _line(text: str) -> str:
    """One line of config text (a run-sheet action) as a page may carry it."""
    return " ".join(text.split())[:300]


def step_page(cfg: WarroomConfig, step: RunSheetStep, files: tuple[Path | None, Path | None], error: str | None,
              link: str | None, holder: str, now: datetime, retry: datetime | None, database: Path) -> Page:
    """What the step's owner reads: done (where the files are, the link) or not done (why, when warroom tries
    again or what to do by hand)."""
    w = _WORDS.get(cfg.campaign.locale, _WORDS["en"])
    zone = cfg.campaign.timezone
    at = now.astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")
    copy, report = files
    tail = f"{at} ({zone}{w['demo'] if cfg.demo is not None else ''})"
    title = f"[{w['failed' if error else 'done']}] {_line(step.action)}"
    lines = [title]
    if error is None:
        if report is not None:
            lines.append(f"{w['report']}: {report} ({_size(report)})")
        if copy is not None:
            lines.append(f"{w['copy']}: {copy} ({_size(copy)})")
        if link:
            lines.append(f"{w['open']}: {link}")
        if copy is not None:
            lines.append(f"{w['replay']}: warroom replay --db {copy}")
    else:
        lines.append(f"{w['why']}: {_line(error)}")
        lines.append(w["retry"].format(t=retry.astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")) if retry
                     else w["by_hand"].format(db=database))
    lines.append(f"{w['owner']}: {holder}")
    if cfg.alerts.board_url:
        lines.append(f"{w['board']}: {cfg.alerts.board_url.replace('{role}', step.owner)}")
    lines.append(tail)
    return Page(alert_id=0, metric="", kind="runsheet", level="red" if error else "green", title=title,
                body="\n".join(lines[1:]), started_at=now)
