"""Alerts and run sheet steps → printable lines (pure): who decides, how old, acked or escalated to whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.labels import level_word, role_word, text
from app.tiles import ACCENT, ON_ACCENT, format_duration, format_value, local_time, parse_ts

LEVEL_RANK = {"green": 0, "yellow": 1, "orange": 2, "red": 3}


@dataclass(frozen=True)
class AlertLine:
    """One alert as the strip and the alerts page print it."""

    id: Any
    level: str
    word: str
    accent: str
    on_accent: str
    title: str
    owner: str
    age_text: str
    status: str
    acked: bool
    escalated: bool
    delivery_failed: bool
    silenced: bool


def person_text(person: dict[str, Any] | None, locale: str | None, phone: bool = True) -> str:
    """'name · role word · phone' of an owner dict from the API."""
    if not person:
        return "—"
    parts = [person.get("name") or "", role_word(locale, person.get("role")),
             (person.get("phone") or "") if phone else ""]
    # Seed names already carry the role ("张伟 · 技术负责人"); do not print it twice.
    if parts[1] and parts[1] in parts[0]:
        parts[1] = ""
    return " · ".join(p for p in parts if p)


def alert_line(alert: dict[str, Any], locale: str | None, now: datetime) -> AlertLine:
    """The alert's level and the person who must act on it now (the engine's `acting`); the rest is secondary.

    The arrow points at whoever is being paged now (the decider, or whoever it was escalated to); the one
    who did not answer before them is small text in the status, never the arrow.
    """
    level = alert.get("level") if alert.get("level") in LEVEL_RANK else (alert.get("peak_level") or "yellow")
    acting = alert.get("acting") or {}
    responsible = ({"role": acting.get("role"), "name": acting.get("name"), "phone": acting.get("phone")}
                   if acting else alert.get("decider", alert.get("owner")))
    opened = parse_ts(alert.get("opened_at"))
    age = (now - opened).total_seconds() if opened else None
    state = alert.get("state", "open")
    parts = []
    if state == "resolved":
        parts.append(text(locale, "alert.resolved"))
    elif alert.get("recovering") or level == "green":
        parts.append(text(locale, "alert.recovering", peak=level_word(locale, alert.get("peak_level") or "yellow")))
    elif alert.get("acked_by"):
        # The person who took it, by name (a stand-in's own), not only their role.
        who = person_text(alert.get("acked_by_person"), locale, phone=False) if alert.get("acked_by_person") else \
            role_word(locale, alert["acked_by"])
        parts.append(text(locale, "alert.acked", who=who))
    else:
        parts.append(text(locale, "alert.open"))
    missed = missed_text(acting, locale) if state != "resolved" else ""
    if missed:
        parts.append(missed)
    if alert.get("nobody_left") and state == "open":
        parts.append(text(locale, "alert.nobody_left"))
    word = level_word(locale, level)
    if alert.get("kind") == "no_data":
        word = f"{word} · {text(locale, 'alert.no_data')}"
    return AlertLine(
        id=alert.get("id"), level=level, word=word, accent=ACCENT.get(level, ACCENT["stale"]),
        on_accent=ON_ACCENT.get(level, ON_ACCENT["stale"]), title=alert.get("title") or alert.get("metric", ""),
        owner=person_text(responsible, locale), age_text=format_duration(age, locale), status=" · ".join(parts),
        acked=bool(alert.get("acked_by")), escalated=bool(alert.get("escalated_to")),
        delivery_failed=bool(alert.get("delivery_failed")), silenced=bool(alert.get("silenced")),
    )


def missed_text(acting: dict[str, Any], locale: str | None) -> str:
    """'张伟 5分内未确认' / 'page to 张伟 not delivered', or '' when nobody was asked before."""
    missed = acting.get("missed") or {}
    if not missed:
        return ""
    name = missed.get("name") or role_word(locale, missed.get("role"))
    if missed.get("why") == "not_delivered":
        return text(locale, "decision.not_delivered", who=name)
    after = missed.get("after_s")
    if isinstance(after, int | float) and after >= 60 and after % 60 == 0:
        # "5分钟内" / "within 5 min": an ack timeout is a round number, "5分00秒" reads like a stopwatch.
        words = text(locale, "unit.minutes", n=int(after // 60))
    else:
        words = format_duration(after, locale)
    return text(locale, "decision.missed", who=name, after=words)


def value_text(alert: dict[str, Any], tile: dict[str, Any] | None, locale: str | None) -> str:
    """The alert's latest value against the threshold of its level, e.g. '18.15 s · threshold ≥ 15 s'."""
    tile = tile or {}
    unit, decimals = tile.get("unit") or "", int(tile.get("decimals", 1))
    sep = "" if unit in ("%", "") else " "
    value = format_value(alert.get("value"), decimals)
    if alert.get("threshold") is None:
        return text(locale, "alert.value_only", value=f"{value}{sep}{unit}")
    op = "≤" if tile.get("direction") == "below" else "≥"
    return text(locale, "alert.value", value=f"{value}{sep}{unit}",
                threshold=f"{op} {format_value(alert['threshold'], decimals)}{sep}{unit}")


