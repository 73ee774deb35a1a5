"""HTML of the wall's panels (header, banner, tiles, alerts strip, run sheet steps); pure string building.

One st.html per panel per refresh is a few hundred bytes each; every text from the config or the
API is escaped (names and actions are free text written by people).
"""

from __future__ import annotations

from html import escape
from typing import Any

from app.alert_lines import AlertLine, StepLine
from app.labels import role_word, text
from app.tiles import KpiView, TileView, local_time

STRIP_MAX = 6


def header_html(name: str, countdown: str, countdown_note: str, clock_text: str, kpi: KpiView | None,
                locale: str | None, mark: str = "", record: str = "", at: str = "", node: str = "",
                ha: str = "") -> str:
    """Campaign name and clock (with `mark`, e.g. the demo's, and `record` when the disk stopped taking the record),
    the countdown, and orders against the KPI.

    `at` is the moment of the board answer drawn (`data-at`): a wall and its replay can be lined up by it;
    `node` names the node it came from when the board reads one of several; `ha` says HA is degraded.
    """
    kpi_html = ""
    if kpi is not None:
        colour = "#2fbf71" if kpi.on_track else "#f5c518"
        kpi_html = (
            f'<div class="wr-kpi" data-kpi="1"><div class="wr-kpi-line"><span>{escape(kpi.title)}</span>'
            f'<span><span class="wr-kpi-value">{escape(kpi.value_text)}</span> / {escape(kpi.target_text)}'
            f' · {escape(kpi.percent_text)}</span></div>'
            f'<div class="wr-bar"><div style="width:{kpi.progress * 100:.1f}%;background:{colour}"></div></div>'
            f'<div class="wr-kpi-line wr-kpi-gap" data-kpi-gap="1"><span><b>{escape(kpi.gap_text)}</b>'
            f'{" · " if kpi.gap_text and kpi.projection_text else ""}'
            f'<span style="color:{colour}">{escape(kpi.projection_text)}</span></span></div></div>'
        )
    return (
        f'<div class="wr-header" data-at="{escape(at)}"><div class="wr-name">{escape(name)}'
        f'<div class="wr-clock">{escape(clock_text)}{demo_mark_html(mark)}{node_mark_html(node, locale)}'
        f'{ha_mark_html(ha)}{record_mark_html(record)}</div></div>'
        f'<div class="wr-countdown" data-countdown="1">{escape(countdown)}<small>{escape(countdown_note)}</small></div>'
        f"{kpi_html}</div>"
    )


def demo_mark_html(mark: str) -> str:
    """The small mark saying a time is the demo night's, not the real clock's."""
    if not mark:
        return ""
    return (f'<span class="wr-demo" data-demo="1" style="font-size:0.7em;border:1px solid #8b95a3;'
            f'border-radius:4px;padding:0 5px;margin-left:8px;color:#c9d1d9">{escape(mark)}</span>')


def node_mark_html(node: str, locale: str | None) -> str:
    """The small grey words saying which node the board reads ("via node-b"), when it reads one of several."""
    if not node:
        return ""
    return (f'<span class="wr-node" data-node="{escape(node, quote=True)}" style="color:#8b95a3;'
            f'margin-left:10px">{escape(text(locale, "header.via", node=node))}</span>')


def ha_mark_html(message: str) -> str:
    """The amber mark saying HA is degraded (paging goes on): small, inline, never the decision banner's place."""
    if not message:
        return ""
    return ('<span class="wr-ha" data-ha="degraded" style="font-size:1em;background:#f5a524;color:#1a1a1a;'
            f'border-radius:4px;padding:1px 8px;margin-left:10px;font-weight:600">⚠ {escape(message)}</span>')


def record_mark_html(message: str) -> str:
    """The red mark saying the record has a hole (a full disk); inline, so the header keeps its height."""
    if not message:
        return ""
    return ('<span class="wr-record" data-record="incomplete" style="font-size:1.25em;background:#d7263d;color:#fff;'
            f'border-radius:4px;padding:2px 10px;margin-left:12px;font-weight:700">⚠ {escape(message)}</span>')


