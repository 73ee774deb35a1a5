"""The light phone view: the decision banner and one person's alerts, readable 390 px wide. Pure HTML.

No sparklines, no tiles: a phone on a mobile network gets a few KB per refresh.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from app.alert_lines import alert_line, strip_order, value_text
from app.decision import decision_html, decision_view
from app.labels import text
from app.wall_html import ha_mark_html


def alerts_for(alerts: list[dict[str, Any]] | None, role: str | None) -> list[dict[str, Any]]:
    """The active alerts `role` must act on now or was asked about (decider, escalated to), in the room's order."""
    if not role:
        return strip_order(alerts or [])
    def mine(alert: dict[str, Any]) -> bool:
        return any((alert.get(k) or {}).get("role") == role for k in ("acting", "owner", "escalated_to"))
    return strip_order([a for a in alerts or [] if mine(a)])


def phone_card_html(alert: dict[str, Any], locale: str | None, now: datetime,
                    tile: dict[str, Any] | None = None) -> str:
    """One alert as a card that wraps instead of cutting: level, metric, value against threshold, state.

    The value is printed as the alerts page prints it, with the metric's unit and decimals from its tile.
    """
    line = alert_line(alert, locale, now)
    value = value_text(alert, tile, locale) if alert.get("value") is not None else ""
    fail = (f'<div class="wr-fail">⚠ {escape(text(locale, "alert.delivery_failed"))}</div>'
            if line.delivery_failed else "")
    return (
        f'<div class="wr-phone-card" data-alert="{escape(str(line.id))}" data-level="{line.level}"'
        f' style="border-left-color:{line.accent}"><div class="wr-phone-top">'
        f'<span class="wr-word" style="background:{line.accent};color:{line.on_accent}">{escape(line.word)}</span>'
        f'<span class="wr-age">{escape(line.age_text)}</span></div>'
        f'<div class="wr-phone-title">{escape(line.title)}</div>'
        f'<div class="wr-phone-line">{escape(value)}</div>'
        f'<div class="wr-phone-line">→ {escape(line.owner)}</div>'
        f'<div class="wr-phone-line">{escape(line.status)}</div>{fail}</div>'
    )


def phone_html(alerts: list[dict[str, Any]] | None, alerts_state: str, role: str | None, who: str,
               locale: str | None, now: datetime, tiles: dict[str, dict[str, Any]] | None = None,
               ha: str = "") -> str:
    """Decision banner, then the cards of `role` (or every active alert), newest state first; `tiles` by metric.

    `ha` (app.wall_view.ha_words) says HA is degraded, on the header line as on the wall.
    """
    banner = decision_html(decision_view(alerts, locale, now), locale, compact=True)
    title = text(locale, "phone.title", who=who) if role else text(locale, "phone.all")
    if alerts_state != "ok":
        body = f'<div class="wr-phone-line">{escape(text(locale, "alerts.unknown"))}</div>'
    else:
        mine = alerts_for(alerts, role)
        body = "".join(phone_card_html(a, locale, now, (tiles or {}).get(a.get("metric") or "")) for a in mine) or \
            f'<div class="wr-phone-none" data-phone-none="1">✓ {escape(text(locale, "phone.none"))}</div>'
    return (f'{banner}<div class="wr-phone-head">{escape(title)}{ha_mark_html(ha)}</div>'
            f'<div data-phone-alerts="1">{body}</div>')


def role_links_html(people: dict[str, Any], current: str | None, locale: str | None) -> str:
    """Links to each person's phone view (plain links: a page's link can open one directly)."""
    links = [f'<a class="wr-phone-link{" wr-on" if r == current else ""}" href="?role={escape(r)}" target="_self">'
             f'{escape(p.get("name") or r)}</a>' for r, p in people.items()]
    links.append(f'<a class="wr-phone-link{"" if current else " wr-on"}" href="?" target="_self">'
                 f'{escape(text(locale, "phone.all"))}</a>')
    return f'<div class="wr-phone-head">{escape(text(locale, "phone.pick"))}</div><div>{"".join(links)}</div>'
