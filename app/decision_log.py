"""The decision log as the board prints it: one row per entry, in the campaign's language. Pure: no Streamlit.

An entry without a level, a role or an alert (a general decision, a stand-in, a run-sheet mark) has
those cells empty, never "None"; the alerts page and the metric detail page print the same rows.
"""

from __future__ import annotations

from typing import Any

from app.labels import level_word, role_word, text, word
from app.tiles import local_time


def where(channel: str | None, locale: str | None) -> str:
    """A page's channel as shown, or where an action came from in words (board, link, API, wall)."""
    if not channel:
        return ""
    kind = channel.split(":", 1)[0]
    return text(locale, f"via.{kind}") if kind in ("board", "link", "api") or channel.startswith("wall:") else channel


def decision_rows(notes: list[dict[str, Any]], locale: str | None, zone: str) -> list[dict[str, str]]:
    """Each decision-log entry as a row of printable cells, empty where the entry says nothing."""
    return [{
        text(locale, "col.time"): local_time(n.get("ts"), zone),
        text(locale, "col.kind"): word(locale, "kind", n.get("kind")),
        text(locale, "col.author"): n.get("author") or "",
        text(locale, "col.role"): role_word(locale, n.get("role")),
        text(locale, "col.via"): where(n.get("via"), locale),
        text(locale, "col.level"): level_word(locale, n["level"]) if n.get("level") else "",
        text(locale, "col.alert"): f"#{n['alert_id']}" if n.get("alert_id") is not None else "",
        text(locale, "col.text"): n.get("text") or "",
    } for n in notes]


def own_marks(notes: list[dict[str, Any]], alert_ids: set[Any], metric: str,
              silences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries that belong on one metric's chart: about its own alerts, or silencing it (or every metric).

    A stand-in, a run-sheet mark, a general decision or another metric's silence is the night's, not this
    metric's: it stays in the decision log and on the replay's timeline.
    """
    silencing = {f"silence:{s.get('id')}" for s in silences if s.get("metric") in (None, "", metric)}
    return [n for n in notes if (n.get("alert_id") is not None and n.get("alert_id") in alert_ids)
            or n.get("ref") in silencing]
