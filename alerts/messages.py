"""The words of a page, read on a phone at 23:31: what, how bad, since when, who decides, the link.

Everything is in the campaign's language and timezone. Each kind of step has its own words, so a
level that rose, an alert nobody acknowledged and a level that fell never read alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.log import Alert
from alerts.notifiers.page import Page
from alerts.signin import LINK_PARAM
from alerts.snapshot import TREND_S
from warroom.config.models import WarroomConfig
from warroom.values import Level

_LEVEL = {
    "zh-CN": {Level.GREEN: "正常", Level.YELLOW: "黄色预警", Level.ORANGE: "橙色预警", Level.RED: "红色预警"},
    "en": {Level.GREEN: "normal", Level.YELLOW: "YELLOW", Level.ORANGE: "ORANGE", Level.RED: "RED"},
}
_COLOUR = {
    "zh-CN": {Level.GREEN: "正常", Level.YELLOW: "黄色", Level.ORANGE: "橙色", Level.RED: "红色"},
    "en": {Level.GREEN: "normal", Level.YELLOW: "yellow", Level.ORANGE: "orange", Level.RED: "red"},
}
# The tag at the start of a title: one word per kind of step, never "escalated" for a level change.
_TAG = {
    "zh-CN": {"opened": "{level}", "raised": "升至{colour}", "escalated": "无人确认 · 已上报",
              "repeat": "仍未确认 · {level}", "lowered": "降至{colour}", "handed_over": "已转交",
              "stood_down": "降至{colour}",
              "taken": "已有人处理", "resolved": "已恢复", "no_data": "无数据"},
    "en": {"opened": "{level}", "raised": "RISEN TO {level}", "escalated": "NOT ACKNOWLEDGED · ESCALATED",
           "repeat": "STILL UNACKNOWLEDGED · {level}", "lowered": "FELL TO {level}", "handed_over": "HANDED OVER",
           "stood_down": "FELL TO {level}",
           "taken": "TAKEN", "resolved": "RESOLVED", "no_data": "NO DATA"},
}
# What a phone call says first (urgent channels): the level, and for a repeat or an escalation why it rings.
_VOICE = {
    "zh-CN": {"opened": "{level}", "raised": "升至{level}", "escalated": "{level}, 无人确认, 现请你决策",
              "repeat": "{level}, 仍未确认", "lowered": "降至{level}"},
    "en": {"opened": "{colour} alert", "raised": "risen to {colour}", "escalated": "{colour} alert, not acknowledged, "
           "you decide now", "repeat": "{colour} alert, still not acknowledged", "lowered": "fell to {colour}"},
}
_DECISION = {
    "zh-CN": {Level.YELLOW: "请你决策: 扩容 / 限流 / 降级?",
              Level.ORANGE: "请你决策: 切换备用服务器 / 页面降级 / 延长时限?",
              Level.RED: "请你决策: 业务层面的应急方案, 立即拍板"},
    "en": {Level.YELLOW: "Your decision: scale out, throttle or degrade?",
           Level.ORANGE: "Your decision: switch to backup servers, degrade the page, extend the deadline?",
           Level.RED: "Your decision: the business call, now."},
}
_W = {
    "zh-CN": {"decides": "{name} 决策", "value": "当前 {value}", "reached": "已达{colour}线 {threshold}",
              "back": "已回到 {threshold} 线以内", "since": "{time} 起, 已持续 {duration}", "since_now": "{time} 起",
              "old": "({age}前的数据)", "trend_up": "趋势 ↑ ({ago}前 {value})",
              "held": "仍为{colour}: 需{side} {release} 才解除",
              "trend_down": "趋势 ↓ ({ago}前 {value})", "trend_flat": "趋势 → 持平",
              "decider": "决策人: {who}", "to_you": "发给: {name}", "kpi": "{title} {value} / {target}",
              "left": "距结束 {duration}", "after": "已结束 {duration}", "ack": "确认 (我来处理): {url}",
              "board": "看板: {url}", "runbook": "预案: {url}", "unacked": "{who} {duration}内未确认, 现请你决策",
              "rose_to": "级别升至{colour}, 现由 {who} 决策, 你无需再处理",
              "fell_to": "级别降至{colour}, 现由 {who} 决策",
              "taken_by": "{who} 已确认 {time}, 正在处理", "peak": "峰值 {level}", "no_data_why": "原因: {why}",
              "no_data_since": "{time} 起没有数据", "data_back": "数据已恢复: {time} 收到新数据",
              "gap": "中断 {start} – {end}, 共 {duration}", "no_data_voice": "没有数据",
              "press": "请按消息中的链接确认。", "voice_group": "{n} 条告警, 最高 {level}",
              "standing": "你在替 {who} 值守", "footer": "告警 #{id} · {time}",
              "group": "{n} 条告警 · 最高 {level}", "nobody": "(无人)", "demo": ", 演示之夜的时间",
              "not_yours": "告警 #{id} 现为{colour}, 由 {who} 决策; {role} 的确认不覆盖这一级别",
              "already": "告警 #{id} 已由 {who} 于 {time} 确认",
              "board_signin": "看板 (此链接为你登录): {url}"},
    "en": {"decides": "{name} decides", "value": "now {value}", "reached": "past the {colour} line {threshold}",
           "back": "back inside the {threshold} line", "since": "since {time} ({duration})",
           "since_now": "since {time}",
           "old": "(data from {age} ago)", "trend_up": "trend ↑ ({ago} ago {value})",
           "held": "still {colour} until {side} {release}",
           "trend_down": "trend ↓ ({ago} ago {value})", "trend_flat": "trend → flat",
           "decider": "Decides: {who}", "to_you": "To: {name}", "kpi": "{title} {value} / {target}",
           "left": "{duration} to the end", "after": "ended {duration} ago", "ack": "Acknowledge (I am on it): {url}",
           "board": "Board: {url}", "runbook": "Runbook: {url}", "unacked": "{who} did not acknowledge in {duration}; "
           "you decide now", "rose_to": "The level rose to {colour}; {who} decides now, nothing more is needed from "
           "you", "fell_to": "The level fell to {colour}; {who} decides now",
           "taken_by": "{who} acknowledged at {time} and is on it", "peak": "peak {level}", "no_data_why": "Why: {why}",
           "no_data_since": "no data since {time}", "data_back": "data is back: a new sample at {time}",
           "gap": "no data from {start} to {end} ({duration})", "no_data_voice": "no data",
           "press": "Press the link in the message to acknowledge.", "voice_group": "{n} alerts, worst {level}",
           "standing": "You stand in for {who}",
           "footer": "alert #{id} · {time}", "group": "{n} alerts · worst {level}", "nobody": "(nobody)",
           "demo": ", the demo night's time",
           "not_yours": "alert #{id} is now {level}; {who} decides: an acknowledgement by {role} does not cover it",
           "already": "alert #{id} is already acknowledged by {who} at {time}",
           "board_signin": "Board (this link signs you in): {url}"},
}


@dataclass(frozen=True)
class PageContext:
    """What a page says beyond the alert itself: the moment, the value's age and trend, the campaign."""

    now: datetime
    value_ts: datetime | None = None
    value_minute_ago: float | None = None
    kpi_value: float | None = None
    campaign_end: datetime | None = None
    board_url: str | None = None
    ack_url: str | None = None
    why: str | None = None
    """For escalations and no-data pages: the reason, e.g. the collector's last error."""
    previous_role: str | None = None
    """For escalations: who did not acknowledge."""