def banner_html(message: str, reason: str | None, locale: str | None) -> str:
    """The loud banner shown while the daemon cannot be reached."""
    extra = f"<small>{escape(text(locale, 'banner.reason', reason=reason))}</small>" if reason else ""
    return f'<div class="wr-banner" data-banner="down">⚠ {escape(message)}{extra}</div>'


def tile_style(view: TileView, slot: int) -> str:
    """The CSS rule that tints a whole tile container (sparkline included) with its level."""
    return f".st-key-wr-tile-{slot}{{background:{view.background};border-color:{view.accent}}}"


def styles_html(rules: list[str]) -> str:
    """A style-only st.html body (Streamlit keeps <style> only when it is the whole body)."""
    return f"<style>{''.join(rules)}</style>"


def tile_html(view: TileView, locale: str | None, compact: bool = False) -> str:
    """One tile's text part: title, value with unit, level word, the decider (28 px), phone and data age."""
    owner = phone = ""
    if view.owner is not None:
        role = f" · {view.owner.role}" if view.owner.role and view.owner.role not in view.owner.name else ""
        label = "" if compact else f"<small>{escape(text(locale, 'decides'))}</small>"
        owner = f"{label}{escape(view.owner.name + role)}"
        phone = f"☎ {view.owner.phone}" if view.owner.phone else ""
    reason = f'<div class="wr-reason">{escape(view.reason)}</div>' if view.reason else ""
    word = f'<span class="wr-word" style="background:{view.accent};color:{view.on_accent}">{escape(view.word)}</span>'
    value = (f'<span class="wr-value">{escape(view.value_text)}<span class="wr-unit">{escape(view.unit)}</span>'
             f"</span>")
    opening = (f'<div class="wr-tile wr-{view.level}{" wr-stale" if view.stale else ""}'
               f'{" wr-compact" if compact else ""}" data-metric="{escape(view.metric)}" data-level="{view.level}">')
    if compact:
        # A narrow tile: the title may take two lines, and only the person's name is 28 px; the role
        # ("张伟 · 技术负责人" carries it) moves to the small line, so nothing is cut mid-word.
        small = view.age_text
        if view.owner is not None:
            name, _, rest = view.owner.name.partition(" · ")
            owner = escape(name)
            small = " · ".join(p for p in (rest or view.owner.role, view.age_text) if p)
        return (f'{opening}<div class="wr-head"><div class="wr-title">{escape(view.title)}</div></div>'
                f'<div class="wr-row">{value}{word}</div><div class="wr-owner" data-owner="1">{owner}</div>'
                f'<div class="wr-age">{escape(small)}</div>{reason}</div>')
    return (
        f'{opening}<div class="wr-title">{escape(view.title)}</div><div class="wr-row">{value}{word}</div>'
        f'<div class="wr-owner" data-owner="1">{owner}</div>'
        f'<div class="wr-meta"><span>{escape(phone)}</span><span class="wr-age">{escape(view.age_text)}</span></div>'
        f"{reason}</div>"
    )


def health_html(views: list[TileView], locale: str | None) -> str:
    """The machines' own health (e.g. this host's CPU): a small row apart from the business tiles."""
    if not views:
        return ""
    rows = [
        f'<div class="wr-health" data-health="{escape(v.metric)}" data-level="{v.level}"'
        f' style="background:{v.background};border-left-color:{v.accent}"><span>{escape(v.title)}</span>'
        f'<span><b>{escape(v.value_text)}</b>{escape(v.unit)} '
        f'<span class="wr-word" style="background:{v.accent};color:{v.on_accent}">{escape(v.word)}</span></span></div>'
        for v in views
    ]
    return f'<div class="wr-health-title">{escape(text(locale, "health.title"))}</div>{"".join(rows)}'


