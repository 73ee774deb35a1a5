"""Pure: the API's answers → one self-contained HTML file (Plotly inlined; no external script, font or image)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import plotly.io as pio
from plotly.offline import get_plotlyjs

from app.figures import detail_figure
from app.tiles import ACCENT, format_duration
from warroom.archive.report.alerts_html import alerts_html, facts_of, health_html, reached_html
from warroom.archive.report.answers import Answers
from warroom.archive.report.facts import health_metrics, level_seconds, step_facts, ts
from warroom.archive.report.parts import CSS, local, table, value_text
from warroom.archive.report.words import word

LEVELS = ("green", "yellow", "orange", "red", "stale")
CHART_HEIGHT = 320
DECISION_KINDS = ("decision", "note", "silence", "runsheet", "runsheet_undo", "duty")


def inline_plotly() -> str:
    """plotly.js for a <script> element, with no URL left in it.

    The bundle carries attribution links for map tiles (never used here) as string literals; writing
    `:\\/\\/` for `://` is the same string to JavaScript (also inside regular expressions and comments), so
    the file holds no external URL of any kind and still renders identically.
    """
    return get_plotlyjs().replace("://", ":\\/\\/")


def _kpi_html(kpi: dict[str, Any], meta: dict[str, Any], loc: str, zone: str) -> str:
    """The KPI's own line: final value against the target, when it was reached, the pace at the close."""
    met = kpi.get("met")
    flag = (f'<span class="badge" style="background:{ACCENT["green" if met else "red"]};color:#fff">'
            f'{escape(word(loc, "met" if met else "missed"))}</span>')
    facts = [word(loc, "crossed", t=local(kpi["crossed_at"], zone)) if kpi.get("crossed_at")
             else word(loc, "not_crossed")]
    if kpi.get("ts"):
        facts.append(word(loc, "final_at", t=local(kpi["ts"], zone)))
    if kpi.get("pace_per_minute") is not None:
        facts.append(word(loc, "pace", p=f"{kpi['pace_per_minute']:,.1f}", t=local(kpi.get("pace_at"), zone)))
    else:
        facts.append(word(loc, "no_pace", t=local(kpi.get("pace_at"), zone)))
    value = "—" if kpi.get("value") is None else value_text(kpi["value"], {**meta, "unit": ""})
    return (f'<div class="kpi" data-kpi="1"><span>{escape(kpi.get("title") or kpi["metric"])}</span>'
            f'<b>{value}</b><span>/ {escape(word(loc, "target"))} {kpi["target"]:,.0f}</span>{flag}'
            f'<span class="meta">{escape(" · ".join(facts))}</span></div>')


def outcome_html(a: Answers, loc: str, zone: str) -> str:
    """The KPI's line; the worst value of each metric with levels; the last value of each counter."""
    parts = [f"<h2>{escape(word(loc, 'outcome'))}</h2>"]
    metrics = a.config.get("metrics", {})
    kpi = a.outcome.get("kpi")
    if kpi:
        parts.append(_kpi_html(kpi, metrics.get(kpi["metric"], {}), loc, zone))
    health = health_metrics(a.config)
    rows = []
    peaks = a.outcome.get("peaks", {})
    for metric in [m for m in metrics if m in peaks]:  # the config's (the wall's) order, whatever the query's
        peak = peaks[metric]
        if metric in health:
            continue
        meta = metrics.get(metric, {})
        rows.append([escape(meta.get("title") or metric), escape(value_text(peak["value"], meta)),
                     local(peak.get("ts"), zone), f"{peak.get('samples', 0):,}"])
    parts.append(f"<h3>{escape(word(loc, 'peaks'))}</h3>")
    parts.append(table([word(loc, k) for k in ("metric", "worst", "at", "samples")], rows, {1, 3}))
    lasts = a.outcome.get("finals", {})
    finals = [(m, lasts[m]) for m in metrics if m in lasts and (not kpi or m != kpi["metric"])]
    if finals:
        rows = [[escape(metrics.get(m, {}).get("title") or m), escape(value_text(v["value"], metrics.get(m, {}))),
                 local(v.get("ts"), zone), f"{v.get('samples', 0):,}"] for m, v in finals]
        parts.append(f"<h3>{escape(word(loc, 'counters'))}</h3>")
        parts.append(table([word(loc, k) for k in ("metric", "last", "at", "samples")], rows, {1, 3}))
    return "".join(parts)


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
        by = word(loc, "by_warroom") if s.done_by == "warroom" else s.done_by or "—"
        rows.append([escape(s.action), escape(s.owner), local(s.planned, zone), local(s.done_at, zone),
                     escape(by), late])
    cols = [word(loc, k) for k in ("action", "step_owner", "planned", "done", "by", "late")]
    return f"<h2>{escape(word(loc, 'runsheet'))}</h2>" + table(cols, rows)