def level_words(level: Level, locale: str) -> str:
    """`红色预警` / `RED`."""
    return _LEVEL.get(locale, _LEVEL["en"])[level]


def duration_words(seconds: float, locale: str) -> str:
    """`2分10秒` / `2m10s`: short enough for a phone's notification line."""
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    units = ("小时", "分", "秒") if locale == "zh-CN" else ("h", "m", "s")
    if h:
        return f"{h}{units[0]}{m}{units[1]}" if m else f"{h}{units[0]}"
    return (f"{m}{units[1]}" if m else "") + (f"{s}{units[2]}" if s or not m else "")


class PageWriter:
    """Composes pages for one config: the single place that decides what a person reads."""

    def __init__(self, cfg: WarroomConfig, holder: Callable[[str | None], tuple[str, str] | None] | None = None):
        self.cfg = cfg
        # Who holds a role at the moment of the page (shifts, stand-ins); the config's person without one.
        self.holder = holder or (lambda role: (p.name, p.phone) if (p := cfg.people.get(role or "")) else None)
        # In demo mode, (real moment, the night's time then, the night's speed): pages speak the night's time
        # like the wall does, and its durations, so "23:31, for 9 minutes" instead of "01:13, for 1 minute".
        self.night: Callable[[], tuple[datetime, datetime, float] | None] = lambda: None
        self.locale = cfg.campaign.locale if cfg.campaign.locale in _W else "en"
        self.zone = ZoneInfo(cfg.campaign.timezone)

    def _w(self, key: str, **kw: object) -> str:
        return _W[self.locale][key].format(**kw)

    def clock(self, ts: datetime) -> str:
        """`23:31:05` in the campaign's timezone (the night's time in demo mode)."""
        anchor = self.night()
        if anchor is not None:
            real, night, speed = anchor
            ts = night + (ts - real) * speed
        return ts.astimezone(self.zone).strftime("%H:%M:%S")

    def span(self, seconds: float) -> str:
        """A duration in words, in the night's minutes in demo mode."""
        anchor = self.night()
        return duration_words(seconds * (anchor[2] if anchor else 1.0), self.locale)

    def _value(self, metric: str, value: float | None) -> str:
        spec = self.cfg.metrics.get(metric)
        if value is None:
            return "—"
        return f"{value:,.{spec.decimals if spec else 1}f}{spec.unit if spec else ''}"

    def _who(self, role: str | None) -> str:
        held = self.holder(role)
        if held is None:
            return role or self._w("nobody")
        return f"{held[0]} {held[1]}".strip()

    def _name(self, role: str | None) -> str:
        held = self.holder(role)
        return held[0] if held else (role or self._w("nobody"))

    def not_yours(self, alert: Alert, role: str) -> str:
        """Why a lower level's link does not acknowledge this alert any more, naming who decides now."""
        return self._w("not_yours", id=alert.id, colour=_COLOUR[self.locale][alert.level],
                       level=level_words(alert.level, self.locale), who=self._who(alert.owner_role),
                       role=self._name(role))

    def already(self, alert: Alert) -> str:
        """Who already acknowledged, and when."""
        return self._w("already", id=alert.id, who=self._who(alert.acked_by),
                       time=self.clock(alert.acked_at) if alert.acked_at else "?")

    def decision_for(self, role: str | None, level: Level) -> str:
        """The question asked of the person paged: their own, else their level's, else the alert's level's."""
        person = self.cfg.people.get(role or "")
        if person is not None and person.decision:
            return person.decision
        owned = [lv for lv in (Level.YELLOW, Level.ORANGE, Level.RED) if self.cfg.levels.owner_role(lv) == role]
        asked = max(owned) if owned else level
        configured = self.cfg.levels.at(asked).decision if asked != Level.GREEN else None
        return configured or _DECISION[self.locale].get(asked, "")

    def compose(self, alert: Alert, kind: str, role: str | None, ctx: PageContext) -> Page:
        """One page to `role` about one step of `alert`."""
        spec = self.cfg.metrics.get(alert.metric)
        title_of = spec.title if spec else alert.metric
        value = self._value(alert.metric, alert.value)
        level, colour = level_words(alert.level, self.locale), _COLOUR[self.locale][alert.level]
        tag_kind = "no_data" if alert.kind == "no_data" and kind in ("opened", "repeat") else kind
        tag = _TAG[self.locale][tag_kind].format(level=level, colour=colour)
        decider = alert.owner_role
        head = f"{title_of} {value}"
        if kind not in ("resolved", "taken", "handed_over", "stood_down") and decider:
            head += " · " + self._w("decides", name=self._name(decider))
        title = f"[{tag}] {head}"
        lines = [f"{level} · {title_of} ({alert.metric})" if kind != "resolved" else f"{title_of} ({alert.metric})"]
        lines += self._state_lines(alert, kind, ctx)
        lines += self._ask_lines(alert, kind, role, ctx)
        if spec and spec.runbook and kind not in ("resolved", "taken"):
            lines.append(self._w("runbook", url=spec.runbook))
        if ctx.ack_url:
            lines.append(self._w("ack", url=ctx.ack_url))
        zone = self.cfg.campaign.timezone + (self._w("demo") if self.night() else "")
        lines.append(self._w("footer", id=alert.id, time=f"{self.clock(ctx.now)} ({zone})"))
        tail = []
        if ctx.kpi_value is not None or ctx.campaign_end is not None:
            tail.append(self._campaign_line(ctx))
        if ctx.board_url:
            signs_in = f"{LINK_PARAM}=" in ctx.board_url
            tail.append(self._w("board_signin" if signs_in else "board", url=ctx.board_url))
        # Alertmanager tells alerts apart by labels: the peak keeps one alert's identity through its recovery.
        labels = {"owner_role": decider or "", "kind": alert.kind, "severity": alert.peak_level.word}
        body = "\n".join(lines[:-1] + tail + lines[-1:])
        return Page(alert.id, alert.metric, kind, alert.level.word, title, body, alert.opened_at,
                    alert.resolved_at if kind == "resolved" else None, labels, ctx.ack_url, "\n".join(tail),
                    locale=self.locale)

    def urgent(self, page: Page, alert: Alert, kind: str, ctx: PageContext) -> Page:
        """The page for an urgent channel: the few words a phone call says, and the ack link for a screen."""
        spec = self.cfg.metrics.get(alert.metric)
        title_of = spec.title if spec else alert.metric
        level = alert.level if alert.level != Level.GREEN else Level.YELLOW
        said = _VOICE[self.locale].get(kind, _VOICE[self.locale]["opened"]).format(
            level=level_words(level, self.locale), colour=_COLOUR[self.locale][level])
        said = said[:1].upper() + said[1:]
        what = self._w("no_data_voice") if alert.kind == "no_data" else self._value(alert.metric, alert.value)
        stop = "。" if self.locale == "zh-CN" else ". "
        voice = f"{said}{stop}{title_of} {what}{stop}{self._w('press')}"
        body = voice + (f"\n{self._w('ack', url=ctx.ack_url)}" if ctx.ack_url else "")
        return Page(page.alert_id, page.metric, page.kind, page.level, page.title, body, page.started_at,
                    page.ended_at, page.labels, page.ack_url, "", voice, self.locale)

    def _state_lines(self, alert: Alert, kind: str, ctx: PageContext) -> list[str]:
        spec = self.cfg.metrics.get(alert.metric)
        if alert.kind == "no_data" and kind == "resolved":
            # The news is that data came back: say when, the value, and how long the gap was.
            back = alert.resolved_at or ctx.now
            lines = [self._w("data_back", time=self.clock(back))]
            if alert.value is not None:
                lines[0] += " · " + self._w("value", value=self._value(alert.metric, alert.value))
            start = ctx.value_ts if ctx.value_ts is not None and ctx.value_ts < back else alert.opened_at
            lines.append(self._w("gap", start=self.clock(start), end=self.clock(back),
                                 duration=self.span((back - start).total_seconds())))
            return lines
        if alert.kind == "no_data":
            seen = ctx.value_ts or alert.opened_at
            lines = [self._w("no_data_since", time=self.clock(seen))]
            if ctx.why:
                lines.append(self._w("no_data_why", why=ctx.why))
            return lines
        value = self._w("value", value=self._value(alert.metric, alert.value))
        if ctx.value_ts is not None and (ctx.now - ctx.value_ts).total_seconds() >= 15:
            value += " " + self._w("old", age=self.span((ctx.now - ctx.value_ts).total_seconds()))
        if kind == "resolved":
            threshold = spec.rule().threshold(Level.YELLOW) if spec else None
            line = value + (f", {self._w('back', threshold=self._value(alert.metric, threshold))}"
                            if threshold is not None else "")
            return [line + f" · {self._w('peak', level=level_words(alert.peak_level, self.locale))}"]
        parts = [value]
        if alert.threshold is not None and alert.level != Level.GREEN and alert.value is not None and spec:
            rule = spec.rule()
            if rule.breaches(alert.value, alert.threshold):
                parts.append(self._w("reached", colour=_COLOUR[self.locale][alert.level],
                                     threshold=self._value(alert.metric, alert.threshold)))
            else:
                # Back past the line but inside the clear band: the level holds, so say what ends it.
                above = spec.direction == "above"
                release = alert.threshold - rule.clear if above else alert.threshold + rule.clear
                side = ("低于" if above else "高于") if self.locale == "zh-CN" else ("below" if above else "above")
                parts.append(self._w("held", colour=_COLOUR[self.locale][alert.level], side=side,
                                     release=self._value(alert.metric, release)))
        since = alert.level_since or alert.opened_at
        lasted = (ctx.now - since).total_seconds()
        parts.append(self._w("since", time=self.clock(since), duration=self.span(lasted))
                     if lasted >= 5 else self._w("since_now", time=self.clock(since)))
        lines = [" · ".join(parts)]
        if ctx.value_minute_ago is not None and alert.value is not None:
            bad_up = spec is None or spec.direction == "above"
            delta = alert.value - ctx.value_minute_ago
            moved = abs(delta) > 1e-9 * max(1.0, abs(alert.value))
            key = "trend_flat" if not moved else ("trend_up" if delta > 0 else "trend_down")
            trend = self._w(key, value=self._value(alert.metric, ctx.value_minute_ago), ago=self.span(TREND_S))
            lines.append(trend + ("" if not moved else (" ✗" if (delta > 0) == bad_up else " ✓")))
        return lines

    def _ask_lines(self, alert: Alert, kind: str, role: str | None, ctx: PageContext) -> list[str]:
        colour = _COLOUR[self.locale][alert.level]
        if kind == "resolved":
            return []
        if kind == "taken":
            return [self._w("taken_by", who=self._name(alert.acked_by), time=self.clock(alert.acked_at or ctx.now))]
        if kind in ("handed_over", "stood_down"):
            key = "rose_to" if kind == "handed_over" else "fell_to"
            return [self._w(key, colour=colour, who=self._who(alert.owner_role))]
        lines = [self._w("decider", who=self._who(alert.owner_role))]
        previous = self.cfg.people.get(ctx.previous_role or "")
        if kind == "escalated" and previous is not None and previous.deputy == role:
            lines.append(self._w("standing", who=f"{self._name(ctx.previous_role)} ({ctx.previous_role})"))
        if kind == "escalated" and ctx.previous_role:
            timeout = self.cfg.levels.at(alert.level).ack_timeout if alert.level != Level.GREEN else 0
            lines.append(self._w("unacked", who=self._name(ctx.previous_role),
                                 duration=self.span(timeout)))
            if ctx.why and "not acknowledged" not in ctx.why:
                lines.append(ctx.why)
        if kind == "lowered":
            lines.insert(0, self._w("fell_to", colour=colour, who=self._who(alert.owner_role)))
        if role and role != alert.owner_role:
            lines.append(self._w("to_you", name=self._name(role)))
        lines.append(self.decision_for(role, alert.level))
        return lines

    def _campaign_line(self, ctx: PageContext) -> str:
        parts = []
        kpi = self.cfg.campaign.kpi
        if kpi is not None and ctx.kpi_value is not None:
            parts.append(self._w("kpi", title=kpi.title, value=f"{ctx.kpi_value:,.0f}", target=f"{kpi.target:,.0f}"))
        if ctx.campaign_end is not None:
            left = (ctx.campaign_end - ctx.now).total_seconds()
            parts.append(self._w("left" if left >= 0 else "after", duration=self.span(abs(left))))
        return " · ".join(parts)

    def combine(self, pages: list[Page]) -> Page:
        """Several pages for one person as one: each alert's newest step only, worst first, the KPI said once."""
        newest: dict[int, Page] = {}
        for page in pages:  # in the order the steps were decided: a later step of an alert supersedes
            newest[page.alert_id] = page
        ordered = sorted(newest.values(), key=lambda p: (-int(Level.from_word(p.level)), p.alert_id))
        if len(ordered) == 1:
            return ordered[0]
        tail = next((p.tail for p in reversed(pages) if p.tail), "")  # the newest KPI and countdown

        def core(page: Page) -> str:
            return "\n".join(line for line in page.body.split("\n") if line not in page.tail.split("\n"))

        worst = Level.from_word(ordered[0].level)
        title = f"[{self._w('group', n=len(ordered), level=level_words(worst, self.locale))}] " + \
            " | ".join(p.title for p in ordered)
        body = "\n\n".join(f"{i}. {core(p)}" for i, p in enumerate(ordered, 1)) + (f"\n\n{tail}" if tail else "")
        first = ordered[0]
        voice = ""
        if all(p.voice for p in ordered):  # one call for several alerts: each said briefly, the link said once
            press, stop = self._w("press"), "。" if self.locale == "zh-CN" else ". "
            said = [p.voice.replace(press, "").strip().rstrip("。.").strip() for p in ordered]
            voice = self._w("voice_group", n=len(ordered), level=level_words(worst, self.locale)) + stop + \
                stop.join(said) + stop + press
        return Page(first.alert_id, first.metric, first.kind, first.level, title, body, first.started_at,
                    first.ended_at, first.labels, first.ack_url, tail, voice, first.locale)
