"""config.yaml as validated pydantic models; every error names its key path (loading: warroom.config.load)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from collectors.base import METRIC_NAME, CollectorSettings
from warroom.config.ha import HaSettings, HeartbeatSettings
from warroom.config.shifts import Shift
from warroom.durations import Duration, parse_duration
from warroom.values import Level, LevelRule, known_zone

ROLE_NAME = r"^[a-z][a-z0-9_]*$"
WALL_NAME = r"^[a-z][a-z0-9_-]*$"


class Strict(BaseModel):
    """Base for every config section: an unknown key is a typo that would silently do nothing."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Kpi(Strict):
    """The number the campaign is judged by, e.g. orders against 8,000."""

    metric: str = Field(pattern=METRIC_NAME)
    target: float = Field(gt=0)
    title: str = "KPI"


class RunSheetStep(Strict):
    """One line of the campaign's run sheet, e.g. 23:59:59 close the entry (owner: ops_lead)."""

    at: str = Field(description="When: ISO-8601, or '+6m40s' after the daemon starts (the demo night's start).")
    action: str = Field(min_length=1)
    owner: str = Field(pattern=ROLE_NAME)
    do: Literal["report", "archive"] | None = Field(
        default=None, description="Done by warroom at its time: `archive` writes a consistent copy of the database, "
                                  "`report` the copy and the night's report; the owner is paged where they are.")

    @field_validator("at")
    @classmethod
    def _moment(cls, value: str) -> str:
        _parse_moment(value, "UTC", datetime.now().astimezone())
        return value


