"""Who decides, who is next, and who may acknowledge: the chain of a metric at a level.

Pure functions over the config, so the engine, the pages, the API and the ack page all answer the
same question the same way.
"""

from __future__ import annotations

from warroom.config.models import WarroomConfig
from warroom.values import Level


def chain(cfg: WarroomConfig, metric: str, level: Level) -> list[str]:
    """Roles in the order they are paged at `level`: the decider, then each tier above, no repeats.

    The level's `escalate_to` comes first when set, then the owners of the higher levels, so a
    yellow alert nobody takes climbs tech lead → operations lead → general manager.
    """
    if level == Level.GREEN:
        return []
    first = cfg.owner_role(metric, level)
    roles = [first] if first else []
    spec = cfg.metrics.get(metric)
    if spec is not None and not spec.escalate:
        return with_deputies(cfg, roles)
    section = cfg.levels.at(level)
    above = [section.escalate_to] if section.escalate_to else []
    above += [cfg.owner_role(metric, lv) for lv in (Level.ORANGE, Level.RED) if lv > level]
    for role in above:
        if role and role not in roles:
            roles.append(role)
    return with_deputies(cfg, roles)


def with_deputies(cfg: WarroomConfig, roles: list[str]) -> list[str]:
    """Each role followed by its deputies (A/B duty): the stand-in is paged before the chain goes on."""
    out: list[str] = []
    for role in roles:
        current: str | None = role
        while current is not None and current not in out:
            out.append(current)
            person = cfg.people.get(current)
            current = person.deputy if person else None
    return out


def next_in_chain(cfg: WarroomConfig, metric: str, level: Level, after: str | None) -> str | None:
    """The role paged after `after` at `level` (None when the chain is exhausted)."""
    roles = chain(cfg, metric, level)
    if after not in roles:
        return roles[0] if roles else None
    i = roles.index(after)
    return roles[i + 1] if i + 1 < len(roles) else None


def may_acknowledge(cfg: WarroomConfig, metric: str, level: Level, role: str) -> bool:
    """True when `role` decides at `level` or stands above the decider in its chain.

    A lower level's link opened after a rise is refused: the technical lead's yellow link must not
    silence the general manager's red page. A higher role may take a lower level's alert.
    """
    return role in chain(cfg, metric, level)
