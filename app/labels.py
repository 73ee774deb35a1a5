"""Every word the board shows, in zh-CN and en; the campaign's `locale` picks one.

The seed's team is Chinese-speaking, so zh-CN is complete; a missing key falls back to English
rather than failing on the wall in the middle of the night.
"""

from __future__ import annotations

LOCALES = ("zh-CN", "en")

_EN: dict[str, str] = {
    "level.green": "OK",
    "level.yellow": "YELLOW",
    "level.orange": "ORANGE",
    "level.red": "RED",
    "level.stale": "NO DATA",
    "level.yellow.long": "Yellow warning",
    "level.orange.long": "Orange warning",
    "level.red.long": "Red alert",
    "decides": "Decides",
    "age.ago": "{age} ago",
    "age.stale": "no data for {age}",
    "age.never": "no data yet",
    "kpi.projected": "projected {value} at {pace}/min",
    "kpi.projected_flat": "projected {value}",
    "kpi.short": "{value} short of target",
    "countdown.to_end": "to the end",
    "countdown.after_end": "since the end",
    "banner.down": "Daemon unreachable since {since} ({age}) — the numbers below are NOT live",
    "banner.down_never": "Daemon unreachable at {api} since {since} ({age}) — no data yet",
    "banner.reason": "reason: {reason}",
    "alerts.title": "Active alerts",
    "alerts.none": "No active alerts",
    "alerts.unavailable": "Alerts unavailable (the daemon has no alerts API yet)",
    "alerts.more": "+{n} more",
    "alerts.unknown": "Alerts unknown: the daemon is unreachable",
    "alert.open": "OPEN — not acknowledged",
    "alert.acked": "acked by {who}",
    "alert.escalated": "escalated to {who}",
    "alert.resolved": "resolved",
    "alert.delivery_failed": "PAGE NOT DELIVERED",
    "alert.silenced": "silenced",
    "alert.no_data": "no data",
    "runsheet.title": "Run sheet",
    "demo.mark": "demo night",
    "runsheet.none": "No run sheet steps",
    "runsheet.unavailable": "Run sheet unavailable (the daemon has no run sheet API yet)",
    "runsheet.done": "done",
    "runsheet.done_by": "done by {who} at {at}",
    "runsheet.mark_done": "Mark done",
    "runsheet.due_in": "in {t}",
    "runsheet.overdue": "due {t} ago",
    "token.missing": "Read-only: set WARROOM_TOKEN in the board's environment to acknowledge, silence, "
                     "mark steps done and write decisions.",
    "token.rejected": "The daemon refused the board's token: {message}",
    "write.failed": "The daemon refused: {message}",
    "write.unreachable": "The daemon is unreachable: {message}",
    "write.missing": "The daemon has no such API yet ({path})",
    "page.wall": "Wall",
    "page.detail": "Metric detail",
    "page.alerts": "Alerts and decisions",
    "detail.metric": "Metric",
    "detail.window": "Time window",
    "detail.campaign": "whole campaign",
    "detail.no_data": "No samples in this window.",
    "detail.value": "value",
    "detail.decisions": "Decisions and notes in this window",
    "detail.description": "What it is",
    "detail.runbook": "Runbook",
    "alerts.open_title": "Open alerts",
    "alerts.recent_title": "Recent alerts (last {window})",
    "alerts.trail": "Event trail",
    "alerts.ack": "Acknowledge",
    "alerts.ack_by": "Acknowledged by (role)",
    "alerts.note": "Note",
    "alerts.silence_title": "Silence",
    "alerts.silence_metric": "Metric (empty = all)",
    "alerts.silence_duration": "Duration",
    "alerts.silence_reason": "Reason",
    "alerts.silence_submit": "Silence",
    "alerts.silences_active": "Active silences",
    "alerts.unsilence": "Lift",
    "alerts.decision_title": "Write a decision",
    "alerts.decision_author": "Who (name)",
    "alerts.decision_role": "Role",
    "alerts.decision_level": "At level",
    "alerts.decision_alert": "About alert",
    "alerts.decision_kind": "Kind",
    "alerts.decision_text": "What was decided",
    "alerts.decision_submit": "Record decision",
    "alerts.decision_log": "Decision log",
    "alerts.none_open": "No open alerts.",
    "alerts.saved": "Recorded.",
    "alerts.author": "Author",
    "role.tech_lead": "Tech lead",
    "role.ops_lead": "Ops lead",
    "role.general_manager": "General manager",
    "role.dba": "DBA",
    "unit.h": "h",
    "unit.m": "m",
    "unit.s": "s",
}

