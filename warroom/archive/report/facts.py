"""Pure: the numbers the report states, computed from the API's answers (no I/O).

Times are read as the record stamped them (in demo mode the night's own), never shifted for display.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The seed's rule: an on-duty team must respond to a fault alarm within 5 minutes.
RESPONSE_RULE_S = 300.0


def ts(value: str | None) -> datetime | None:
    """An API time, or None."""
    return datetime.fromisoformat(value) if value else None


def seconds(a: str | None, b: str | None) -> float | None:
    """b - a in seconds, or None when either is missing."""
    ta, tb = ts(a), ts(b)
    return (tb - ta).total_seconds() if ta and tb else None


def health_metrics(config: dict[str, Any]) -> set[str]:
    """The monitoring machines' own numbers: a metric with a `group`, or in a wall's health row."""
    walls = config.get("walls") or {}
    return {m for m, spec in (config.get("metrics") or {}).items() if spec.get("group")} | \
        {m for wall in walls.values() for m in wall.get("health") or []}


@dataclass(frozen=True)
class Silenced:
    """Why an alert's pages were held back: the silence in force, by whom, why."""

    by: str
    reason: str
    until: str | None


@dataclass(frozen=True)
class AlertFact:
    """One alert, measured: how long it took to reach and hear from someone who could decide."""

    id: int
    metric: str
    title: str
    kind: str
    peak_level: str
    owner: str
    opened_at: str
    breach_at: str | None
    """When the target went bad as far as warroom can tell: the start of the poll that first found it over a line."""
    known_at: str | None
    """When warroom knew: that poll's end (the sample's stamp); the alert opens then or after its pending time."""
    first_page_at: str | None
    first_page_to: str | None
    ack_s: float | None
    acked_by: str | None
    acked_via: str | None
    """Where the acknowledgement came from: link | board | api (the event's channel), None before version 3."""
    rule_met: bool | None
    """True or False; None while an unacknowledged alert is younger than 5 minutes at the report's end, or silenced."""
    escalations: list[tuple[str, str, str]]
    """(when, to whom, why)."""
    decisions: list[tuple[str, str, str]]
    resolved_at: str | None
    failed_pages: int
    silenced: Silenced | None
    health: bool

    @property
    def first_page_s(self) -> float | None:
        """From when warroom knew to the first page delivered."""
        return seconds(self.known_at or self.opened_at, self.first_page_at)

    @property
    def breach_page_s(self) -> float | None:
        """From when the target went bad to the first page delivered."""
        return seconds(self.breach_at or self.known_at or self.opened_at, self.first_page_at)


def _silence(alert: dict[str, Any], events: list[dict[str, Any]], silences: list[dict[str, Any]]) -> Silenced | None:
    """The silence that held this alert's pages back (none when a page was delivered before it)."""
    held = next((e for e in events if e["event"] == "silenced"), None)
    if held is None:
        return None
    moment = ts(held["ts"])
    for s in silences:
        if (s.get("metric") in (None, alert["metric"]) and ts(s["starts_at"]) <= moment < ts(s["ends_at"])):
            return Silenced(s.get("author") or "—", s.get("reason") or "", s.get("ends_at"))
    return Silenced("—", held.get("detail") or "", None)


def alert_facts(alerts: list[dict[str, Any]], annotations: list[dict[str, Any]], people: dict[str, dict[str, Any]],
                until: str, silences: list[dict[str, Any]] | None = None, breaches: dict[str, Any] | None = None,
                health: set[str] | None = None) -> list[AlertFact]:
    """Every alert with breach → first page, time to acknowledge, the 5-minute rule; slowest response first."""
    def name(role: str | None) -> str:
        return (people.get(role or "") or {}).get("name") or role or "—"

    out = []
    for a in alerts:
        events = a.get("events") or []
        delivered = next((e for e in events if e["event"] == "delivered" and e.get("ok") is not False), None)
        acked = next((e for e in events if e["event"] == "acked"), None)
        ack_s = seconds(a["opened_at"], acked["ts"]) if acked else None
        decisions = [(e["ts"], e.get("person") or name(e.get("role")), e.get("detail") or "")
                     for e in events if e["event"] == "decision"]
        noted = {(d[1], d[2]) for d in decisions}
        decisions += [(n["ts"], n["author"], n["text"]) for n in annotations
                      if n.get("alert_id") == a["id"] and (n["author"], n["text"]) not in noted]
        silenced = None if delivered else _silence(a, events, silences or [])
        breach = (breaches or {}).get(str(a["id"])) or {}
        out.append(AlertFact(
            id=a["id"], metric=a["metric"], title=a.get("title") or a["metric"], kind=a.get("kind", "level"),
            peak_level=a.get("peak_level") or a.get("level") or "yellow",
            owner=_owner(a, name), opened_at=a["opened_at"], breach_at=breach.get("breach_at"),
            known_at=breach.get("known_at"), first_page_at=delivered["ts"] if delivered else None,
            first_page_to=(delivered.get("person") or name(delivered.get("role"))) if delivered else None,
            ack_s=ack_s, acked_by=(acked.get("person") or name(acked.get("role"))) if acked else None,
            acked_via=acked.get("channel") if acked else None,
            rule_met=None if silenced and not acked else
            _rule(ack_s, seconds(a["opened_at"], a.get("resolved_at") or until)),
            escalations=[(e["ts"], e.get("person") or name(e.get("role")), e.get("detail") or "")
                         for e in events if e["event"] == "escalated"],
            decisions=sorted(decisions), resolved_at=a.get("resolved_at"),
            failed_pages=sum(1 for e in events if e["event"] in ("undelivered", "delivery_failed")),
            silenced=silenced, health=a["metric"] in (health or set())))
    # Slowest first: never acknowledged, then the longest wait for an acknowledgement.
    return sorted(out, key=lambda f: (f.ack_s is not None, -(f.ack_s or 0.0), f.opened_at, f.id))


