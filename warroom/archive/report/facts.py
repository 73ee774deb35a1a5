"""Pure: the numbers the report states, computed from the API's answers (no I/O)."""

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
    first_page_s: float | None
    first_page_to: str | None
    ack_s: float | None
    acked_by: str | None
    acked_via: str | None
    """Where the acknowledgement came from: link | board | api (the event's channel), None before version 3."""
    rule_met: bool | None
    """True or False; None while an unacknowledged alert is younger than 5 minutes at the report's end."""
    escalations: list[tuple[str, str]]
    decisions: list[tuple[str, str, str]]
    resolved_at: str | None
    failed_pages: int


def alert_facts(alerts: list[dict[str, Any]], annotations: list[dict[str, Any]],
                people: dict[str, dict[str, Any]], until: str) -> list[AlertFact]:
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
        out.append(AlertFact(
            id=a["id"], metric=a["metric"], title=a.get("title") or a["metric"], kind=a.get("kind", "level"),
            peak_level=a.get("peak_level") or a.get("level") or "yellow",
            owner=_owner(a, name), opened_at=a["opened_at"],
            first_page_s=seconds(a["opened_at"], delivered["ts"]) if delivered else None,
            first_page_to=(delivered.get("person") or name(delivered.get("role"))) if delivered else None,
            ack_s=ack_s, acked_by=(acked.get("person") or name(acked.get("role"))) if acked else None,
            acked_via=acked.get("channel") if acked else None,
            rule_met=_rule(ack_s, seconds(a["opened_at"], a.get("resolved_at") or until)),
            escalations=[(e["ts"], name(e.get("role"))) for e in events if e["event"] == "escalated"],
            decisions=sorted(decisions), resolved_at=a.get("resolved_at"),
            failed_pages=sum(1 for e in events if e["event"] in ("undelivered", "delivery_failed"))))
    # Slowest first: never acknowledged, then the longest wait for an acknowledgement.
    return sorted(out, key=lambda f: (f.ack_s is not None, -(f.ack_s or 0.0), f.opened_at))


def _owner(alert: dict[str, Any], name: Callable[[str | None], str]) -> str:
    """Who decides now, or (resolved) who the alert was opened for and who it rose to."""
    if (alert.get("owner") or {}).get("name"):
        return alert["owner"]["name"]
    roles = []
    for e in alert.get("events") or []:
        if e["event"] in ("opened", "raised") and e.get("role") and e["role"] not in roles:
            roles.append(e["role"])
    return " → ".join(name(r) for r in roles) or "—"


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
