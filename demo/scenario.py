"""The demo night as data: the night file checked, its state at any scenario moment, the scenario clock.

Keyframes are joined in straight lines plus a seeded jitter, so a scenario moment always gives the
same numbers (a replay matches the live night)."""

from __future__ import annotations

import hashlib
import math
import re
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from warroom.values import known_zone

DEFAULT_NIGHT = Path(__file__).with_name("night.yaml")
# 23:00-00:30 (90 scenario minutes) plays in 10 real minutes: long enough to watch levels change,
# short enough for a rehearsal.
DEFAULT_SPEED = 9.0
DAY_S = 86_400

SERIES = ("load_factor", "page_latency_s", "cpu_pct", "db_pool_pct", "order_success_pct", "pickup_pct",
          "orders_total", "stuck_customers")
# orders_total is a count that only goes up: noise on it would make the live count step backwards.
NOISY_SERIES = tuple(name for name in SERIES if name != "orders_total")
PERCENT_SERIES = ("cpu_pct", "db_pool_pct", "order_success_pct", "pickup_pct")

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


class ScenarioError(Exception):
    """A night file that cannot be played; `problems` are lines naming key paths."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems))


def _clock_text(value: Any) -> str:
    """Normalise "23:30" / "23:30:00" to "23:30:00"; explain the YAML sexagesimal trap."""
    if isinstance(value, int) and not isinstance(value, bool):
        # PyYAML reads an unquoted 23:30:00 as base-60 integer 84600; the fix is quotes.
        raise ValueError(f'write times in quotes, e.g. "23:30:00" (unquoted, YAML read this one as {value})')
    if not isinstance(value, str):
        raise ValueError(f'expected a time like "23:30:00", got {value!r}')
    match = _CLOCK.fullmatch(value.strip())
    if not match:
        raise ValueError(f'expected a time like "23:30:00", got {value!r}')
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"no such time of day: {value!r}")
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def _seconds_of_day(clock: str) -> int:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return hours * 3600 + minutes * 60 + seconds


ClockTime = Annotated[str, BeforeValidator(_clock_text)]
Percent = Annotated[float, Field(ge=0, le=100)]


class _Strict(BaseModel):
    # An unknown key is a typo that would silently do nothing.
    model_config = ConfigDict(extra="forbid")


class NightInfo(_Strict):
    """Name, calendar and deadlines of the night."""

    name: str = Field(min_length=1)
    date: date
    timezone: str
    start: ClockTime
    end: ClockTime
    kpi_target: int = Field(gt=0)
    entry_close: ClockTime
    payment_close: ClockTime | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        known_zone(value)
        return value


class SystemSizes(_Strict):
    """Fixed sizes of the simulated campaign system."""

    cpus: int = Field(default=8, ge=1, le=256)
    db_pool_max: int = Field(gt=0)
    agents: int = Field(ge=0)
    submits_per_min_at_normal_load: float = Field(gt=0)
    calls_per_min_base: float = Field(ge=0)
    calls_per_stuck_customer_per_min: float = Field(default=0.0, ge=0)


class Jitter(_Strict):
    """Largest deviation per noisy series, in its own unit; 0 means none."""

    seed: int = 0
    period_s: float = Field(default=5.0, gt=0)
    load_factor: float = Field(default=0.0, ge=0)
    page_latency_s: float = Field(default=0.0, ge=0)
    cpu_pct: float = Field(default=0.0, ge=0)
    db_pool_pct: float = Field(default=0.0, ge=0)
    order_success_pct: float = Field(default=0.0, ge=0)
    pickup_pct: float = Field(default=0.0, ge=0)
    stuck_customers: float = Field(default=0.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _no_noise_on_orders(cls, data: Any) -> Any:
        if isinstance(data, dict) and "orders_total" in data:
            raise ValueError("orders_total never jitters (a count only goes up); remove jitter.orders_total")
        return data


class Keyframe(_Strict):
    """Values at one moment; a series left out here is interpolated between the keyframes that name it."""

    at: ClockTime
    note: str | None = None
    load_factor: float | None = Field(default=None, ge=0)
    page_latency_s: float | None = Field(default=None, ge=0)
    cpu_pct: Percent | None = None
    db_pool_pct: Percent | None = None
    order_success_pct: Percent | None = None
    pickup_pct: Percent | None = None
    orders_total: int | None = Field(default=None, ge=0)
    stuck_customers: int | None = Field(default=None, ge=0)


class Scenario(_Strict):
    """A whole night: its calendar, system sizes, jitter and keyframes (checked for order)."""

    night: NightInfo
    system: SystemSizes
    jitter: Jitter = Field(default_factory=Jitter)
    keyframes: list[Keyframe] = Field(min_length=1)

    _tracks: dict[str, tuple[list[float], list[Any]]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_night(self) -> Scenario:
        problems = self._night_problems() + self._keyframe_problems()
        if problems:
            raise ValueError("\n".join(problems))
        self._build_tracks()
        return self

    @property
    def duration_s(self) -> float:
        """Scenario seconds from start to end (a night crossing midnight wraps)."""
        return float((_seconds_of_day(self.night.end) - _seconds_of_day(self.night.start)) % DAY_S)

    @property
    def entry_close_s(self) -> float:
        """Scenario seconds at which the order entry closes."""
        return self._offset(self.night.entry_close)

    @property
    def payment_close_s(self) -> float:
        """Scenario seconds at which payment closes (with the entry when not given)."""
        close = self.night.payment_close
        return self._offset(close) if close else self.entry_close_s

    def offset_of(self, clock: str) -> float:
        """Scenario seconds of a time of day on this night; ValueError when outside it."""
        text = _clock_text(clock)
        offset = self._offset(text)
        if offset > self.duration_s:
            raise ValueError(f"{text} is outside the night {self.night.start}-{self.night.end}")
        return offset

    def datetime_at(self, scenario_s: float) -> datetime:
        """The aware local datetime of a scenario moment (00:30 falls on the next date)."""
        start = datetime.combine(self.night.date, datetime.min.time(), tzinfo=ZoneInfo(self.night.timezone))
        return start + timedelta(seconds=_seconds_of_day(self.night.start) + scenario_s)

    def _offset(self, clock: str) -> float:
        return float((_seconds_of_day(clock) - _seconds_of_day(self.night.start)) % DAY_S)

    def _night_problems(self) -> list[str]:
        night, problems = self.night, []
        if self.duration_s == 0:
            problems.append(f"night.end: equals night.start ({night.start}); a night needs a length")
        for key in ("entry_close", "payment_close"):
            clock = getattr(night, key)
            if clock is not None and self._offset(clock) > self.duration_s:
                problems.append(f"night.{key}: {clock} is outside the night {night.start}-{night.end}")
        return problems

    def _keyframe_problems(self) -> list[str]:
        problems, frames, night = [], self.keyframes, f"{self.night.start}-{self.night.end}"
        if frames[0].at != self.night.start:
            problems.append(f"keyframes[0].at: the first keyframe must be at night.start {self.night.start}")
        missing = ", ".join(name for name in SERIES if getattr(frames[0], name) is None)
        if missing:
            problems.append(f"keyframes[0]: the first keyframe must give every series; missing {missing}")
        order_i: int | None = None  # the last keyframe that was in time order
        count_i: int | None = None  # the last keyframe that named orders_total
        for i, frame in enumerate(frames):
            if self._offset(frame.at) > self.duration_s:
                problems.append(f"keyframes[{i}].at: {frame.at} is outside the night {night}")
            elif order_i is not None and self._offset(frame.at) <= self._offset(frames[order_i].at):
                problems.append(f"keyframes[{i}].at: {frame.at} is not after keyframes[{order_i}].at "
                                f"({frames[order_i].at}); keyframes must be in time order")
            else:
                order_i = i
            if frame.orders_total is None:
                continue
            if count_i is not None and frame.orders_total < (was := frames[count_i].orders_total or 0):
                problems.append(f"keyframes[{i}].orders_total: {frame.orders_total} is less than {was} at "
                                f"keyframes[{count_i}] ({frames[count_i].at}); orders_total never goes down")
            count_i = i
        return problems

    def _build_tracks(self) -> None:
        # Each series keeps only the keyframes that name it, so it interpolates across the others.
        for name in (*SERIES, "note"):
            named = [frame for frame in self.keyframes if getattr(frame, name) is not None]
            self._tracks[name] = ([self._offset(f.at) for f in named], [getattr(f, name) for f in named])

    def curve(self, series: str, scenario_s: float) -> float:
        """The straight-line value of one series, without jitter."""
        times, values = self._tracks[series]
        i = bisect_right(times, scenario_s)
        if i == 0:
            return float(values[0])
        if i == len(times):
            return float(values[-1])
        t0, t1, v0, v1 = times[i - 1], times[i], values[i - 1], values[i]
        return v0 + (v1 - v0) * (scenario_s - t0) / (t1 - t0)

    def note_at(self, scenario_s: float) -> str | None:
        """The latest keyframe note at or before this moment."""
        times, texts = self._tracks["note"]
        i = bisect_right(times, scenario_s)
        return texts[i - 1] if i else None


@dataclass(frozen=True)
class NightState:
    """Every value of the night at one scenario moment."""

    scenario_s: float
    at: datetime
    load_factor: float
    page_latency_s: float
    cpu_pct: float
    db_pool_pct: float
    db_connections: int
    db_pool_max: int
    order_success_pct: float
    pickup_pct: float
    orders_total: int
    stuck_customers: int
    entry_open: bool
    payment_open: bool
    note: str | None

    @property
    def clock(self) -> str:
        """The wall-clock time on the night, e.g. "23:31:05"."""
        return self.at.strftime("%H:%M:%S")


def _noise(seed: int, series: str, index: int) -> float:
    """A repeatable number in [-1, 1) for one noise point; hashing, so no RNG state to carry."""
    digest = hashlib.blake2b(f"{seed}:{series}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**63 - 1.0


def jitter_at(jitter: Jitter, series: str, scenario_s: float) -> float:
    """The deviation added to one series at this moment; noise points joined in straight lines."""
    amplitude = getattr(jitter, series, 0.0)
    if not amplitude:
        return 0.0
    x = scenario_s / jitter.period_s
    index = math.floor(x)
    a, b = _noise(jitter.seed, series, index), _noise(jitter.seed, series, index + 1)
    return amplitude * (a + (b - a) * (x - index))


def state_at(scenario: Scenario, scenario_s: float, *, jitter: bool = True) -> NightState:
    """The night at `scenario_s` seconds after its start (clamped into the night); pure."""
    t = min(max(scenario_s, 0.0), scenario.duration_s)
    values: dict[str, float] = {}
    for name in NOISY_SERIES:
        value = scenario.curve(name, t)
        if jitter:
            # Noise never exceeds the value itself, so a quiet zero (nobody stuck) stays zero.
            value += min(max(jitter_at(scenario.jitter, name, t), -value), value)
        values[name] = min(max(value, 0.0), 100.0) if name in PERCENT_SERIES else max(value, 0.0)
    pool_max = scenario.system.db_pool_max
    return NightState(
        scenario_s=t,
        at=scenario.datetime_at(t),
        load_factor=values["load_factor"],
        page_latency_s=values["page_latency_s"],
        cpu_pct=values["cpu_pct"],
        db_pool_pct=values["db_pool_pct"],
        db_connections=round(values["db_pool_pct"] / 100.0 * pool_max),
        db_pool_max=pool_max,
        order_success_pct=values["order_success_pct"],
        pickup_pct=values["pickup_pct"],
        # Floor, not round: the count must not show an order before it is complete.
        orders_total=math.floor(scenario.curve("orders_total", t)),
        stuck_customers=round(values["stuck_customers"]),
        entry_open=t < scenario.entry_close_s,
        payment_open=t < scenario.payment_close_s,
        note=scenario.note_at(t),
    )


def _problem_lines(error: ValidationError) -> list[str]:
    lines: list[str] = []
    for item in error.errors():
        loc = item["loc"]
        if item["type"] == "value_error" and "ctx" in item:
            message = str(item["ctx"]["error"])
        else:
            message = item["msg"]
        if not loc:
            # Cross-field checks already name their key paths, one problem per line.
            lines.extend(message.splitlines())
            continue
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
        lines.append(f"{path}: {message}")
    return lines


def parse_scenario(data: Any, source: str = "<night>") -> Scenario:
    """Validate an already-parsed night file; ScenarioError lists every problem by key path."""
    if not isinstance(data, dict):
        raise ScenarioError(source, ["the file must be a mapping with night, system, jitter and keyframes"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source, _problem_lines(exc)) from None


def load_scenario(path: Path | str = DEFAULT_NIGHT) -> Scenario:
    """Read and validate a night file (demo/night.yaml by default)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), [f"not valid YAML: {exc}"]) from None
    return parse_scenario(data, str(path))


