"""Who holds each role at a moment: a stand-in set tonight, else the shift on duty, else the config.

Resolved at the moment of each page, so a page at 02:01 goes to whoever took over at 02:00.
A stand-in is either another entry of `people:` (their channels) or a name and phone who gets
the role's own channels; no channel URL is ever taken at run time, so none is stored.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from warroom.config.models import WarroomConfig
from warroom.config.shifts import next_change, on_duty
from warroom.outside_text import on_terminal
from warroom.store.database import Store
from warroom.store.schema import from_db_ts, to_db_ts


@dataclass(frozen=True)
class Holder:
    """The person holding a role now, and how they came to hold it."""

    role: str
    name: str
    phone: str
    channels: tuple[str, ...]
    how: str
    """config | shift | stand-in"""
    until: datetime | None = None
    urgent: tuple[str, ...] = ()
    """Channels that reach this person at once (a phone call), for pages at their urgent level and above."""

    def as_dict(self) -> dict[str, Any]:
        """The API form (channels are never shown: they hold tokens)."""
        return {"role": self.role, "name": self.name, "phone": self.phone, "how": self.how,
                "until": self.until.isoformat() if self.until else None}


@dataclass(frozen=True)
class StandIn:
    """Someone put in a role tonight, by whom, until when."""

    role: str
    name: str
    phone: str
    person: str | None
    since: datetime
    until: datetime | None
    by: str


class Roster:
    """Resolves roles to people; stand-ins are kept in the `duty` table and survive a restart."""

    def __init__(self, cfg: WarroomConfig, store: Store, as_of: datetime | None = None):
        """The roster in force now, or (`as_of`) as it stood at a past moment: replay names who held a role then."""
        self.cfg = cfg
        self.store = store
        self._lock = threading.Lock()
        self._standins: dict[str, StandIn] = {}
        self.reload(as_of)

    def reload(self, as_of: datetime | None = None) -> None:
        """Read tonight's stand-ins again from the file (a node taking the lease, its mirror just caught up)."""
        store, standins = self.store, {}
        bound = "" if as_of is None else "WHERE ts <= ?"
        for row in store.execute(
                f"""SELECT role, name, phone, person, ts, until_ts, set_by, cleared FROM duty {bound}
                    QUALIFY row_number() OVER (PARTITION BY role ORDER BY ts DESC, rowid DESC) = 1""",
                [] if as_of is None else [to_db_ts(as_of)]).fetchall():
            if not row[7]:
                # a name stored before names were checked must still not break a page's lines
                standins[row[0]] = StandIn(row[0], on_terminal(row[1]), on_terminal(row[2] or ""), row[3],
                                           from_db_ts(row[4]), from_db_ts(row[5]), row[6])
        with self._lock:
            self._standins = standins

    def _configured(self, role: str, at: datetime) -> Holder | None:
        person = self.cfg.people.get(role)
        if person is None:
            return None
        shift = on_duty(person.shifts, at, self.cfg.campaign.timezone)
        if shift is not None:
            channels = shift.channels if shift.channels is not None else person.channels
            urgent = shift.urgent if shift.urgent is not None else person.urgent
            return Holder(role, shift.name, shift.phone, tuple(channels), "shift", urgent=tuple(urgent))
        return Holder(role, person.name, person.phone, tuple(person.channels), "config", urgent=tuple(person.urgent))

    def holder(self, role: str | None, at: datetime) -> Holder | None:
        """Who holds `role` at `at` (None for a role nobody configured)."""
        if role is None:
            return None
        with self._lock:
            stand_in = self._standins.get(role)
        configured = self._configured(role, at)
        if stand_in is not None and stand_in.since <= at and (stand_in.until is None or at < stand_in.until):
            if stand_in.person and stand_in.person in self.cfg.people:
                channels = tuple(self.cfg.people[stand_in.person].channels)
                urgent = tuple(self.cfg.people[stand_in.person].urgent)
            else:
                channels = configured.channels if configured else ()
                urgent = configured.urgent if configured else ()
            return Holder(role, stand_in.name, stand_in.phone, channels, "stand-in", stand_in.until, urgent)
        return configured

    def name(self, role: str | None, at: datetime) -> str | None:
        """The holder's name, or the role itself when nobody is configured for it."""
        holder = self.holder(role, at)
        return holder.name if holder else role

    def stand_in(self, role: str, now: datetime, by: str, person: str | None = None, name: str | None = None,
                 phone: str = "", until: datetime | None = None) -> tuple[Holder, str | None]:
        """Put someone in `role` from now on (the duty table); returns the new holder and what changed, in words.

        The caller writes that sentence to the decision log (warroom.record.decisions, its only writer);
        None when the same person already stands in on the same terms (a second tap changes nothing).
        """
        if person is not None:
            entry = self.cfg.people[person]
            name, phone = entry.name, phone or entry.phone
        current = self.holder(role, now)
        with self._lock:
            standing = self._standins.get(role)
        same = standing is not None and current is not None and current.how == "stand-in" and \
            (standing.name, standing.phone, standing.person) == (name or "?", phone, person)
        if same and standing.until == until:
            return current, None
        before = self.name(role, now)
        item = StandIn(role, name or "?", phone, person, now, until, by)
        self.store.record("duty", [to_db_ts(now), role, item.name, phone, person, until and to_db_ts(until), by, False])
        with self._lock:
            self._standins[role] = item
        holder = self.holder(role, now)
        assert holder is not None
        if same:  # the same stand-in, for longer or shorter: never "孙磊 stands in for 孙磊"
            change = f"{item.name} still stands in as {role}, now " + (f"until {until.isoformat()}" if until else
                                                                       "with no end")
        else:
            change = f"{item.name} stands in as {role} for {before}" + (f" until {until.isoformat()}" if until else "")
        return holder, change

    def end(self, role: str, now: datetime, by: str) -> str | None:
        """End a stand-in; what changed, in words, for the decision log (None when nobody stood in)."""
        with self._lock:
            item = self._standins.pop(role, None)
        if item is None:
            return None
        self.store.record("duty", [to_db_ts(now), role, item.name, item.phone, item.person, None, by, True])
        return f"{item.name} no longer stands in as {role}; back to {self.name(role, now)}"

    def handovers(self, now: datetime, within_s: float = 3600.0) -> list[dict[str, Any]]:
        """Shift changes and stand-in ends in the next `within_s` seconds, in time order."""
        out = []
        horizon = now + timedelta(seconds=within_s)
        for role, person in self.cfg.people.items():
            change = next_change(person.shifts, now, self.cfg.campaign.timezone)
            if change is not None and change[0] <= horizon:
                when, outgoing, incoming = change
                out.append({"at": when.isoformat(), "role": role, "from": outgoing.name, "to": incoming.name,
                            "phone": incoming.phone})
            with self._lock:
                stand_in = self._standins.get(role)
            if stand_in is not None and stand_in.until is not None and now <= stand_in.until <= horizon:
                after = self._configured(role, stand_in.until)
                out.append({"at": stand_in.until.isoformat(), "role": role, "from": stand_in.name,
                            "to": after.name if after else role, "phone": after.phone if after else ""})
        return sorted(out, key=lambda h: h["at"])

    def on_duty(self, now: datetime) -> dict[str, Any]:
        """Every role's holder now, and the handovers of the next hour."""
        roles = {}
        for role in self.cfg.people:
            holder = self.holder(role, now)
            if holder is not None:
                roles[role] = holder.as_dict()
        return {"at": now.isoformat(), "roles": roles, "handovers": self.handovers(now)}