def collectors_html(a: Answers, loc: str, zone: str) -> str:
    """Polls, failures, the longest gap and the commonest reasons of each collector."""
    rows = []
    for c in a.collectors:
        gap = f"{format_duration(c['longest_gap_s'], loc)} ({local(c['gap_ended_at'], zone)})" \
            if c.get("longest_gap_s") else "—"
        reasons = "<br>".join(f"{r['count']}× {escape(r['error'] or '')}" for r in c.get("reasons", [])) or "—"
        failed = f'<span class="miss">{c["failed"]}</span>' if c["failed"] else "0"
        rows.append([escape(c["collector"]), str(c["polls"]), failed, gap,
                     f"{c['p50_duration_s']:.2f} s / {c['max_duration_s']:.2f} s", reasons])
    cols = [word(loc, k) for k in ("collector", "polls", "failed", "gap", "duration", "reasons")]
    return f"<h2>{escape(word(loc, 'collectors'))}</h2>" + table(cols, rows, {1, 2})


def decisions_html(a: Answers, loc: str, zone: str) -> str:
    """The whole decision log of the window."""
    def who(n: dict[str, Any]) -> str:
        via = (n.get("via") or "").split(":")[0]
        return escape(n.get("author") or "—") + (f" · {escape(word(loc, 'via.' + via))}" if via else "")

    rows = [[local(n["ts"], zone), who(n),
             escape(word(loc, f"kind_{n['kind']}") if n.get("kind") in DECISION_KINDS else n.get("kind") or "—"),
             escape(n.get("text") or "")] for n in a.annotations]
    cols = [word(loc, k) for k in ("at", "who", "kind", "what")]
    return f"<h2>{escape(word(loc, 'decisions'))}</h2>" + table(cols, rows)


def report_html(a: Answers, locale: str | None = None, source: str = "", generated: datetime | None = None,
                progress: Callable[[str], None] = lambda _: None) -> str:
    """The whole report; `progress` is called once per section and per metric chart."""
    loc = locale or a.config.get("campaign", {}).get("locale") or "en"
    zone = a.campaign.get("timezone") or "UTC"
    name = a.campaign.get("name") or ""
    stamp = (generated or datetime.now(ZoneInfo(zone))).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    sections = [f"<h1>{escape(word(loc, 'title'))} · {escape(name)}</h1>"
                f'<div class="meta">{escape(word(loc, "window"))}: {local(a.start, zone, True)} – '
                f'{local(a.end, zone, True)} ({escape(zone)}) · {escape(word(loc, "generated"))} {stamp}'
                + (f" · {escape(word(loc, 'file'))} {escape(source)}" if source else "") + "</div>"]
    sections.append(outcome_html(a, loc, zone))
    progress("outcome")
    facts = facts_of(a)
    sections.append(alerts_html(a, loc, zone, facts))
    progress("alerts")
    sections.append(reached_html(a, loc, zone))
    progress("reached")
    sections.append(health_html(a, loc, zone, facts))
    progress("health")
    health = health_metrics(a.config)
    charts = []
    for metric in sorted(a.config.get("metrics", {}), key=lambda m: m in health):  # the monitoring box's own last
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
