"""Who must act now: for each open alert, the person being paged now, how they came to hold it, since when.

Computed once, here, from the alert's own state: the engine asks it for its live alerts, and the
record asks it for an alert folded from its trail at a past moment, so the two never disagree. The
banner, the strip, the phone view, the alerts page, the tiles and every page read the answer and
never re-derive it. One ordering rule, `room_order`, says whom the room waits for first.

"Since" is the alert's ack clock (`Alert.ack_clock_at`, stamped by the dispatch when the page to
that person went out or arrived): a stamp older than the step that made them the one to act belongs
to the person before them, so it is not theirs and they are still being paged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.escalation import chain
from alerts.log import Alert
from alerts.roster import Roster
from alerts.silences import Silences
from warroom.config.models import WarroomConfig
from warroom.values import Level

# How a person came to be the one to act: the level's decider, the next tier after someone did not
# answer, the deputy of the one who did not answer, or whoever acknowledged (they are on it).
HOW = ("decider", "escalated", "deputy", "acked")


@dataclass(frozen=True)
class Held:
    """Who holds a role at the moment asked: name, phone, and `config`, `shift` or `stand-in`."""

    name: str
    phone: str
    held_as: str = "config"


@dataclass(frozen=True)
class Missed:
    """The one who was asked before and did not answer (or could not be reached)."""

    role: str
    name: str
    why: str
    """no_ack (did not acknowledge within after_s) | not_delivered (the page never reached them)"""
    after_s: float | None


@dataclass(frozen=True)
class Acting:
    """The person the room is waiting for on one alert, and why them."""

    alert_id: int
    role: str | None
    name: str
    phone: str
    how: str
    held_as: str
    since: datetime | None
    """When their page arrived (the ack clock); None while it is still on its way. When acked: the ack."""
    waiting: bool
    """Nobody has acknowledged: the room is waiting for this person."""
    decider_role: str | None
    """The decider of the alert's level for its metric (who was asked first)."""
    missed: Missed | None
    nobody_left: bool
    health: bool
    """A monitoring machine's own metric (`group:`): shown in the health row, never in the banner."""
    silenced: bool
    level_owner: bool
    """The level's own decider (no per-metric override): named before an override at the same level."""

    @property
    def banner(self) -> bool:
        """May this alert take the decision banner: a business alert that is not silenced."""
        return not self.health and not self.silenced

    def as_dict(self, rank: int | None = None) -> dict[str, Any]:
        """The API form (`acting` of an alert)."""
        missed = self.missed
        return {"role": self.role, "name": self.name, "phone": self.phone, "how": self.how,
                "held_as": self.held_as, "since": self.since.isoformat() if self.since else None,
                "waiting": self.waiting, "decider_role": self.decider_role,
                "missed": None if missed is None else {"role": missed.role, "name": missed.name, "why": missed.why,
                                                       "after_s": missed.after_s},
                "nobody_left": self.nobody_left, "health": self.health, "silenced": self.silenced,
                "level_owner": self.level_owner, "banner": self.banner, "rank": rank}


def deciding(alert: Alert) -> bool:
    """True while someone must decide: open or acknowledged, not back to green, not resolved."""
    return alert.state != "resolved" and not alert.recovering and alert.level != Level.GREEN


def acting_role(alert: Alert) -> str | None:
    """The role that must act on `alert` now (None when nobody must): the one rule every surface reads."""
    if not deciding(alert):
        return None
    if alert.state == "acked" and alert.acked_by:
        return alert.acked_by
    return alert.escalated_to or alert.owner_role


def previous_in_chain(cfg: WarroomConfig, alert: Alert) -> str | None:
    """Who was asked before the role the alert was escalated to (the one who did not answer)."""
    target = alert.escalated_to
    if target is None:
        return None
    roles = chain(cfg, alert.metric, alert.level if alert.level != Level.GREEN else Level.YELLOW)
    if target not in roles or roles.index(target) == 0:
        return alert.owner_role
    return roles[roles.index(target) - 1]


