"""Who may do what on the board: pure functions over the config, asked by the API before every action.

Acknowledging follows the escalation chain (alerts/escalation.py, the ack link's rule, applied by the
engine). Silences, stand-ins and run-sheet marks follow the config's `rights:`: a role there means
that role and everyone above it, ranked by the highest level each decides at, so the seed's
"silences for the operations lead and above" is `silence: ops_lead`. A deputy shares the rights of
the role it deputises for: the deputy general manager standing in may do what the general manager may.
"""

from __future__ import annotations

from warroom.config.models import WarroomConfig
from warroom.values import Level

ACTIONS = ("silence", "stand_in", "run_sheet")


def rank(cfg: WarroomConfig, role: str) -> int:
    """The highest level `role` decides at (1 yellow … 3 red), or its principal's for a deputy; 0 for none."""
    own = max((int(lv) for lv in (Level.YELLOW, Level.ORANGE, Level.RED) if cfg.levels.owner_role(lv) == role),
              default=0)
    principals = [r for r, p in cfg.people.items() if p.deputy == role and r != role]
    seen = {role}
    while principals:
        principal = principals.pop()
        if principal in seen:
            continue
        seen.add(principal)
        own = max(own, max((int(lv) for lv in (Level.YELLOW, Level.ORANGE, Level.RED)
                            if cfg.levels.owner_role(lv) == principal), default=0))
        principals += [r for r, p in cfg.people.items() if p.deputy == principal]
    return own


def _with_deputies(cfg: WarroomConfig, roles: list[str]) -> list[str]:
    out: list[str] = []
    for role in roles:
        current: str | None = role
        while current is not None and current not in out:
            out.append(current)
            person = cfg.people.get(current)
            current = person.deputy if person else None
    return out


def and_above(cfg: WarroomConfig, role: str) -> list[str]:
    """`role`, its deputies, and every role ranked at or above it, lowest rank first."""
    floor = rank(cfg, role)
    above = [r for r in cfg.people if floor > 0 and rank(cfg, r) >= floor]
    roles = _with_deputies(cfg, [role, *sorted(above, key=lambda r: rank(cfg, r))])
    return [r for r in roles if r in cfg.people]


def who_may(cfg: WarroomConfig, action: str, step_owner: str | None = None) -> list[str]:
    """The roles that may do `action` (silence | stand_in | run_sheet; a step's owner for run_sheet)."""
    if action == "run_sheet":
        if cfg.rights.run_sheet == "anyone" or step_owner is None:
            return list(cfg.people)
        return and_above(cfg, step_owner)
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    given = getattr(cfg.rights, action)
    if given is None:
        given = cfg.levels.orange.owner
    if isinstance(given, str):
        return and_above(cfg, given)
    return [r for r in _with_deputies(cfg, list(given)) if r in cfg.people]


def may(cfg: WarroomConfig, action: str, role: str, step_owner: str | None = None) -> bool:
    """True when `role` may do `action` by the config's rights."""
    return role in who_may(cfg, action, step_owner)
