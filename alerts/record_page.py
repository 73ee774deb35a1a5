"""One page when the night's record stops being written: to whoever answers for missing data, once.

A full disk must not silence the night, and nor may it go unnoticed: the alerts are still decided
and paged from memory, but the record (the replay, the report) has a hole until someone frees
space. The owner of no-data alerts (`alerts.no_data_owner`, the technical lead by default) gets one
page per incomplete period, in the campaign's language, saying since when, where, and what to do.
Not again for every failed write, and not again when it is over: whoever frees the space sees the
wall's line go away, and a second page at 23:40 would only be noise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.dispatch import Dispatch
from alerts.notifiers.page import Page
from alerts.pager import PageJob
from warroom.config.channels import shown
from warroom.store.backlog import RecordHealth

log = logging.getLogger("warroom.alerts")

KIND = "record"
_WORDS = {
    "zh-CN": {"title_full": "[磁盘已满] 监控记录自 {time} 起不完整",
              "title": "[记录写入失败] 监控记录自 {time} 起不完整",
              "where": "无法写入: {path} (磁盘 {mount})", "why": "原因: {error}", "full": "磁盘空间已满",
              "still": "告警判断和通知照常进行 (在内存中); 未写入的记录已按顺序保留, 空间恢复后自动补写。",
              "do": "请立即清理磁盘空间 (或扩容), 否则复盘和报告会缺少这段记录。", "to_you": "发给: {name}",
              "board": "看板: {url}", "link": "状态: {url}", "footer": "{time} ({zone})"},
    "en": {"title_full": "[DISK FULL] record incomplete since {time}",
           "title": "[RECORD NOT WRITTEN] record incomplete since {time}",
           "where": "Cannot write: {path} (disk {mount})", "why": "Why: {error}", "full": "no space left on the disk",
           "still": "Alerts are still decided and paged (from memory); what could not be written is held in order "
                    "and written when space returns.",
           "do": "Free disk space now (or grow the disk): until then the replay and the report miss this stretch.",
           "to_you": "To: {name}", "board": "Board: {url}", "link": "Status: {url}", "footer": "{time} ({zone})"},
}


class RecordAlarm:
    """Listens to the record's health; pages the no-data owner once when it becomes incomplete."""

    def __init__(self, dispatch: Dispatch, submit: Callable[[PageJob], None], clock: Callable[[], datetime]):
        self.dispatch = dispatch
        self.submit = submit
        self.clock = clock
        self.pages = 0

    def changed(self, health: RecordHealth) -> None:
        """A RecordHealth listener: page at the start of an incomplete period, nothing at its end."""
        if health.since is None:
            return
        cfg = self.dispatch.cfg
        role = cfg.alerts.no_data_owner
        now = self.clock()
        holder = self.dispatch.roster.holder(role, now)
        urls = self.dispatch.channels(role, KIND, now)
        page = self.page(health, holder.name if holder else role, now)
        step = f"record:{health.since.timestamp():.3f}:{role}"
        for url in urls:
            # it asks for something (free the space): it never waits behind a page that only tells
            self.submit(PageJob(step, role, url, page, person=holder.name if holder else None, asking=True))
        self.pages += 1
        if urls:
            log.warning("%s: paged %s (%s) via %s", health.headline(), role, holder.name if holder else "-",
                        ", ".join(shown(u) for u in urls))
        else:
            log.error("%s: nobody to page (%s has no channel)", health.headline(), role)

    def page(self, health: RecordHealth, name: str, now: datetime) -> Page:
        """The page's words, in the campaign's language and timezone."""
        cfg = self.dispatch.cfg
        words = _WORDS.get(cfg.campaign.locale, _WORDS["en"])
        zone = ZoneInfo(cfg.campaign.timezone)
        since = (health.since or now).astimezone(zone).strftime("%H:%M:%S")
        title = words["title_full" if health.disk_full else "title"].format(time=since)
        board = self.dispatch.board_url
        link = words["board"].format(url=board.replace("{role}", cfg.alerts.no_data_owner)) if board \
            else words["link"].format(url=f"{self.dispatch.public_url}/api/v1/health")
        why = words["full"] if health.disk_full else (health.error or "?")
        lines = [words["where"].format(path=health.path, mount=health.mount), words["why"].format(error=why),
                 words["still"], words["do"], words["to_you"].format(name=name), link,
                 words["footer"].format(time=now.astimezone(zone).strftime("%H:%M:%S"), zone=cfg.campaign.timezone)]
        labels = {"owner_role": cfg.alerts.no_data_owner, "kind": KIND, "severity": "yellow"}
        return Page(0, KIND, KIND, "yellow", title, "\n".join(lines), health.since or now, labels=labels)
