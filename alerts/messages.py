"""The words of a page: metric, value against threshold, level, owner, the decision asked, runbook, ack link."""

from __future__ import annotations

from alerts.levels import Level
from alerts.log import Alert
from warroom.config import WarroomConfig

_WORDS = {
    "zh-CN": {Level.YELLOW: "黄色预警", Level.ORANGE: "橙色预警", Level.RED: "红色预警", Level.GREEN: "恢复正常"},
    "en": {Level.YELLOW: "YELLOW warning", Level.ORANGE: "ORANGE warning", Level.RED: "RED warning",
           Level.GREEN: "back to normal"},
}
_DECISION = {
    "zh-CN": {Level.YELLOW: "请技术负责人决策: 扩容 / 限流 / 降级?",
              Level.ORANGE: "请运营负责人决策: 切换备用服务器 / 页面降级 / 延长时限?",
              Level.RED: "请总经理决策: 业务层面的应急方案, 立即拍板"},
    "en": {Level.YELLOW: "Technical lead decides: scale out, throttle or degrade?",
           Level.ORANGE: "Operations lead decides: switch to backup servers, degrade the page, extend the deadline?",
           Level.RED: "General manager decides: the business call, now."},
}
_KIND = {
    "zh-CN": {"opened": "", "raised": "升级", "escalated": "无人确认, 已上报", "repeat": "仍未确认",
              "moved_up": "已升级给上级", "resolved": "已恢复", "no_data": "无数据"},
    "en": {"opened": "", "raised": "raised", "escalated": "not acknowledged, escalated",
           "repeat": "still unacknowledged",
           "moved_up": "moved up to the next owner", "resolved": "resolved", "no_data": "no data"},
}


def level_words(level: Level, locale: str) -> str:
    """`黄色预警` / `YELLOW warning`."""
    return _WORDS.get(locale, _WORDS["en"])[level]


def compose(cfg: WarroomConfig, alert: Alert, kind: str, role: str | None, ack_url: str | None) -> tuple[str, str]:
    """Title and body for one page to `role`."""
    locale = cfg.campaign.locale
    spec = cfg.metrics.get(alert.metric)
    title_of = spec.title if spec else alert.metric
    unit = spec.unit if spec else ""
    decimals = spec.decimals if spec else 1
    words = level_words(alert.level, locale) if kind != "resolved" else level_words(Level.GREEN, locale)
    what = _KIND.get(locale, _KIND["en"]).get(kind, kind)
    if alert.kind == "no_data":
        words = f"{level_words(alert.level, locale)} · {_KIND[locale if locale in _KIND else 'en']['no_data']}"
    value = "—" if alert.value is None else f"{alert.value:.{decimals}f}{unit}"
    cmp = ""
    if alert.threshold is not None and spec is not None:
        cmp = f" ({'≥' if spec.direction == 'above' else '≤'} {alert.threshold:g}{unit})"
    title = f"[{words}{' · ' + what if what else ''}] {title_of} {value}{cmp}"
    owner = cfg.people.get(alert.owner_role or "")
    person = cfg.people.get(role or "")
    zh = locale == "zh-CN"
    lines = [
        f"{'指标' if zh else 'Metric'}: {title_of} ({alert.metric})",
        f"{'当前值' if zh else 'Value'}: {value}{cmp}",
        f"{'级别' if zh else 'Level'}: {words}",
        f"{'决策人' if zh else 'Owner'}: {owner.name if owner else alert.owner_role} "
        f"{owner.phone if owner else ''}".rstrip(),
    ]
    if alert.escalated_to:
        esc = cfg.people.get(alert.escalated_to)
        lines.append(f"{'已上报' if zh else 'Escalated to'}: {esc.name if esc else alert.escalated_to}")
    if kind != "resolved":
        decision = cfg.levels.at(alert.level).decision if alert.level != Level.GREEN else None
        lines.append(decision or _DECISION.get(locale, _DECISION["en"]).get(alert.level, ""))
    if spec and spec.runbook:
        lines.append(f"{'预案' if zh else 'Runbook'}: {spec.runbook}")
    if ack_url and kind not in ("resolved", "moved_up"):
        lines.append(f"{'确认 (我来处理)' if zh else 'Acknowledge (I am on it)'}: {ack_url}")
    if person and role != alert.owner_role:
        lines.append(f"{'发给' if zh else 'To'}: {person.name}")
    lines.append(f"alert #{alert.id}")
    return title, "\n".join(lines)