def chip_html(line: AlertLine, locale: str | None, show_id: bool = False) -> str:
    """One alert as a two-line chip: level word, metric and age; then owner and ack/escalation state."""
    fail = (f' <span class="wr-fail">⚠ {escape(text(locale, "alert.delivery_failed"))}</span>'
            if line.delivery_failed else "")
    silenced = f' · {escape(text(locale, "alert.silenced"))}' if line.silenced else ""
    ident = f"#{escape(str(line.id))} " if show_id else ""
    return (
        f'<div class="wr-chip{" wr-chip-fail" if line.delivery_failed else ""}" data-alert="{escape(str(line.id))}"'
        f' data-level="{line.level}" style="border-left-color:{line.accent}">'
        f'<div><span class="wr-age">{escape(line.age_text)}</span>'
        f'<span class="wr-word" style="background:{line.accent};color:{line.on_accent}">{escape(line.word)}</span>'
        f"<b>{ident}{escape(line.title)}</b></div>"
        f"<div>{fail} → {escape(line.owner)} · {escape(line.status)}{silenced}</div></div>"
    )


def strip_html(lines: list[AlertLine], locale: str | None, unavailable: bool = False,
               banner: str = "") -> str:
    """The active alerts strip (or the unreachable banner in its place), always the same height."""
    if banner:
        return f'<div class="wr-strip" data-alerts="unknown">{banner}</div>'
    if unavailable:
        return f'<div class="wr-strip"><div class="wr-strip-empty" data-alerts="unavailable">' \
               f'{escape(text(locale, "alerts.unavailable"))}</div></div>'
    if not lines:
        return f'<div class="wr-strip"><div class="wr-strip-empty" data-alerts="none">' \
               f'✓ {escape(text(locale, "alerts.none"))}</div></div>'
    shown = lines if len(lines) <= STRIP_MAX else lines[:STRIP_MAX - 1]
    chips = [chip_html(line, locale) for line in shown]
    if len(lines) > len(shown):
        chips.append(f'<div class="wr-chip" style="border-left-color:#8b95a3"><div>'
                     f'{escape(text(locale, "alerts.more", n=len(lines) - len(shown)))}</div></div>')
    return f'<div class="wr-strip" data-alerts="{len(lines)}">{"".join(chips)}</div>'


def step_html(line: StepLine, locale: str | None) -> str:
    """One run sheet step card: time and countdown, action, owner, done mark."""
    cls = "wr-step" + (" wr-step-done" if line.done else "") + (" wr-step-overdue" if line.overdue else "")
    right = escape(line.done_text or line.due_text)
    return (
        f'<div class="{cls}" data-step="{line.index}"><div class="wr-step-head"><span>{escape(line.at_text)}'
        f'{demo_mark_html(text(locale, "demo.mark") if line.night else "")}</span>'
        f"<span>{right}</span></div><div class=\"wr-step-action\">{escape(line.action)}</div>"
        f'<div class="wr-step-owner">{escape(line.owner)}</div></div>'
    )


def handover_html(handover: dict[str, Any], locale: str | None, zone: str) -> str:
    """A shift change of the next hour, under the run sheet: "02:00 李娜 接替 张伟 任技术负责人"."""
    words = text(locale, "runsheet.handover", at=local_time(handover.get("at"), zone, seconds=False),
                 to=handover.get("to", "?"), who=handover.get("from", "?"),
                 role=role_word(locale, handover.get("role")))
    return f'<div class="wr-step wr-handover" data-handover="{escape(str(handover.get("role")))}">{escape(words)}</div>'


def sheet_title_html(locale: str | None, note: str = "") -> str:
    """The run sheet panel's heading, with an optional note (unavailable, read-only)."""
    extra = f'<div class="wr-note">{escape(note)}</div>' if note else ""
    return f'<div class="wr-sheet-title">{escape(text(locale, "runsheet.title"))}</div>{extra}'
