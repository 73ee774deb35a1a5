"""Pure: the report's alert sections: the business alerts, who was reached beyond the first person, health alerts."""

from __future__ import annotations

import statistics
from html import escape

from app.tiles import format_duration
from warroom.archive.report.answers import Answers
from warroom.archive.report.facts import AlertFact, Reached, alert_facts, health_metrics, reached, seconds
from warroom.archive.report.parts import badge, local, table
from warroom.archive.report.words import word

LEVEL_RANK = {"green": 0, "yellow": 1, "orange": 2, "red": 3}


def facts_of(a: Answers) -> list[AlertFact]:
    """Every alert of the window, measured once for all sections."""
    return alert_facts(a.alerts, a.annotations, a.config.get("people", {}), a.end, a.silences,
                       a.outcome.get("breaches"), health_metrics(a.config))


def _first_page(f: AlertFact, loc: str, zone: str) -> str:
    """When the target went bad, when warroom knew, when the first page arrived and to whom (or why none did)."""
    times = []
    if f.breach_at and f.breach_at != f.known_at:
        times.append(escape(word(loc, "went_bad", t=local(f.breach_at, zone))))
    times.append(escape(word(loc, "knew", t=local(f.known_at or f.opened_at, zone))))
    if f.first_page_at is not None:
        after = word(loc, "page_after", s=format_duration(f.first_page_s, loc))
        if f.breach_at and f.breach_at != f.known_at:
            after += word(loc, "page_after_bad", s=format_duration(f.breach_page_s, loc))
        line = f"{local(f.first_page_at, zone)} → {escape(f.first_page_to or '')} <span class=meta>({escape(after)})" \
               "</span>"
    elif f.silenced is not None:
        line = (f'<span class="quiet">{escape(word(loc, "silenced_by", by=f.silenced.by))}</span>'
                f'<br><span class="meta">{escape(f.silenced.reason)}</span>')
    else:
        line = f'<span class="miss">{escape(word(loc, "not_delivered"))}</span>'
    if f.failed_pages:
        line += f'<br><span class="miss">{escape(word(loc, "failed_pages", n=f.failed_pages))}</span>'
    return f'<span class="meta">{" · ".join(times)}</span><br>{line}'


def _alert_row(f: AlertFact, loc: str, zone: str) -> list[str]:
    how = f" {escape(word(loc, 'via.' + f.acked_via.split(':')[0]))}" if f.acked_via else ""
    ack = (f"{format_duration(f.ack_s, loc)} · {escape(f.acked_by or '')}{how}" if f.ack_s is not None
           else f'<span class="quiet">{escape(word(loc, "silenced"))}</span>' if f.silenced is not None
           else f'<span class="miss">{escape(word(loc, "never"))}</span>')
    rule = {True: f'<span class="ok">✓ {escape(word(loc, "yes"))}</span>',
            False: f'<span class="miss">✗ {escape(word(loc, "no"))}</span>',
            None: escape(word(loc, "silenced" if f.silenced is not None else "pending"))}[f.rule_met]
    esc = "<br>".join(f"{local(t, zone)} → {escape(who)}" + (f' <span class="meta">{escape(why)}</span>' if why else "")
                      for t, who, why in f.escalations) or "—"
    dec = "<br>".join(f"{local(t, zone)} <b>{escape(who)}</b>: {escape(what)}" for t, who, what in f.decisions) or "—"
    resolved = local(f.resolved_at, zone) if f.resolved_at else escape(word(loc, "still_open"))
    return [f"#{f.id} {escape(f.title)}", badge(f.peak_level, loc), escape(f.owner), _first_page(f, loc, zone), ack,
            rule, esc, dec, resolved]


