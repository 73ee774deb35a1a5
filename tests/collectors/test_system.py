"""`system` collector with a small psutil-like object (the injected-I/O pattern) and once with real psutil."""

from __future__ import annotations

import threading
import time
from collections import namedtuple
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from collectors.base import CollectError, CollectorContext
from collectors.system import SystemCollector, SystemSettings, busy_percent
from tests.collectors.conftest import by_metric, failure

# The field set psutil.cpu_times() has on Linux.
CpuTimes = namedtuple(
    "CpuTimes", "user nice system idle iowait irq softirq steal guest guest_nice", defaults=(0.0,) * 10
)


class FakePs:
    """Hands out the given cpu_times() readings in order; memory is a fixed percentage."""

    def __init__(self, *readings: CpuTimes, memory: float = 61.5):
        self.readings = list(readings)
        self.memory = memory
        self.memory_error: Exception | None = None

    def cpu_times(self) -> CpuTimes:
        return self.readings.pop(0)

    def virtual_memory(self) -> SimpleNamespace:
        if self.memory_error is not None:
            raise self.memory_error
        return SimpleNamespace(percent=self.memory)


START = CpuTimes(user=100, system=50, idle=800, iowait=50, guest=10)
# +30 user (5 of it guest, already inside user), +10 system, +50 idle, +10 iowait: 40 of 100 s busy.
LATER = CpuTimes(user=130, system=60, idle=850, iowait=60, guest=15)


def system(build, ps: FakePs, **settings):
    return build(SystemCollector, {"type": "system", **settings}, CollectorContext(psutil=ps))


def test_cpu_and_memory_after_check_primes(build, now):
    collector = system(build, FakePs(START, LATER))

    collector.check()
    samples = collector.collect(now)

    assert by_metric(samples) == {"server_cpu": pytest.approx(40.0), "host_memory": 61.5}
    assert all(sample.ts == now for sample in samples)


def test_cpu_does_not_depend_on_which_thread_polls(build, now):
    # psutil.cpu_percent(interval=None) keeps its baseline per thread; the scheduler's pool may call
    # collect from a thread that never called check, and that must not turn a busy host into ~0 %.
    collector = system(build, FakePs(START, LATER))
    collector.check()
    result: list[object] = []

    worker = threading.Thread(target=lambda: result.append(collector.collect(now)))
    worker.start()
    worker.join(timeout=5)

    assert by_metric(result[0])["server_cpu"] == pytest.approx(40.0)


def test_without_check_the_first_poll_only_primes_cpu(build, now):
    collector = system(build, FakePs(START, LATER))

    assert by_metric(collector.collect(now)) == {"host_memory": 61.5}
    assert by_metric(collector.collect(now))["server_cpu"] == pytest.approx(40.0)


def test_metric_names_and_switching_memory_off(build, now):
    collector = system(build, FakePs(START, LATER), cpu_metric="db_host_cpu", memory_metric=None)

    collector.check()

    assert by_metric(collector.collect(now)) == {"db_host_cpu": pytest.approx(40.0)}
    assert collector.settings.produces() == ["db_host_cpu"]


def test_a_psutil_failure_keeps_the_other_value(build, now):
    ps = FakePs(START, LATER)
    ps.memory_error = PermissionError("/proc/meminfo: permission denied")
    collector = system(build, ps)
    collector.check()

    error = failure(lambda: collector.collect(now))

    assert error.reason == "psutil virtual_memory(): /proc/meminfo: permission denied"
    assert by_metric(error.samples) == {"server_cpu": pytest.approx(40.0)}


def test_no_cpu_time_between_polls_is_a_failure_not_zero(build, now):
    collector = system(build, FakePs(START, START, LATER))
    collector.check()

    error = failure(lambda: collector.collect(now))

    assert "no CPU time passed" in error.reason
    assert by_metric(error.samples) == {"host_memory": 61.5}
    # The older baseline is kept, so the next poll measures from START.
    assert by_metric(collector.collect(now))["server_cpu"] == pytest.approx(40.0)


def test_check_reports_psutil_failure(build):
    class Broken(FakePs):
        def cpu_times(self) -> CpuTimes:
            raise OSError("no /proc")

    with pytest.raises(CollectError, match="psutil cpu_times\\(\\): no /proc"):
        system(build, Broken()).check()


def test_busy_percent_ignores_steps_backwards_and_stays_in_range():
    stepped = CpuTimes(user=90, system=60, idle=900, iowait=40)  # user and iowait went back

    assert busy_percent(START, stepped) == pytest.approx(10 / 110 * 100)
    assert busy_percent(START, START) is None
    assert 0.0 <= busy_percent(START, CpuTimes(user=200, system=50, idle=800, iowait=50, guest=10)) <= 100.0


def test_real_psutil(build, now):
    collector = build(SystemCollector, {"type": "system"}, CollectorContext())

    collector.check()
    time.sleep(0.2)
    values = by_metric(collector.collect(now))

    assert 0.0 <= values["server_cpu"] <= 100.0
    assert 0.0 < values["host_memory"] <= 100.0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"cpu_metric": None, "memory_metric": None}, "nothing to collect"),
        ({"cpu_metric": "cpu", "memory_metric": "cpu"}, "both 'cpu'"),
        ({"memory_metric": "Host Memory"}, "pattern"),
        ({"load_metric": "load"}, "Extra inputs"),
    ],
)
def test_settings_refuse_mistakes(change, expected):
    with pytest.raises(ValidationError, match=expected):
        SystemSettings.model_validate({"type": "system", "name": "host", **change})