def acting_now(cfg: WarroomConfig, alert: Alert, holder: Callable[[str], Held | None], silenced: bool
               ) -> Acting | None:
    """Who must act on `alert` now, or None when nobody must (recovering, resolved)."""
    role = acting_role(alert)
    if role is None:
        return None
    spec = cfg.metrics.get(alert.metric)
    held = holder(role) or Held(role, "")
    previous = previous_in_chain(cfg, alert)
    missed = None
    if alert.state != "acked" and alert.escalated_to and previous is not None and previous != role:
        before = holder(previous)
        why = "not_delivered" if alert.delivery_failed else "no_ack"
        timeout = cfg.levels.at(max(alert.level, Level.YELLOW)).ack_timeout
        missed = Missed(previous, before.name if before else previous, why,
                        None if why == "not_delivered" else timeout)
    if alert.state == "acked":
        how, since = "acked", alert.acked_at
    elif alert.escalated_to:
        deputy = cfg.people.get(previous or "")
        how = "deputy" if deputy is not None and deputy.deputy == alert.escalated_to else "escalated"
        # Running out of people moves escalated_at on, not the clock of the last one paged.
        since = _theirs(alert.ack_clock_at, None if alert.exhausted else alert.escalated_at)
    else:
        how, since = "decider", _theirs(alert.ack_clock_at, alert.level_since or alert.opened_at)
    return Acting(
        alert_id=alert.id, role=role, name=held.name, phone=held.phone, how=how, held_as=held.held_as,
        since=since, waiting=alert.state != "acked", decider_role=alert.owner_role,
        missed=missed, nobody_left=alert.exhausted and alert.state != "acked",
        health=bool(spec and spec.group), silenced=silenced,
        level_owner=alert.kind == "no_data" or alert.owner_role == cfg.levels.owner_role(alert.level),
    )


def acting_on(cfg: WarroomConfig, alerts: list[Alert], holder: Callable[[str], Held | None], silences: Silences,
              now: datetime) -> dict[int, Acting]:
    """Who must act now on each of `alerts` that someone must act on, by alert id."""
    found = {a.id: acting_now(cfg, a, holder, silences.covers(a.metric, now)) for a in alerts}
    return {alert_id: act for alert_id, act in found.items() if act is not None}


def _theirs(ack_clock_at: datetime | None, became: datetime | None) -> datetime | None:
    """The ack clock if it started for this person (at or after they became the one to act), else None."""
    if ack_clock_at is None:
        return None
    if became is not None and ack_clock_at < became:
        return None
    return ack_clock_at


def room_key(alert: Alert, acting: Acting | None) -> tuple:
    """The one ordering rule: whom the room waits for first (the banner is the first that may take it).

    Business before health and silenced ones, deciding before recovering, worst level, nobody
    acknowledged before acknowledged, a page that failed before one that arrived, the level's own
    decider before a per-metric override, then who has waited longest at this level.
    """
    eligible = acting is not None and acting.banner
    return (not eligible, acting is None, -int(alert.level), acting is not None and not acting.waiting,
            not alert.delivery_failed, not (acting is not None and acting.level_owner),
            alert.level_since or alert.opened_at, alert.id)


def room_order(pairs: Iterable[tuple[Alert, Acting | None]]) -> list[tuple[Alert, Acting | None]]:
    """Alerts with who acts on each, in the room's order (first: the banner's)."""
    return sorted(pairs, key=lambda pair: room_key(*pair))


def roster_holder(roster: Roster, at: datetime) -> Callable[[str], Held | None]:
    """Who holds each role at `at` live: a stand-in, the shift on duty, else the config's person."""
    def held(role: str) -> Held | None:
        holder = roster.holder(role, at)
        return Held(holder.name, holder.phone, holder.how) if holder else None
    return held


def configured_holder(cfg: WarroomConfig) -> Callable[[str], Held | None]:
    """Who holds each role as configured (an archive, or a moment whose holders were not recorded)."""
    def held(role: str) -> Held | None:
        person = cfg.people.get(role)
        return Held(person.name, person.phone) if person else None
    return held
