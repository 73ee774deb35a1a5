"""Problems pydantic cannot see: references between sections of a validated config.

Roles that are nobody, metrics nobody writes, deputies in a circle, shifts with gaps, a probe
timeout that caps a threshold: each a line naming its key path, all reported at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from warroom.config.channels import channel_problem
from warroom.config.shifts import problems as shift_problems
from warroom.values import Level

if TYPE_CHECKING:
    from warroom.config.models import WarroomConfig


def cross_check(cfg: WarroomConfig) -> list[str]:
    """Every problem between sections, each naming its key path."""
    problems: list[str] = []
    names: dict[str, int] = {}
    produced: dict[str, str] = {}
    for i, c in enumerate(cfg.collectors):
        where = f'collectors[{i}] ({c.type} "{c.name}")'
        if c.name in names:
            problems.append(f"{where}: name: duplicate of collectors[{names[c.name]}]")
        names.setdefault(c.name, i)
        for metric in c.produces():
            if metric in produced and produced[metric] != c.name:
                problems.append(f"{where}: writes {metric!r}, which collector {produced[metric]!r} also writes")
            produced.setdefault(metric, c.name)
    problems += _timeouts_reach_thresholds(cfg)
    for level in ("yellow", "orange", "red"):
        section = getattr(cfg.levels, level)
        for key in ("owner", "escalate_to"):
            role = getattr(section, key)
            if role and role not in cfg.people:
                problems.append(f"levels.{level}.{key}: role {role!r} is not in people ({', '.join(cfg.people)})")
    if cfg.alerts.no_data_owner not in cfg.people:
        problems.append(f"alerts.no_data_owner: role {cfg.alerts.no_data_owner!r} is not in people")
    for role, person in cfg.people.items():
        for i, url in enumerate(person.channels):
            if (why := channel_problem(url)) is not None:
                problems.append(f"people.{role}.channels[{i}]: {why}")
        for i, url in enumerate(person.urgent):
            if (why := channel_problem(url)) is not None:
                problems.append(f"people.{role}.urgent[{i}]: {why}")
        for i, shift in enumerate(person.shifts):
            for key in ("channels", "urgent"):
                for j, url in enumerate(getattr(shift, key) or []):
                    if (why := channel_problem(url)) is not None:
                        problems.append(f"people.{role}.shifts[{i}].{key}[{j}]: {why}")
    problems += _duty_problems(cfg)
    for level in ("yellow", "orange", "red"):
        for i, url in enumerate(getattr(cfg.levels, level).urgent):
            if (why := channel_problem(url)) is not None:
                problems.append(f"levels.{level}.urgent[{i}]: {why}")
    for key in ("silence", "stand_in"):
        given = getattr(cfg.rights, key)
        for role in [given] if isinstance(given, str) else (given or []):
            if role not in cfg.people:
                problems.append(f"rights.{key}: role {role!r} is not in people ({', '.join(cfg.people)})")
    for i, url in enumerate(cfg.alerts.forward):
        if (why := channel_problem(url)) is not None:
            problems.append(f"alerts.forward[{i}]: {why}")
    for name, spec in cfg.metrics.items():
        if spec.yellow is None and spec.orange is None and spec.red is None and name != _kpi(cfg):
            problems.append(f"metrics.{name}: no yellow, orange or red threshold (an unwatched tile)")
        if spec.owner:
            for level in ("yellow", "orange", "red"):
                role = getattr(spec.owner, level)
                if role and role not in cfg.people:
                    problems.append(f"metrics.{name}.owner.{level}: role {role!r} is not in people")
        if not spec.escalate:
            owners = {cfg.owner_role(name, lv) for lv in (Level.YELLOW, Level.ORANGE, Level.RED)
                      if spec.rule().threshold(lv) is not None}
            if len(owners) > 1:
                problems.append(f"metrics.{name}.escalate: false keeps pages with the metric's one owner, but its "
                                f"levels go to {', '.join(sorted(r for r in owners if r))}; set owner.yellow, "
                                "owner.orange and owner.red to the same role")
        if not spec.pushed and name not in produced:
            problems.append(f"metrics.{name}: no collector writes it (add one, or set pushed: true)")
    for i, step in enumerate(cfg.campaign.run_sheet):
        if step.owner not in cfg.people:
            problems.append(f"campaign.run_sheet[{i}].owner: role {step.owner!r} is not in people")
    for wall, spec in cfg.walls.items():
        for key in ("metrics", "health"):
            seen: set[str] = set()
            for i, metric in enumerate(getattr(spec, key)):
                if metric not in cfg.metrics:
                    problems.append(f"walls.{wall}.{key}[{i}]: unknown metric {metric!r}")
                elif metric in seen:
                    problems.append(f"walls.{wall}.{key}[{i}]: {metric!r} is already on this wall")
                seen.add(metric)
    try:
        start, end = cfg.campaign.resolve(datetime.now().astimezone())
    except (ValueError, OverflowError):
        start = end = None
    if start is not None and end is not None and end <= start:
        problems.append(f"campaign.end: {cfg.campaign.end} is not after campaign.start ({cfg.campaign.start})")
    kpi = _kpi(cfg)
    if kpi and not (kpi in produced or kpi in cfg.metrics):
        problems.append(f"campaign.kpi.metric: no collector writes {kpi!r}")
    return problems


def _duty_problems(cfg: WarroomConfig) -> list[str]:
    """Deputies that are nobody or go round in a circle, and shifts that leave gaps or overlap."""
    problems = []
    for role, person in cfg.people.items():
        problems += shift_problems(f"people.{role}.shifts", person.shifts)
        if person.deputy is None:
            continue
        if person.deputy not in cfg.people:
            problems.append(f"people.{role}.deputy: {person.deputy!r} is not in people ({', '.join(cfg.people)})")
            continue
        seen, current = [role], person.deputy
        while current is not None and current in cfg.people:
            if current in seen:
                if current == role and role == min(seen):  # each circle once, from its first role
                    problems.append(f"people.{role}.deputy: the deputies go round in a circle: "
                                    f"{' → '.join([*seen, current])}")
                break
            seen.append(current)
            current = cfg.people[current].deputy
    return problems


def _timeouts_reach_thresholds(cfg: WarroomConfig) -> list[str]:
    """An HTTP probe records its timeout as the measured time, so a threshold above it is never reached."""
    problems = []
    for i, c in enumerate(cfg.collectors):
        if c.type != "http":
            continue
        for metric in c.produces():
            spec = cfg.metrics.get(metric)
            if spec is None or spec.direction != "above":
                continue
            unreachable = [(lv, getattr(spec, lv)) for lv in ("yellow", "orange", "red")
                           if getattr(spec, lv) is not None and getattr(spec, lv) > c.timeout]
            if unreachable:
                keys = " and ".join(f"metrics.{metric}.{lv} ({v:g}s)" for lv, v in unreachable)
                top_level, top = unreachable[-1]
                problems.append(
                    f'collectors[{i}] (http "{c.name}"): timeout: {c.timeout:g}s is below {keys}; a timed-out probe '
                    f"records its timeout, so {top_level} could never be reached: set the timeout to at least {top:g}s")
    return problems


def _kpi(cfg: WarroomConfig) -> str | None:
    return cfg.campaign.kpi.metric if cfg.campaign.kpi else None