def _owner(alert: dict[str, Any], name: Callable[[str | None], str]) -> str:
    """Who the alert was opened for and who it rose to (the people paged, stand-ins as they were then)."""
    names: list[str] = []
    for e in alert.get("events") or []:
        if e["event"] in ("opened", "raised") and e.get("role"):
            who = e.get("person") or name(e["role"])
            if who not in names:
                names.append(who)
    if not names and (alert.get("owner") or {}).get("name"):
        return alert["owner"]["name"]
    return " → ".join(names) or "—"


def _rule(ack_s: float | None, open_s: float | None) -> bool | None:
    if ack_s is not None:
        return ack_s <= RESPONSE_RULE_S
    # Never acknowledged: missed once it stayed open past the rule; too young to tell before that.
    return False if open_s is None or open_s > RESPONSE_RULE_S else None


def level_seconds(spans: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds at each level in a metric's bands."""
    out: dict[str, float] = {}
    for span in spans:
        out[span["level"]] = out.get(span["level"], 0.0) + (seconds(span["from"], span["to"]) or 0.0)
    return out


@dataclass(frozen=True)
class Reached:
    """One time the night reached past the first person: an escalation, a deputy, a stand-in, nobody left."""

    at: str
    kind: str
    """escalated | deputy | stand_in | stand_in_end | nobody_left"""
    who: str
    what: str
    silenced: bool = False
    """An escalation under a silence: decided, recorded, and nobody paged."""
    by: str = ""
    """Who set a stand-in."""
    until: str | None = None


def reached(alerts: list[dict[str, Any]], stand_ins: list[dict[str, Any]], people: dict[str, dict[str, Any]],
            health: set[str]) -> list[Reached]:
    """The night's escalations (to deputies named as such), stand-ins and alerts nobody was left for, in time order."""
    deputy_of = {p["deputy"]: role for role, p in people.items() if p.get("deputy")}

    def name(role: str | None) -> str:
        return (people.get(role or "") or {}).get("name") or role or "—"

    out = []
    for a in alerts:
        if a["metric"] in health:
            continue
        label = f"#{a['id']} {a.get('title') or a['metric']}"
        events = a.get("events") or []
        # An escalation under a silence pages nobody: the record says so instead of naming it as reached.
        held = {(e["ts"], e.get("role")) for e in events if e["event"] == "silenced"}
        for e in events:
            if e["event"] == "escalated":
                kind = "deputy" if e.get("role") in deputy_of else "escalated"
                stands = f" ({name(deputy_of[e['role']])})" if kind == "deputy" else ""
                out.append(Reached(e["ts"], kind, (e.get("person") or name(e.get("role"))) + stands,
                                   f"{label} · {e.get('level') or ''} · {e.get('detail') or ''}".rstrip(" ·"),
                                   (e["ts"], e.get("role")) in held))
            elif e["event"] == "escalation_exhausted":
                out.append(Reached(e["ts"], "nobody_left", "—", f"{label} · {e.get('detail') or ''}"))
    for d in stand_ins:
        kind = "stand_in_end" if d.get("ended") else "stand_in"
        out.append(Reached(d["ts"], kind, "—" if d.get("ended") else d.get("name") or "—",
                           f"{d['role']} ({name(d['role'])})", by=d.get("by") or "", until=d.get("until")))
    return sorted(out, key=lambda r: r.at)


@dataclass(frozen=True)
class StepFact:
    """A run-sheet step: planned, done, by whom, how late."""

    action: str
    owner: str
    planned: str
    done_at: str | None
    done_by: str | None
    late_s: float | None


def step_facts(steps: list[dict[str, Any]], people: dict[str, dict[str, Any]]) -> list[StepFact]:
    """The run sheet with planned against done time."""
    return [StepFact(s["action"], (s.get("owner") or {}).get("name") or "—", s["at"], s.get("done_at"),
                     (people.get(s.get("done_by") or "") or {}).get("name") or s.get("done_by"),
                     seconds(s["at"], s.get("done_at"))) for s in steps]
