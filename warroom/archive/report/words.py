"""Every word of the report in zh-CN and en (the campaign's locale, or --lang)."""

from __future__ import annotations

_EN = {
    "title": "Campaign report", "window": "Window", "generated": "Generated", "file": "Recorded in",
    "outcome": "Outcome", "target": "target", "met": "KPI MET", "missed": "KPI MISSED",
    "crossed": "target crossed at {t}", "not_crossed": "target never crossed", "peaks": "Worst value of each metric",
    "metric": "Metric", "worst": "Worst", "at": "At", "samples": "Samples",
    "alerts": "Alerts: how long it took to reach someone who could decide",
    "alerts_summary": "{n} alerts · 5-minute rule met for {met} of {n} · median time to acknowledge {median}",
    "no_alerts": "No alert was opened in this window.",
    "opened": "Opened", "level": "Peak level", "owner": "Owner", "first_page": "Breach → first page",
    "ack": "Time to acknowledge", "rule": "5-min rule", "escalations": "Escalations", "decided": "Who decided what",
    "resolved": "Resolved", "yes": "met", "no": "MISSED", "never": "never", "not_delivered": "not delivered",
    "failed_pages": "{n} failed page(s)", "still_open": "still open",
    "per_metric": "Metrics: level bands, alert spans, decisions", "time_at_levels": "Time at each level",
    "no_transitions": "no level transition recorded for this metric", "pending": "open < 5 min",
    "runsheet": "Run sheet", "planned": "Planned", "done": "Done", "by": "By", "late": "Late by",
    "early": "early by", "not_done": "not done", "not_due": "not due in this window", "action": "Step",
    "collectors": "Collector health", "collector": "Collector", "polls": "Polls", "failed": "Failed",
    "gap": "Longest gap", "duration": "Poll time p50 / max", "reasons": "Reasons",
    "decisions": "Decision log", "who": "Who", "what": "What", "kind": "Kind", "none": "—",
    "green": "OK", "yellow": "Yellow", "orange": "Orange", "red": "Red", "stale": "No data",
    "via.board": "on the board", "via.link": "by link", "via.api": "through the API", "via.wall": "at the wall",
}
_ZH = {
    "title": "活动结束报告", "window": "时间范围", "generated": "生成时间", "file": "数据文件",
    "outcome": "结果", "target": "目标", "met": "KPI 达成", "missed": "KPI 未达成",
    "crossed": "{t} 达到目标", "not_crossed": "未达到目标", "peaks": "各指标最差值",
    "metric": "指标", "worst": "最差值", "at": "时间", "samples": "样本数",
    "alerts": "告警: 多久才找到有决策权的人",
    "alerts_summary": "共 {n} 条告警 · {met}/{n} 条在 5 分钟内响应 · 确认时间中位数 {median}",
    "no_alerts": "此时间范围内没有告警。",
    "opened": "开始", "level": "最高级别", "owner": "负责人", "first_page": "触发 → 首次通知",
    "ack": "确认用时", "rule": "5 分钟规则", "escalations": "升级", "decided": "谁做了什么决定",
    "resolved": "恢复", "yes": "达成", "no": "未达成", "never": "从未", "not_delivered": "未送达",
    "failed_pages": "{n} 次通知失败", "still_open": "仍未恢复",
    "per_metric": "指标: 级别区间、告警区间、决策", "time_at_levels": "各级别时长",
    "no_transitions": "此指标未记录级别变化", "pending": "未满 5 分钟",
    "runsheet": "执行清单", "planned": "计划", "done": "完成", "by": "执行人", "late": "延迟",
    "early": "提前", "not_done": "未完成", "not_due": "此时间范围内未到期", "action": "步骤",
    "collectors": "采集器状态", "collector": "采集器", "polls": "采集次数", "failed": "失败",
    "gap": "最长间隔", "duration": "采集用时 p50 / 最大", "reasons": "原因",
    "decisions": "决策记录", "who": "谁", "what": "内容", "kind": "类型", "none": "—",
    "green": "正常", "yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警", "stale": "无数据",
    "via.board": "在看板上", "via.link": "通过链接", "via.api": "通过接口", "via.wall": "在大屏上",
}


def word(locale: str, key: str, **values: object) -> str:
    """The report's text for `key` in `locale` (English when missing)."""
    table = _ZH if locale == "zh-CN" else _EN
    return (table.get(key) or _EN.get(key, key)).format(**values)
