"""Pure: the API's answers → one self-contained HTML file (Plotly inlined; no external script, font or image)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import plotly.io as pio
from plotly.offline import get_plotlyjs

from app.figures import detail_figure
from app.tiles import ACCENT, ON_ACCENT, format_duration
from warroom.archive.report.answers import Answers
from warroom.archive.report.facts import AlertFact, alert_facts, level_seconds, step_facts, ts
from warroom.archive.report.words import word

LEVELS = ("green", "yellow", "orange", "red", "stale")
CHART_HEIGHT = 320

CSS = """
*{box-sizing:border-box}body{margin:0;background:#0e1117;color:#d5dbe3;font:15px/1.45 system-ui,-apple-system,
"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif}
main{max-width:1400px;margin:0 auto;padding:16px}
h1{font-size:26px;margin:8px 0}h2{font-size:20px;margin:28px 0 10px;border-bottom:1px solid #2a3340;padding-bottom:6px}
h3{font-size:16px;margin:18px 0 6px}.meta{color:#8b95a3;font-size:13px}.kpi{display:flex;flex-wrap:wrap;gap:16px;
align-items:center}.kpi b{font-size:44px;color:#fff}.badge{display:inline-block;padding:2px 10px;border-radius:4px;
font-weight:700;white-space:nowrap}.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}table{border-collapse:collapse;
width:100%;font-size:14px}th,td{padding:6px 8px;border-bottom:1px solid #222a35;text-align:left;vertical-align:top}
th{color:#8b95a3;font-weight:600;white-space:nowrap}td.n{text-align:right;white-space:nowrap}.miss{color:#ff3b3b;
font-weight:700}.ok{color:#2fbf71}.bar{display:flex;height:14px;border-radius:3px;overflow:hidden;background:#23272e;
margin:4px 0}.bar span{display:block;height:100%}.legend{font-size:13px;color:#aab3bf}.legend i{display:inline-block;
width:10px;height:10px;margin:0 4px 0 10px;border-radius:2px}.metric{background:#131821;border:1px solid #222a35;
border-radius:6px;padding:8px 12px;margin:12px 0}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px}
@media (max-width:900px){.grid{grid-template-columns:1fr}.kpi b{font-size:34px}main{padding:10px}h1{font-size:21px}
th,td{padding:5px 6px;font-size:13px}}
@media (max-width:600px){table.cards thead{display:none}table.cards tr{display:block;border:1px solid #222a35;
border-radius:6px;margin:8px 0;padding:4px 0}table.cards td{display:flex;gap:10px;border:0;padding:3px 10px;
text-align:left}table.cards td::before{content:attr(data-label);flex:0 0 38%;color:#8b95a3;font-size:12px}
table.cards td.n{text-align:left}}
"""


def inline_plotly() -> str:
    """plotly.js for a <script> element, with no URL left in it.

    The bundle carries attribution links for map tiles (never used here) as string literals; writing
    `:\\/\\/` for `://` is the same string to JavaScript (also inside regular expressions and comments), so
    the file holds no external URL of any kind and still renders identically.
    """
    return get_plotlyjs().replace("://", ":\\/\\/")


def _local(value: str | None, zone: str, with_date: bool = False) -> str:
    moment = ts(value)
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def _badge(level: str, loc: str) -> str:
    return (f'<span class="badge" style="background:{ACCENT.get(level, ACCENT["stale"])};'
            f'color:{ON_ACCENT.get(level, ON_ACCENT["stale"])}">{escape(word(loc, level))}</span>')


def _table(head: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """A table that turns into one card per row on a phone (each cell labelled with its column)."""
    numeric = numeric or set()
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f'<td{" class=n" if i in numeric else ""} data-label="{escape(head[i])}">{c}</td>'
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    cards = ' class="cards"' if len(head) > 4 else ""
    return f'<div class="scroll"><table{cards}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'


def outcome_html(a: Answers, loc: str, zone: str) -> str:
    """The KPI against the target, met or missed, when crossed; then each metric's worst value."""
    parts = [f"<h2>{escape(word(loc, 'outcome'))}</h2>"]
    kpi = a.outcome.get("kpi")
    if kpi:
        met = kpi.get("met")
        badge = (f'<span class="badge" style="background:{ACCENT["green" if met else "red"]};color:#fff">'
                 f'{escape(word(loc, "met" if met else "missed"))}</span>')
        crossed = (word(loc, "crossed", t=_local(kpi["crossed_at"], zone)) if kpi.get("crossed_at")
                   else word(loc, "not_crossed"))
        value = "—" if kpi.get("value") is None else f"{kpi['value']:,.0f}"
        parts.append(f'<div class="kpi" data-kpi="1"><span>{escape(kpi.get("title") or kpi["metric"])}</span>'
                     f'<b>{value}</b><span>/ {escape(word(loc, "target"))} {kpi["target"]:,.0f}</span>{badge}'
                     f'<span class="meta">{escape(crossed)}</span></div>')
    metrics = a.config.get("metrics", {})
    rows = []
    for metric, peak in a.outcome.get("peaks", {}).items():
        meta = metrics.get(metric, {})
        decimals = int(meta.get("decimals", 1))
        value = f"{peak['value']:.{decimals}f} {escape(meta.get('unit') or '')}"
        rows.append([escape(meta.get("title") or metric), value, _local(peak.get("ts"), zone),
                     str(peak.get("samples", ""))])
    parts.append(f"<h3>{escape(word(loc, 'peaks'))}</h3>")
    parts.append(_table([word(loc, k) for k in ("metric", "worst", "at", "samples")], rows, {1, 3}))
    return "".join(parts)


def _alert_row(f: AlertFact, loc: str, zone: str) -> list[str]:
    page = (f"{format_duration(f.first_page_s, loc)} → {escape(f.first_page_to or '')}" if f.first_page_s is not None
            else f'<span class="miss">{escape(word(loc, "not_delivered"))}</span>')
    if f.failed_pages:
        page += f'<br><span class="miss">{escape(word(loc, "failed_pages", n=f.failed_pages))}</span>'
    where = f" {escape(word(loc, 'via.' + f.acked_via.split(':')[0]))}" if f.acked_via else ""
    ack = (f"{format_duration(f.ack_s, loc)} · {escape(f.acked_by or '')}{where}" if f.ack_s is not None
           else f'<span class="miss">{escape(word(loc, "never"))}</span>')
    rule = {True: f'<span class="ok">✓ {escape(word(loc, "yes"))}</span>',
            False: f'<span class="miss">✗ {escape(word(loc, "no"))}</span>',
            None: escape(word(loc, "pending"))}[f.rule_met]
    esc = "<br>".join(f"{_local(t, zone)} → {escape(who)}" for t, who in f.escalations) or "—"
    dec = "<br>".join(f"{_local(t, zone)} <b>{escape(who)}</b>: {escape(what)}" for t, who, what in f.decisions) or "—"
    resolved = _local(f.resolved_at, zone) if f.resolved_at else escape(word(loc, "still_open"))
    return [f"#{f.id} {escape(f.title)}", _badge(f.peak_level, loc), escape(f.owner), _local(f.opened_at, zone),
            page, ack, rule, esc, dec, resolved]


def alerts_html(a: Answers, loc: str, zone: str) -> str:
    """Every alert, slowest response first, with the 5-minute rule met or missed."""
    facts = alert_facts(a.alerts, a.annotations, a.config.get("people", {}), a.end)
    head = f"<h2>{escape(word(loc, 'alerts'))}</h2>"
    if not facts:
        return head + f"<p>{escape(word(loc, 'no_alerts'))}</p>"
    acks = [f.ack_s for f in facts if f.ack_s is not None]
    median = format_duration(statistics.median(acks), loc) if acks else word(loc, "never")
    summary = word(loc, "alerts_summary", n=len(facts), met=sum(f.rule_met is True for f in facts), median=median)
    cols = [word(loc, k) for k in ("metric", "level", "owner", "opened", "first_page", "ack", "rule", "escalations",
                                   "decided", "resolved")]
    rows = [_alert_row(f, loc, zone) for f in facts]
    return head + f'<p data-alerts="{len(facts)}">{escape(summary)}</p>' + _table(cols, rows)


def _level_bar(spans: list[dict[str, Any]], loc: str) -> str:
    time_at = level_seconds(spans)
    total = sum(time_at.values())
    if not total:
        return f'<div class="meta">{escape(word(loc, "no_transitions"))}</div>'
    bar = "".join(f'<span style="width:{time_at[lv] / total * 100:.2f}%;background:{ACCENT[lv]}" '
                  f'title="{escape(word(loc, lv))}"></span>' for lv in LEVELS if time_at.get(lv))
    legend = "".join(f'<i style="background:{ACCENT[lv]}"></i>{escape(word(loc, lv))} '
                     f'{escape(format_duration(time_at[lv], loc))}' for lv in LEVELS if time_at.get(lv))
    return (f'<div class="meta">{escape(word(loc, "time_at_levels"))}</div><div class="bar">{bar}</div>'
            f'<div class="legend">{legend}</div>')


def metric_html(a: Answers, metric: str, loc: str, zone: str) -> str:
    """One metric: time at each level, then its chart with bands, alert spans and decision marks."""
    meta = a.config["metrics"][metric]
    start, end = ts(a.start), ts(a.end)
    assert start is not None and end is not None
    alerts = [x for x in a.alerts if x["metric"] == metric]
    ids = {x["id"] for x in alerts}
    decisions = [n for n in a.annotations if n.get("alert_id") in ids]
    fig = detail_figure(a.series.get(metric, []), meta, start, end, zone, alerts, decisions, loc, CHART_HEIGHT)
    fig.update_layout(autosize=True, margin={"l": 48, "r": 8, "t": 24, "b": 32})
    chart = pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=f"chart-{metric}",
                        config={"displaylogo": False, "displayModeBar": False, "responsive": True})
    return (f'<div class="metric" data-metric="{escape(metric)}"><h3>{escape(meta.get("title") or metric)}</h3>'
            f'{_level_bar(a.bands.get(metric, []), loc)}{chart}</div>')


def runsheet_html(a: Answers, loc: str, zone: str) -> str:
    """Planned time against done time, by whom."""
    rows = []
    for s in step_facts(a.runsheet, a.config.get("people", {})):
        if s.late_s is None and (ts(s.planned) or ts(a.end)) > ts(a.end):
            late = escape(word(loc, "not_due"))
        elif s.late_s is None:
            late = f'<span class="miss">{escape(word(loc, "not_done"))}</span>'
        elif s.late_s > 0:
            late = escape(format_duration(s.late_s, loc))
        else:
            late = escape(f"{word(loc, 'early')} {format_duration(-s.late_s, loc)}")
        rows.append([escape(s.action), escape(s.owner), _local(s.planned, zone), _local(s.done_at, zone),
                     escape(s.done_by or "—"), late])
    cols = [word(loc, k) for k in ("action", "owner", "planned", "done", "by", "late")]
    return f"<h2>{escape(word(loc, 'runsheet'))}</h2>" + _table(cols, rows)


def collectors_html(a: Answers, loc: str, zone: str) -> str:
    """Polls, failures, the longest gap and the commonest reasons of each collector."""
    rows = []
    for c in a.collectors:
        gap = f"{format_duration(c['longest_gap_s'], loc)} ({_local(c['gap_ended_at'], zone)})" \
            if c.get("longest_gap_s") else "—"
        reasons = "<br>".join(f"{r['count']}× {escape(r['error'] or '')}" for r in c.get("reasons", [])) or "—"
        failed = f'<span class="miss">{c["failed"]}</span>' if c["failed"] else "0"
        rows.append([escape(c["collector"]), str(c["polls"]), failed, gap,
                     f"{c['p50_duration_s']:.2f} s / {c['max_duration_s']:.2f} s", reasons])
    cols = [word(loc, k) for k in ("collector", "polls", "failed", "gap", "duration", "reasons")]
    return f"<h2>{escape(word(loc, 'collectors'))}</h2>" + _table(cols, rows, {1, 2})


def decisions_html(a: Answers, loc: str, zone: str) -> str:
    """The whole decision log of the window."""
    def who(n: dict[str, Any]) -> str:
        via = (n.get("via") or "").split(":")[0]
        return escape(n["author"]) + (f" · {escape(word(loc, 'via.' + via))}" if via else "")

    rows = [[_local(n["ts"], zone), who(n), escape(n.get("kind") or ""), escape(n["text"])] for n in a.annotations]
    cols = [word(loc, k) for k in ("at", "who", "kind", "what")]
    return f"<h2>{escape(word(loc, 'decisions'))}</h2>" + _table(cols, rows)


def report_html(a: Answers, locale: str | None = None, source: str = "", generated: datetime | None = None,
                progress: Callable[[str], None] = lambda _: None) -> str:
    """The whole report; `progress` is called once per section and per metric chart."""
    loc = locale or a.config.get("campaign", {}).get("locale") or "en"
    zone = a.campaign.get("timezone") or "UTC"
    name = a.campaign.get("name") or ""
    stamp = (generated or datetime.now(ZoneInfo(zone))).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    sections = [f"<h1>{escape(word(loc, 'title'))} · {escape(name)}</h1>"
                f'<div class="meta">{escape(word(loc, "window"))}: {_local(a.start, zone, True)} – '
                f'{_local(a.end, zone, True)} ({escape(zone)}) · {escape(word(loc, "generated"))} {stamp}'
                + (f" · {escape(word(loc, 'file'))} {escape(source)}" if source else "") + "</div>"]
    for build in (outcome_html, alerts_html):
        sections.append(build(a, loc, zone))
        progress(build.__name__)
    charts = []
    for metric in a.config.get("metrics", {}):
        charts.append(metric_html(a, metric, loc, zone))
        progress(metric)
    sections.append(f"<h2>{escape(word(loc, 'per_metric'))}</h2><div class=\"grid\">{''.join(charts)}</div>")
    for build in (runsheet_html, collectors_html, decisions_html):
        sections.append(build(a, loc, zone))
        progress(build.__name__)
    return (f'<!doctype html><html lang="{escape(loc)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(word(loc, 'title'))} · {escape(name)}</title><style>{CSS}</style>"
            f"<script>{inline_plotly()}</script></head><body><main>{''.join(sections)}</main></body></html>")
