"""`system`: CPU busy % and memory used % of the host the daemon runs on, via a psutil-like object."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from collectors.base import METRIC_NAME, CollectError, Collector, CollectorContext, CollectorSettings
from warroom.values import Sample

# CPU time that is not work: idle, and iowait (idle while some disk request is outstanding).
# Same split as psutil.cpu_percent and htop, so this agrees with what people see on the box.
_NOT_BUSY = ("idle", "iowait")
# On Linux guest time is already counted inside user/nice; adding it again would double count.
_COUNTED_TWICE = ("guest", "guest_nice")


class SystemSettings(CollectorSettings):
    """`type: system` — CPU and memory of this host."""

    type: Literal["system"]
    cpu_metric: str | None = Field(
        default="server_cpu",
        pattern=METRIC_NAME,
        description="Metric for CPU busy % across all cores since the previous poll; null to skip.",
    )
    memory_metric: str | None = Field(
        default="host_memory",
        pattern=METRIC_NAME,
        description="Metric for memory used % (psutil virtual_memory().percent); null to skip.",
    )

    @model_validator(mode="after")
    def _something_to_read(self) -> SystemSettings:
        if self.cpu_metric is None and self.memory_metric is None:
            raise ValueError("cpu_metric and memory_metric are both null: nothing to collect")
        if self.cpu_metric == self.memory_metric:
            raise ValueError(f"cpu_metric and memory_metric are both {self.cpu_metric!r}")
        return self

    def produces(self) -> list[str]:
        """The metrics that are not switched off."""
        return [name for name in (self.cpu_metric, self.memory_metric) if name is not None]


def busy_percent(before: Any, after: Any) -> float | None:
    """CPU busy % between two psutil `cpu_times()` tuples; None when no CPU time passed."""
    deltas = {}
    for field in after._fields:
        # A counter that steps back (seen on some kernels and VMs) is treated as no time, as top does.
        deltas[field] = max(0.0, getattr(after, field) - getattr(before, field, 0.0))
    total = sum(value for field, value in deltas.items() if field not in _COUNTED_TWICE)
    if total <= 0:
        return None
    busy = total - sum(deltas.get(field, 0.0) for field in _NOT_BUSY)
    return min(100.0, max(0.0, busy / total * 100.0))


class SystemCollector(Collector):
    """CPU from the difference of `cpu_times()` between polls, memory from `virtual_memory()`."""

    settings_model = SystemSettings
    settings: SystemSettings

    def __init__(self, settings: SystemSettings, context: CollectorContext):
        super().__init__(settings, context)
        self._last_times: Any = None

    def check(self) -> None:
        """Take the first CPU reading, so the first poll already has an interval to measure."""
        if self.settings.cpu_metric is not None:
            try:
                self._last_times = self.context.ps().cpu_times()
            except Exception as exc:  # psutil raises OSError subclasses and its own Error types
                raise CollectError(f"psutil cpu_times(): {exc}") from exc

    def collect(self, now: datetime) -> list[Sample]:
        """One CPU and one memory sample; a poll without a previous CPU reading only primes CPU."""
        # Not psutil.cpu_percent(interval=None): psutil keeps its "since last call" state per thread,
        # and the scheduler's pool calls collect from any thread, so a fresh thread would read ~0 %.
        ps = self.context.ps()
        samples: list[Sample] = []
        problems: list[str] = []
        if self.settings.memory_metric is not None:
            try:
                samples.append(Sample(now, self.settings.memory_metric, float(ps.virtual_memory().percent)))
            except Exception as exc:  # psutil raises OSError subclasses and its own Error types
                problems.append(f"psutil virtual_memory(): {exc}")
        if self.settings.cpu_metric is not None:
            try:
                times = ps.cpu_times()
            except Exception as exc:  # psutil raises OSError subclasses and its own Error types
                problems.append(f"psutil cpu_times(): {exc}")
            else:
                if self._last_times is not None:
                    percent = busy_percent(self._last_times, times)
                    if percent is None:
                        # Keep the older reading so the next poll measures a longer, real interval.
                        problems.append("psutil cpu_times(): no CPU time passed since the previous poll")
                        times = self._last_times
                    else:
                        samples.append(Sample(now, self.settings.cpu_metric, percent))
                self._last_times = times
        if problems:
            raise CollectError("; ".join(problems), samples=samples)
        return samples
