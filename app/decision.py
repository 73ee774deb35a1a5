"""The decision banner: who must decide now, at which level, unacknowledged for how long. Pure, no Streamlit.

It reads the alerts exactly as the API gives them (`level` is the alert's current level, `owner` the
person who decides at that level now): the board never recomputes a level or an owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from app.alert_lines import LEVEL_RANK
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
    escalated_to: str
    others: tuple[tuple[str, int], ...] = ()


def decision_view(alerts: list[dict[str, Any]] | None, locale: str | None, now: datetime) -> DecisionView:
    """The highest open level among active alerts, its decider, and how long nobody has acknowledged it."""
    # A recovering alert (back under its lines, waiting to resolve) asks nobody to decide.
    live = [a for a in alerts or [] if a.get("state") != "resolved" and not a.get("recovering")
            and LEVEL_RANK.get(a.get("level") or "", 0) > 0]
    if not live:
        return DecisionView(None, "", "", "", "", None, "", 0, len(alerts or []), "")
    top = max(LEVEL_RANK[a["level"]] for a in live)
    at_top = [a for a in live if LEVEL_RANK[a["level"]] == top]
    waiting = [a for a in at_top if not a.get("acked_by")]
    # The decider of the oldest alert still waiting at the top level; if all are acknowledged, the oldest one's.
    lead = min(waiting or at_top, key=lambda a: _since(a) or "")
    owner = lead.get("owner") or {}
    unacked = None
    if waiting:
        # Since the alert reached this level: an acknowledgement holds for its level, a rise asks again.
        opened = parse_ts(_since(lead))
        unacked = max(0.0, (now - opened).total_seconds()) if opened else None
    escalated = lead.get("escalated_to") or {}
    # Per-metric owners can put two people at the same level (the host's CPU is the technical lead's):
    # the banner names the first and says who else decides there, never hides them.
    counts: dict[str, int] = {}
    for a in at_top:
        name = (a.get("owner") or {}).get("name") or "—"
        if name != (owner.get("name") or "—"):
            counts[name] = counts.get(name, 0) + 1
    return DecisionView(
        level=lead["level"], word=level_word(locale, lead["level"]), name=owner.get("name") or "—",
        role=role_word(locale, owner.get("role")), phone=owner.get("phone") or "", unacked_s=unacked,
        acked_by="" if waiting else role_word(locale, lead.get("acked_by")), count=len(at_top), total=len(live),
        escalated_to=escalated.get("name") or "", others=tuple(counts.items()),
    )


def _since(alert: dict[str, Any]) -> str | None:
    return alert.get("level_since") or alert.get("opened_at")


def decision_html(view: DecisionView, locale: str | None, compact: bool = False) -> str:
    """The banner under the header: loud while someone must decide, one quiet line when all is well."""
    cls = "wr-decision" + (" wr-decision-phone" if compact else "")
    if view.level is None:
        return (f'<div class="{cls} wr-decision-quiet" data-decision="none">✓ '
                f'{escape(text(locale, "decision.quiet"))}</div>')
    accent, on_accent = ACCENT[view.level], ON_ACCENT[view.level]
    who = escape(view.name) + (f' <span class="wr-decision-role">{escape(view.role)}</span>'
                               if view.role and view.role not in view.name else "")
    if view.unacked_s is not None:
        state = text(locale, "decision.unacked", age=format_duration(view.unacked_s, locale))
        state_cls = "wr-decision-open"
    else:
        state = text(locale, "decision.acked", who=view.acked_by)
        state_cls = "wr-decision-acked"
    count = text(locale, "decision.count", n=view.count) if view.count == view.total else \
        text(locale, "decision.count_of", n=view.count, total=view.total)
    escalated = (f' · {escape(text(locale, "alert.escalated", who=view.escalated_to))}' if view.escalated_to else "")
    escalated += "".join(f' · {escape(text(locale, "decision.also", who=who, n=n))}' for who, n in view.others)
    phone = f'<span class="wr-decision-phone-no">☎ {escape(view.phone)}</span>' if view.phone else ""
    return (
        f'<div class="{cls}" data-decision="{view.level}" style="border-color:{accent}">'
        f'<span class="wr-decision-word" style="background:{accent};color:{on_accent}">{escape(view.word)}</span>'
        f'<span class="wr-decision-label">{escape(text(locale, "decision.who"))}</span>'
        f'<span class="wr-decision-name" data-decider="1">{who}</span>{phone}'
        f'<span class="{state_cls}">{escape(state)}</span>'
        f'<span class="wr-decision-count">{escape(count)}{escalated}</span></div>'
    )