@dataclass(frozen=True)
class ClockReading:
    """One consistent look at the scenario clock."""

    elapsed_s: float
    scenario_s: float
    ended: bool


class NightClock:
    """Real elapsed time to scenario time: `speed` scenario seconds pass per real second."""

    def __init__(self, scenario: Scenario, speed: float = DEFAULT_SPEED, *, loop: bool = False,
                 start_at: str | None = None, monotonic: Callable[[], float] = time.monotonic):
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        self.scenario = scenario
        self.speed = float(speed)
        self.loop = loop
        self.start_offset_s = scenario.offset_of(start_at) if start_at is not None else 0.0
        self._monotonic = monotonic
        self._origin = monotonic()

    def read(self, mono: float | None = None) -> ClockReading:
        """Scenario time now (or at monotonic reading `mono`); past the end it holds unless looping."""
        elapsed = (self._monotonic() if mono is None else mono) - self._origin
        raw = self.start_offset_s + max(elapsed, 0.0) * self.speed
        duration = self.scenario.duration_s
        if self.loop:
            return ClockReading(elapsed, raw % duration, False)
        return ClockReading(elapsed, min(raw, duration), raw >= duration)

    def state(self, mono: float | None = None) -> NightState:
        """The night's state now."""
        return state_at(self.scenario, self.read(mono).scenario_s)

    def describe(self) -> str:
        """One line for people: how scenario time maps to real time."""
        night, minutes = self.scenario.night, self.scenario.duration_s / 60
        start = self.scenario.datetime_at(self.start_offset_s).strftime("%H:%M:%S")
        return (f"scenario {night.start}-{night.end} ({night.date} {night.timezone}) at {self.speed:g}x: "
                f"{minutes:g} scenario min in {minutes / self.speed:.3g} real min, starting at {start}, "
                f"then {'loops' if self.loop else 'holds the end'}")
