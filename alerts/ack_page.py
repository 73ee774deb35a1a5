"""The page an ack link opens, and the page after pressing its button: plain words, never JSON.

A person opening a link on a phone must see what they are acknowledging (metric, level, value,
state, who decides) and, when the link no longer applies, why, and who decides instead.
"""

from __future__ import annotations

from html import escape

from alerts.log import Alert
from alerts.messages import PageWriter, level_words
from warroom.values import Level

_T = {
    "zh-CN": {"title": "告警 #{id}", "metric": "指标", "level": "级别", "value": "当前值", "decider": "决策人",
              "state": "状态", "open": "未确认", "acked": "已由 {who} 于 {time} 确认",
              "resolved": "已于 {time} 恢复, 无需确认",
              "recovering": "已回到正常, 观察中", "button": "确认: 我来处理", "for": "此链接属于 {who}",
              "done": "已确认: {who} 负责处理。其他已通知的人会收到通知。", "refused": "未确认",
              "unknown": "没有这个告警", "bad": "链接无效", "nothing": "此告警已恢复, 无需确认。",
              "why.malformed": "链接不完整或已损坏", "why.forged": "链接无效 (签名不符, 或不属于这条告警)",
              "why.expired": "链接已过期", "why.disabled": "未配置确认链接的密钥, 链接已停用",
              "why.not_open": "此告警已关闭, 无需确认", "why.too_many": "此设备确认失败次数过多, 请稍后再试"},
    "en": {"title": "Alert #{id}", "metric": "Metric", "level": "Level", "value": "Value", "decider": "Decides",
           "state": "State", "open": "not acknowledged", "acked": "acknowledged by {who} at {time}",
           "resolved": "resolved at {time}; nothing to acknowledge", "recovering": "back to normal, being watched",
           "button": "Acknowledge: I am on it", "for": "This link is for {who}",
           "done": "Acknowledged: {who} is on it. Everyone else who was paged is told.", "refused": "Not acknowledged",
           "unknown": "No such alert", "bad": "This link does not work",
           "nothing": "This alert is resolved: there is nothing to acknowledge.",
           "why.malformed": "the link is incomplete or damaged",
           "why.forged": "the link is not valid (its signature does not match, or it is for another alert)",
           "why.expired": "the link has expired", "why.disabled": "ack links are switched off (no secret configured)",
           "why.not_open": "this alert is closed: nothing to acknowledge",
           "why.too_many": "too many refused attempts from this device; try again in a minute"},
}
_COLOUR = {Level.GREEN: "#2e7d32", Level.YELLOW: "#f9a825", Level.ORANGE: "#ef6c00", Level.RED: "#c62828"}
_STYLE = ("body{font:20px/1.5 -apple-system,'Noto Sans CJK SC',sans-serif;margin:16px;max-width:640px}"
          "table{border-collapse:collapse;width:100%}td{padding:6px 4px;border-bottom:1px solid #ddd}"
          "td:first-child{color:#666;width:30%}.lv{color:#fff;padding:2px 10px;border-radius:6px}"
          "button{font-size:26px;padding:16px 28px;width:100%;margin-top:16px}.why{font-size:22px;font-weight:600}")


class AckPages:
    """HTML for the ack link, in the campaign's language."""

    def __init__(self, writer: PageWriter):
        self.writer = writer
        self.cfg = writer.cfg
        self.t = _T.get(writer.locale, _T["en"])

    def _who(self, role: str | None) -> str:
        held = self.writer.holder(role)  # whoever holds the role now: a shift or a stand-in
        return f"{held[0]} {held[1]}".strip() if held else (role or "—")

    def _doc(self, title: str, body: str, status_colour: str | None = None) -> str:
        bar = f"<div style='height:8px;background:{status_colour}'></div>" if status_colour else ""
        return (f"<!doctype html><html lang='{self.writer.locale}'><head><meta charset='utf-8'>"
                f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{escape(title)}</title>"
                f"<style>{_STYLE}</style></head><body>{bar}<h2>{escape(title)}</h2>{body}</body></html>")

    def summary(self, alert: Alert) -> str:
        """The table of what is being acknowledged."""
        spec = self.cfg.metrics.get(alert.metric)
        title = spec.title if spec else alert.metric
        decimals, unit = (spec.decimals, spec.unit) if spec else (1, "")
        value = "—" if alert.value is None else f"{alert.value:,.{decimals}f}{unit}"
        if alert.state == "resolved":
            state = self.t["resolved"].format(time=self.writer.clock(alert.resolved_at or alert.updated_at))
        elif alert.recovering:
            state = self.t["recovering"]
        elif alert.state == "acked":
            state = self.t["acked"].format(who=self._who(alert.acked_by), time=self.writer.clock(alert.acked_at))
        else:
            state = self.t["open"]
        word = escape(level_words(alert.level, self.writer.locale))
        level = f"<span class=lv style='background:{_COLOUR[alert.level]}'>{word}</span>"
        decider = self._who(alert.owner_role) if alert.level != Level.GREEN and alert.state != "resolved" else "—"
        rows = [(self.t["metric"], escape(title)), (self.t["level"], level), (self.t["value"], escape(value)),
                (self.t["decider"], escape(decider)), (self.t["state"], escape(state))]
        return "<table>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows) + "</table>"

    def link(self, alert: Alert | None, alert_id: int, token: str, role: str | None, why_not: str | None) -> str:
        """The GET page: what it is, then either the button or the reason there is none."""
        title = self.t["title"].format(id=alert_id)
        if alert is None:
            return self._doc(title, f"<p class=why>{self.t['unknown']}</p>")
        body = self.summary(alert)
        if role:
            held = self.writer.holder(role)
            body += f"<p>{escape(self.t['for'].format(who=held[0] if held else role))}</p>"
        if alert.state == "resolved":
            # No button: pressing it could only fail, and the page must say so in the night's language.
            return self._doc(title, body + f"<p class=why>{escape(self.t['nothing'])}</p>", _COLOUR[Level.GREEN])
        if why_not:
            return self._doc(title, body + f"<p class=why>{escape(why_not)}</p>", _COLOUR[alert.level])
        form = (f"<form method=post action='/api/v1/alerts/{alert_id}/ack/form'>"
                f"<input type=hidden name=token value='{escape(token, quote=True)}'>"
                f"<button>{self.t['button']}</button></form>")
        return self._doc(title, body + form, _COLOUR[alert.level])

    def done(self, alert: Alert) -> str:
        """After the button: acknowledged, and by whom."""
        body = f"<p class=why>{escape(self.t['done'].format(who=self._who(alert.acked_by)))}</p>" + self.summary(alert)
        return self._doc(self.t["title"].format(id=alert.id), body, _COLOUR[alert.level])

    def refused(self, alert: Alert | None, alert_id: int, why: str, reason: str | None = None) -> str:
        """After the button, when nothing changed: the reason in plain words (`reason` picks the night's words)."""
        if alert is None and reason in (None, "not_open"):
            return self._doc(self.t["title"].format(id=alert_id), f"<p class=why>{self.t['unknown']}</p>")
        if alert is not None and alert.state == "resolved" and reason is None:
            reason = "not_open"
        words = self.t.get(f"why.{reason}", why) if reason else why
        body = f"<p class=why>{self.t['refused']}: {escape(words)}</p>" + (self.summary(alert) if alert else "")
        return self._doc(self.t["title"].format(id=alert_id), body)