_ZH: dict[str, str] = {
    "level.green": "正常",
    "level.yellow": "黄色预警",
    "level.orange": "橙色预警",
    "level.red": "红色预警",
    "level.stale": "无数据",
    "level.yellow.long": "黄色预警",
    "level.orange.long": "橙色预警",
    "level.red.long": "红色预警",
    "decides": "决策人",
    "age.ago": "{age}前",
    "age.stale": "已 {age} 无数据",
    "age.never": "尚无数据",
    "kpi.projected": "按 {pace}/分钟 预计 {value}",
    "kpi.projected_flat": "预计 {value}",
    "kpi.short": "距目标差 {value}",
    "countdown.to_end": "距结束",
    "countdown.after_end": "已结束",
    "banner.down": "无法连接监控守护进程 (daemon), 自 {since} 起 ({age}) — 以下数值不是实时数据",
    "banner.down_never": "无法连接监控守护进程 {api}, 自 {since} 起 ({age}) — 尚无数据",
    "banner.reason": "原因: {reason}",
    "alerts.title": "当前告警",
    "alerts.none": "当前无告警",
    "alerts.unavailable": "告警不可用 (守护进程尚无告警接口)",
    "alerts.more": "另有 {n} 条",
    "alerts.unknown": "告警状态未知: 无法连接守护进程",
    "alert.open": "未确认",
    "alert.acked": "已由 {who} 确认",
    "alert.escalated": "已升级至 {who}",
    "alert.resolved": "已恢复",
    "alert.delivery_failed": "通知发送失败",
    "alert.silenced": "已静默",
    "alert.no_data": "无数据",
    "runsheet.title": "收官流程",
    "demo.mark": "演示",
    "runsheet.none": "无流程步骤",
    "runsheet.unavailable": "流程不可用 (守护进程尚无流程接口)",
    "runsheet.done": "已完成",
    "runsheet.done_by": "{who} 于 {at} 完成",
    "runsheet.mark_done": "标记完成",
    "runsheet.due_in": "{t} 后",
    "runsheet.overdue": "已超时 {t}",
    "token.missing": "只读模式: 在看板进程的环境中设置 WARROOM_TOKEN 后才能确认告警、静默、标记流程完成和记录决策。",
    "token.rejected": "守护进程拒绝了看板的令牌: {message}",
    "write.failed": "守护进程拒绝: {message}",
    "write.unreachable": "无法连接守护进程: {message}",
    "write.missing": "守护进程尚无此接口 ({path})",
    "page.wall": "监控大屏",
    "page.detail": "指标详情",
    "page.alerts": "告警与决策",
    "detail.metric": "指标",
    "detail.window": "时间范围",
    "detail.campaign": "整个活动",
    "detail.no_data": "此时间范围内没有数据。",
    "detail.value": "数值",
    "detail.decisions": "此时间范围内的决策与备注",
    "detail.description": "说明",
    "detail.runbook": "处置手册",
    "alerts.open_title": "未关闭的告警",
    "alerts.recent_title": "最近的告警 (最近 {window})",
    "alerts.trail": "事件记录",
    "alerts.ack": "确认",
    "alerts.ack_by": "确认人 (角色)",
    "alerts.note": "备注",
    "alerts.silence_title": "静默",
    "alerts.silence_metric": "指标 (留空 = 全部)",
    "alerts.silence_duration": "时长",
    "alerts.silence_reason": "原因",
    "alerts.silence_submit": "静默",
    "alerts.silences_active": "生效中的静默",
    "alerts.unsilence": "解除",
    "alerts.decision_title": "记录决策",
    "alerts.decision_author": "决策人 (姓名)",
    "alerts.decision_role": "角色",
    "alerts.decision_level": "级别",
    "alerts.decision_alert": "相关告警",
    "alerts.decision_kind": "类型",
    "alerts.decision_text": "决策内容",
    "alerts.decision_submit": "记录决策",
    "alerts.decision_log": "决策记录",
    "alerts.none_open": "没有未关闭的告警。",
    "alerts.saved": "已记录。",
    "alerts.author": "记录人",
    "role.tech_lead": "技术负责人",
    "role.ops_lead": "运营负责人",
    "role.general_manager": "总经理",
    "role.dba": "DBA",
    "unit.h": "小时",
    "unit.m": "分",
    "unit.s": "秒",
}

_TABLES = {"en": _EN, "zh-CN": _ZH}


def normal_locale(locale: str | None) -> str:
    """`zh-CN` for any Chinese locale tag, else `en`."""
    return "zh-CN" if (locale or "").lower().startswith("zh") else "en"


def text(locale: str | None, key: str, **values: object) -> str:
    """The string `key` in `locale`, formatted with `values`; English when the locale lacks it."""
    table = _TABLES[normal_locale(locale)]
    template = table.get(key) or _EN.get(key) or key
    return template.format(**values) if values else template


def level_word(locale: str | None, level: str) -> str:
    """The word the wall shows for a level (green, yellow, orange, red, stale)."""
    return text(locale, f"level.{level}")


def role_word(locale: str | None, role: str | None) -> str:
    """A role key such as `ops_lead` in words; unknown roles are shown as written in the config."""
    if not role:
        return ""
    key = f"role.{role}"
    found = text(locale, key)
    return role.replace("_", " ") if found == key else found