def room_rank(alert: dict[str, Any]) -> tuple[int, Any]:
    """The engine's place of `alert` in the room's order (`acting.rank`; alerts nobody must act on last)."""
    rank = (alert.get("acting") or {}).get("rank")
    return (rank if isinstance(rank, int) else 1 << 30, -(alert.get("id") or 0))


def strip_order(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """In the room's order, as the engine ranked them (alerts/acting.py): the banner's alert first."""
    return sorted(alerts, key=room_rank)


@dataclass(frozen=True)
class StepLine:
    """One run sheet step: when, what, who, and how long until it is due."""

    index: int
    at_text: str
    action: str
    owner: str
    owner_role: str
    due_text: str
    overdue: bool
    done: bool
    done_text: str
    night: bool = False
    """Demo mode: its times are the demo night's (marked so)."""


def step_line(step: dict[str, Any], locale: str | None, now: datetime, zone: str, demo: bool = False) -> StepLine:
    """A run sheet step with its countdown against `now` (the daemon's clock: the night's in demo mode)."""
    at = parse_ts(step.get("at"))
    until = (at - now).total_seconds() if at else float(step.get("seconds_until") or 0.0)
    done_at = parse_ts(step.get("done_at"))
    done = bool(step.get("done"))
    owner = step.get("owner") or {}
    if until >= 0:
        due = text(locale, "runsheet.due_in", t=format_duration(until, locale))
    else:
        due = text(locale, "runsheet.overdue", t=format_duration(-until, locale))
    done_text = ""
    if done and str(step.get("done_via") or "").startswith("wall:"):
        done_text = text(locale, "runsheet.done_at_wall", at=local_time(done_at, zone))
    elif done:
        # the person who marked it when known (signed in), else the role's words
        who = step.get("done_by_name") or role_word(locale, step.get("done_by")) or "?"
        done_text = text(locale, "runsheet.done_by", who=who, at=local_time(done_at, zone))
    return StepLine(index=int(step.get("index", 0)), at_text=local_time(at, zone), action=step.get("action", ""),
                    owner=person_text(owner, locale), owner_role=owner.get("role") or "", due_text=due,
                    overdue=until < 0 and not done, done=done, done_text=done_text, night=demo)


def next_steps(steps: list[dict[str, Any]], limit: int = 4) -> list[dict[str, Any]]:
    """The steps still to do, in time order, then the most recently done ones to fill `limit`."""
    todo = sorted((s for s in steps if not s.get("done")), key=lambda s: s.get("at") or "")
    done = sorted((s for s in steps if s.get("done")), key=lambda s: s.get("done_at") or "", reverse=True)
    return (todo + done)[:limit]
