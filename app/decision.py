"""The decision banner: who the room is waiting for now, at which level, since their page arrived. Pure.

It reads who must act on each alert exactly as the daemon's engine answered it (`acting` of each alert
in `/api/v1/alerts`, alerts/acting.py): the person being paged now (the decider, or whoever it was
escalated to, a deputy, a stand-in), since when, who did not answer before them, and `acting.rank`,
the room's order. The board never recomputes a level, a person or an order: the first alert the
engine lets take the banner (a business alert, not silenced) is the banner's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from app.alert_lines import missed_text, room_rank
from app.labels import level_word, role_word, text
from app.tiles import ACCENT, ON_ACCENT, format_duration, parse_ts


@dataclass(frozen=True)
class DecisionView:
    """The banner's content; `level` is None when nothing is open (the quiet banner)."""

    level: str | None
    word: str
    name: str
    role: str
    phone: str
    unacked_s: float | None
    acked_by: str
    count: int
    total: int
    missed: str = ""
    """Who did not answer before the person named ("张伟 5分内未确认"), small under the big name."""
    others: tuple[tuple[str, int], ...] = ()
    paging: bool = False
    """Their page is still on its way: nothing to count yet."""
    nobody_left: bool = False
    aside: int = 0
    """Open alerts that never take the banner (health row, silenced)."""
    alert_id: Any = None
    acting_role: str = ""


def acting_of(alert: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer of who must act on `alert` now ({} when nobody must)."""
    return alert.get("acting") or {}


def decision_view(alerts: list[dict[str, Any]] | None, locale: str | None, now: datetime) -> DecisionView:
    """The first alert in the room's order that may take the banner: its level, who acts, waiting since when."""
    active = [a for a in alerts or [] if a.get("state") != "resolved" and acting_of(a)]
    live = [a for a in active if acting_of(a).get("banner")]
    if not live:
        return DecisionView(None, "", "", "", "", None, "", 0, 0, aside=len(active))
    lead = min(live, key=room_rank)
    acting = acting_of(lead)
    at_top = [a for a in live if a.get("level") == lead.get("level")]
    waiting = bool(acting.get("waiting"))
    since = parse_ts(acting.get("since"))
    unacked = max(0.0, (now - since).total_seconds()) if waiting and since is not None else None
    # Two people can hold alerts at one level (the pool's yellow is the DBA's): name the first, count the others.
    counts: dict[str, int] = {}
    for a in at_top:
        name = acting_of(a).get("name") or "—"
        if name != (acting.get("name") or "—"):
            counts[name] = counts.get(name, 0) + 1
    return DecisionView(
        level=lead["level"], word=level_word(locale, lead["level"]), name=acting.get("name") or "—",
        role=role_word(locale, acting.get("role")), phone=acting.get("phone") or "", unacked_s=unacked,
        acked_by="" if waiting else (acting.get("name") or role_word(locale, acting.get("role"))),
        count=len(at_top), total=len(live), missed=missed_text(acting, locale), others=tuple(counts.items()),
        paging=waiting and since is None, nobody_left=bool(acting.get("nobody_left")),
        aside=len(active) - len(live), alert_id=lead.get("id"), acting_role=acting.get("role") or "",
    )


def decision_html(view: DecisionView, locale: str | None, compact: bool = False) -> str:
    """The banner under the header: loud while someone must decide, one quiet line when all is well."""
    cls = "wr-decision" + (" wr-decision-phone" if compact else "")
    if view.level is None:
        aside = f' · {escape(text(locale, "decision.aside", n=view.aside))}' if view.aside else ""
        return (f'<div class="{cls} wr-decision-quiet" data-decision="none">✓ '
                f'{escape(text(locale, "decision.quiet"))}{aside}</div>')
    accent, on_accent = ACCENT[view.level], ON_ACCENT[view.level]
    who = escape(view.name) + (f' <span class="wr-decision-role">{escape(view.role)}</span>'
                               if view.role and view.role not in view.name else "")
    if view.paging:
        state, state_cls = text(locale, "decision.paging"), "wr-decision-open"
    elif view.unacked_s is not None:
        state = text(locale, "decision.unacked", age=format_duration(view.unacked_s, locale))
        state_cls = "wr-decision-open"
    else:
        state = text(locale, "decision.acked", who=view.acked_by)
        state_cls = "wr-decision-acked"
    count = text(locale, "decision.count", n=view.count) if view.count == view.total else \
        text(locale, "decision.count_of", n=view.count, total=view.total)
    small = [view.missed] if view.missed else []
    small += [text(locale, "alert.nobody_left")] if view.nobody_left else []
    missed = (f'<span class="wr-decision-missed" data-missed="1">{escape(" · ".join(small))}</span>'
              if small else "")
    # Who else holds alerts at this level is the count's business, never mixed into "did not answer".
    count += "".join(f' · {text(locale, "decision.also", who=who_, n=n)}' for who_, n in view.others)
    phone = f'<span class="wr-decision-phone-no">☎ {escape(view.phone)}</span>' if view.phone else ""
    return (
        f'<div class="{cls}" data-decision="{view.level}" data-banner-alert="{escape(str(view.alert_id))}"'
        f' data-role="{escape(view.acting_role)}" style="border-color:{accent}">'
        f'<span class="wr-decision-word" style="background:{accent};color:{on_accent}">{escape(view.word)}</span>'
        f'<span class="wr-decision-label">{escape(text(locale, "decision.who"))}</span>'
        f'<span class="wr-decision-name" data-decider="1">{who}</span>{phone}'
        f'<span class="{state_cls}">{escape(state)}</span>'
        f'<span class="wr-decision-count">{missed}{escape(count)}</span></div>'
    )