def alerts_html(a: Answers, loc: str, zone: str, facts: list[AlertFact]) -> str:
    """The business alerts, slowest response first, with the 5-minute rule met or missed (silenced ones apart)."""
    business = [f for f in facts if not f.health]
    head = f"<h2>{escape(word(loc, 'alerts'))}</h2>"
    if not business:
        return head + f'<p data-alerts="0">{escape(word(loc, "no_alerts"))}</p>'
    acks = [f.ack_s for f in business if f.ack_s is not None]
    median = format_duration(statistics.median(acks), loc) if acks else word(loc, "never")
    judged = [f for f in business if f.rule_met is not None]
    summary = word(loc, "alerts_summary", n=len(business), met=sum(f.rule_met is True for f in judged),
                   judged=len(judged), median=median)
    silenced = sum(f.silenced is not None for f in business)
    if silenced:
        summary += word(loc, "silenced_count", n=silenced)
    cols = [word(loc, k) for k in ("metric", "level", "owner", "first_page", "ack", "rule", "escalations", "decided",
                                   "resolved")]
    rows = [_alert_row(f, loc, zone) for f in business]
    return head + f'<p data-alerts="{len(business)}">{escape(summary)}</p>' + table(cols, rows)


def reached_html(a: Answers, loc: str, zone: str) -> str:
    """Every time the night reached past the first person: escalations, deputies, stand-ins, nobody left."""
    people = a.config.get("people", {})
    rows = reached(a.alerts, a.outcome.get("stand_ins") or [], people, health_metrics(a.config))
    head = f"<h2>{escape(word(loc, 'reached'))}</h2>"
    if not rows:
        return head + f"<p>{escape(word(loc, 'no_reached'))}</p>"
    counts = {k: sum(r.kind == k for r in rows) for k in ("escalated", "deputy", "stand_in", "nobody_left")}
    counts["stand_in"] += sum(r.kind == "stand_in_end" for r in rows)
    summary = " · ".join(word(loc, f"reached_{k}", n=n) for k, n in counts.items() if n)

    def line(r: Reached) -> list[str]:
        what = f'<span class="miss">{escape(word(loc, r.kind))}</span>' if r.kind == "nobody_left" \
            else escape(word(loc, r.kind))
        quiet = f' <span class="quiet">({escape(word(loc, "silenced_not_paged"))})</span>' if r.silenced else ""
        if r.kind in ("stand_in", "stand_in_end"):
            quiet = escape(word(loc, "stand_in_for", role=r.what, by=r.by)) + (
                escape(word(loc, "until", t=local(r.until, zone))) if r.until else "")
            return [local(r.at, zone), what, f"<b>{escape(r.who)}</b>", quiet]
        return [local(r.at, zone), what, f"<b>{escape(r.who)}</b>", escape(r.what) + quiet]

    cols = [word(loc, k) for k in ("at", "kind", "who", "what")]
    return head + f'<p data-reached="{len(rows)}">{escape(summary)}</p>' + table(cols, [line(r) for r in rows])


def health_html(a: Answers, loc: str, zone: str, facts: list[AlertFact]) -> str:
    """The monitoring machines' own alerts: one line per metric, apart from the business alerts."""
    health = [f for f in facts if f.health]
    if not health:
        return ""
    metrics = a.config.get("metrics", {})
    rows = []
    for metric in sorted({f.metric for f in health}):
        mine = [f for f in health if f.metric == metric]
        open_s = sum(seconds(f.opened_at, f.resolved_at or a.end) or 0.0 for f in mine)
        peak = max((f.peak_level for f in mine), key=lambda lv: LEVEL_RANK.get(lv, 0))
        paged = sorted({f.first_page_to for f in mine if f.first_page_to})
        silences = sorted({(f.silenced.by, f.silenced.reason) for f in mine if f.silenced is not None})
        silenced = str(sum(f.silenced is not None for f in mine)) + "".join(
            f'<br><span class="meta">{escape(by)}: {escape(why)}</span>' for by, why in silences)
        rows.append([escape((metrics.get(metric) or {}).get("title") or metric), str(len(mine)),
                     escape(format_duration(open_s, loc)), badge(peak, loc), silenced,
                     escape(", ".join(paged) or "—"), local(min(f.opened_at for f in mine), zone)])
    cols = [word(loc, k) for k in ("metric", "count", "open_for", "level", "silenced_n", "paged", "first")]
    intro = word(loc, "health_summary", n=len(health))
    return (f"<h2>{escape(word(loc, 'health'))}</h2><p data-health-alerts=\"{len(health)}\">{escape(intro)}</p>"
            + table(cols, rows, {1, 4}))