class Campaign(Strict):
    """Name, clock and goal of the night."""

    name: str = Field(min_length=1)
    timezone: str = "UTC"
    start: str | None = None
    end: str
    kpi: Kpi | None = None
    locale: Literal["zh-CN", "en"] = "en"
    run_sheet: list[RunSheetStep] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        known_zone(value)
        return value

    @field_validator("start", "end")
    @classmethod
    def _moment(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_moment(value, "UTC", datetime.now().astimezone())
        return value

    def resolve_moment(self, text: str, started_at: datetime) -> datetime:
        """One configured moment (absolute, or `+10m` after `started_at`)."""
        return _parse_moment(text, self.timezone, started_at)

    def resolve(self, started_at: datetime) -> tuple[datetime | None, datetime]:
        """Absolute start and end; a relative `+10m` counts from `started_at` (rehearsals, the demo)."""
        start = _parse_moment(self.start, self.timezone, started_at) if self.start else None
        return start, _parse_moment(self.end, self.timezone, started_at)


def _parse_moment(text: str, zone: str, started_at: datetime) -> datetime:
    """ISO-8601 (naive means the campaign's timezone) or `+DURATION` after `started_at`."""
    text = str(text).strip()
    if text.startswith("+"):
        try:
            return started_at + timedelta(seconds=parse_duration(text[1:]))
        except OverflowError:
            raise ValueError(f"{text!r} is too far in the future") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO-8601 time like 2024-11-11T23:59:59+08:00 or '+10m', got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


class Person(Strict):
    """Whoever holds a role tonight; channels are Apprise URLs used by the alerts engine."""

    name: str = Field(min_length=1)
    phone: str = ""
    channels: list[str] = Field(default_factory=list)
    decision: str | None = Field(default=None, description="The question this person is asked in a page, "
                                 "when they are not a level's owner (e.g. the DBA).")
    deputy: str | None = Field(default=None, pattern=ROLE_NAME,
                               description="Another entry of people paged next when this one does not acknowledge.")
    shifts: list[Shift] = Field(default_factory=list,
                                description="Who holds the role at each time of day (campaign timezone).")
    urgent: list[str] = Field(default_factory=list,
                              description="Channels that reach this person at once (a phone call, Pushover "
                                          "emergency, ntfy max), used with `channels` for pages asking them to "
                                          "decide at `urgent_from` and above, every repeat included.")
    urgent_from: Literal["yellow", "orange", "red"] | None = Field(
        default=None, description="The lowest level whose pages ring `urgent`; default the lowest level this role "
                                  "decides at (in `levels` or a metric's `owner`), else red.")


class LevelOwnership(Strict):
    """Which role decides at a level, how long they have to acknowledge, and who is paged next."""

    owner: str = Field(pattern=ROLE_NAME)
    ack_timeout: Duration = Field(default=300.0, gt=0, description="The seed's 'respond within 5 minutes'.")
    escalate_to: str | None = Field(default=None, pattern=ROLE_NAME,
                                    description="Next tier when nobody acknowledges; default the next level's owner.")
    decision: str | None = Field(default=None, description="The decision asked of the owner, shown in every page.")
    urgent: list[str] = Field(default_factory=list,
                              description="Channels rung for every page asking someone to decide at this level or "
                                          "above, whoever it goes to (a duty phone, a siren topic).")


class Levels(Strict):
    """The seed's decision mechanism: yellow the technical lead, orange operations, red the GM."""

    yellow: LevelOwnership = LevelOwnership(owner="tech_lead")
    orange: LevelOwnership = LevelOwnership(owner="ops_lead")
    red: LevelOwnership = LevelOwnership(owner="general_manager")

    def owner_role(self, level: Level) -> str | None:
        """The role that decides at `level` (None for green)."""
        return None if level == Level.GREEN else getattr(self, level.word).owner

    def at(self, level: Level) -> LevelOwnership:
        """The section for a warning level."""
        return getattr(self, level.word)

    def next_tier(self, level: Level) -> str | None:
        """Who is paged when `level` is not acknowledged in time."""
        section = self.at(level)
        if section.escalate_to:
            return section.escalate_to
        higher = [self.at(lv).owner for lv in (Level.ORANGE, Level.RED) if lv > level]
        return next((role for role in higher if role != section.owner), None)


class AlertSettings(Strict):
    """How the engine pages: resolve delay, repeats, no-data owner, retries, ack links, forwarding."""

    resolve_after: Duration = Field(default=30.0, ge=0, description="Green this long before an alert resolves.")
    repeat_every: Duration = Field(default=300.0, ge=0, description="Re-page an unacknowledged alert; 0 = never.")
    no_data_owner: str = Field(default="tech_lead", pattern=ROLE_NAME)
    max_delivery_failures: int = Field(default=3, ge=1, le=20)
    retry_backoff: Duration = Field(default=1.0, gt=0)
    ack_secret_env: str = "WARROOM_ACK_SECRET"
    ack_valid_for: Duration = Field(default=43200.0, gt=0)
    public_url: str | None = Field(default=None, description="Base URL of the API in ack links.")
    board_url: str | None = Field(default=None, description="The board's address as a phone reaches it, put in "
                                  "every page; `{role}` is replaced by the role paged.")
    forward: list[str] = Field(default_factory=list,
                               description="Channels that get every alert, e.g. alertmanager://127.0.0.1:9093.")
    group_window: Duration = Field(default=10.0, ge=0, le=300,
                                   description="Pages for one person within this window after a page go out as "
                                               "one; the first is never held.")
    delivery_timeout: Duration = Field(default=15.0, gt=0, le=120,
                                       description="How long one channel may take to accept a page.")


class MetricOwners(Strict):
    """Per-metric override of who decides at each level."""

    yellow: str | None = Field(default=None, pattern=ROLE_NAME)
    orange: str | None = Field(default=None, pattern=ROLE_NAME)
    red: str | None = Field(default=None, pattern=ROLE_NAME)


class MetricSpec(Strict):
    """A watched number: what it is, which way is bad, and where each level starts."""

    title: str = Field(min_length=1)
    unit: str = ""
    description: str = ""
    direction: Literal["above", "below"] = "above"
    yellow: float | None = None
    orange: float | None = None
    red: float | None = None
    pending: Duration = Field(default=0.0, alias="for", ge=0)
    clear: float = Field(default=0.0, ge=0)
    owner: MetricOwners | None = None
    stale_after: Duration | None = Field(default=None, gt=0)
    decimals: int = Field(default=1, ge=0, le=6)
    pushed: bool = False
    runbook: str = ""
    escalate: bool = True
    """False: paging stops at the metric's owner (this host's own health never reaches the GM)."""
    until_end: bool = False
    """Watched only until the campaign ends: after a planned close its silence is not a fault."""
    group: str | None = Field(default=None, pattern=ROLE_NAME,
                              description="Where the wall places the tile, e.g. `host` for the monitoring box, "
                              "apart from the business tiles; none = a business tile.")

    @model_validator(mode="after")
    def _ordered(self) -> MetricSpec:
        given = [(lvl, v) for lvl, v in (("yellow", self.yellow), ("orange", self.orange), ("red", self.red))
                 if v is not None]
        for (low, a), (high, b) in zip(given, given[1:], strict=False):
            worse = b >= a if self.direction == "above" else b <= a
            if not worse:
                cmp = ">=" if self.direction == "above" else "<="
                raise ValueError(f"{high} ({b:g}) must be {cmp} {low} ({a:g}) for direction {self.direction}")
        return self

    def rule(self) -> LevelRule:
        """The pure evaluation rule for alerts/levels.py."""
        return LevelRule(self.direction, self.yellow, self.orange, self.red, self.pending, self.clear)


class Server(Strict):
    """Where the daemon listens and keeps its database."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535, description="0 picks a free port (tests).")
    board_port: int = Field(default=8501, ge=1, le=65535, description="Where `warroom up` and `warroom board` "
                            "serve the wall board.")
    database: str = "data/warroom.duckdb"
    tick: Duration = Field(default=0.25, gt=0, le=5)
    token_env: str = "WARROOM_TOKEN"


class DemoSettings(Strict):
    """The built-in demo night that `warroom up` starts when configured."""

    host: str = "127.0.0.1"
    port: int = Field(default=8780, ge=1, le=65535)
    speed: float = Field(default=9.0, gt=0)
    scenario: str | None = None
    loop: bool = False
    night_clock: bool = Field(default=True, description="The night is the daemon's one clock (read from the demo's "
                              "/api/clock): every stamp, duration and timeout is the night's, marked 'demo'.")

    def clock_url(self) -> str:
        """Where the demo serves its scenario clock."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}/api/clock"


class Wall(Strict):
    """One wall screen (`/?wall=NAME`): its tiles in order, and the machines' own health in a small row apart."""

    title: str = ""
    metrics: list[str] = Field(min_length=1)
    health: list[str] = Field(default_factory=list)
    actions: bool = Field(default=False, description="A trusted screen inside the room: its kiosk view may mark "
                          "run-sheet steps done, recorded as done at the wall (never as a person).")


class Rights(Strict):
    """Who may silence, stand someone in and mark run-sheet steps; acknowledging follows the escalation chain.

    A role means that role and every role above it (by the highest level each decides); a list means exactly
    those roles. Each role's deputies share its rights. Unset: the orange level's owner and above.
    """

    silence: str | list[str] | None = Field(default=None, description="Who may silence and lift silences.")
    stand_in: str | list[str] | None = Field(default=None, description="Who may put someone in a role.")
    run_sheet: Literal["owner_and_above", "anyone"] = Field(
        default="owner_and_above", description="Who may mark a step done: its owner and above, or anyone signed in.")


class WarroomConfig(Strict):
    """The whole config.yaml."""

    campaign: Campaign
    people: dict[str, Person]
    levels: Levels = Levels()
    collectors: list[Any]
    metrics: dict[str, MetricSpec]
    server: Server = Server()
    alerts: AlertSettings = AlertSettings()
    demo: DemoSettings | None = None
    walls: dict[str, Wall] = Field(default_factory=dict)
    rights: Rights = Rights()
    ha: HaSettings | None = None
    heartbeat: HeartbeatSettings | None = None
    _feeders: dict[str, CollectorSettings] | None = PrivateAttr(default=None)

    @field_validator("people")
    @classmethod
    def _role_names(cls, people: dict[str, Person]) -> dict[str, Person]:
        for role in people:
            if not re.match(ROLE_NAME, role):
                raise ValueError(f"role {role!r} must be lower_snake_case")
        return people

    @field_validator("walls")
    @classmethod
    def _wall_names(cls, walls: dict[str, Wall]) -> dict[str, Wall]:
        for name in walls:
            if not re.match(WALL_NAME, name):
                raise ValueError(f"wall name {name!r} must be lower case letters, digits, '-' or '_' (it is a URL)")
        return walls

    @field_validator("metrics")
    @classmethod
    def _metric_names(cls, metrics: dict[str, MetricSpec]) -> dict[str, MetricSpec]:
        for name in metrics:
            if not re.match(METRIC_NAME, name):
                raise ValueError(f"metric name {name!r} must be lower_snake_case, dots between parts")
        return metrics

    def collector(self, name: str) -> CollectorSettings:
        """The collector section called `name`."""
        return next(c for c in self.collectors if c.name == name)

    def owner_role(self, metric: str, level: Level) -> str | None:
        """Who decides for `metric` at `level`: the metric's override, else the level's owner."""
        if level == Level.GREEN:
            return None
        override = self.metrics[metric].owner if metric in self.metrics else None
        if override is not None and getattr(override, level.word):
            return getattr(override, level.word)
        return self.levels.owner_role(level)

    def feeders(self) -> dict[str, CollectorSettings]:
        """Metric name → the collector that writes it (computed once: the board and the alert timer ask often)."""
        if self._feeders is None:
            self._feeders = {m: c for c in self.collectors for m in c.produces()}
        return self._feeders

    def stale_after(self, metric: str) -> float:
        """Seconds after which a value is no longer live: configured, else room for two slow polls.

        A probe that takes its whole timeout stamps its sample when it began, so consecutive samples
        can be interval + timeout apart and arrive a timeout late: anything shorter greys out a tile
        that is in fact being measured (an 18 s page at the peak).
        """
        spec = self.metrics.get(metric)
        if spec and spec.stale_after:
            return spec.stale_after
        feeder = self.feeders().get(metric)
        if feeder is None:
            return 60.0
        # Polls run on real seconds; in demo mode ages are the night's, and a real second is `speed` of them.
        scale = self.demo.speed if self.demo is not None and self.demo.night_clock else 1.0
        return scale * max(10.0, feeder.interval * 3 + feeder.timeout, 2 * (feeder.interval + feeder.timeout))
