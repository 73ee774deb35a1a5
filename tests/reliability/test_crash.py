"""A few SIGKILLs of a daemon that is ingesting and paging (bench/crash_bench.py runs more)."""

from __future__ import annotations

import pytest

from tests.harness.crash import CrashReport, run_trials

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> CrashReport:
    """Three kills at random moments, shared by the checks below."""
    return run_trials(3, tmp_path_factory.mktemp("crash"), seed=7, log=lambda _: None)


def test_no_committed_sample_lost_and_open_alerts_restored(report):
    figures = "\n".join(report.lines())
    assert report.committed_checked > 0 and report.pages_received > 0, figures
    assert not report.problems(), figures + "\n" + "\n".join(report.problems())
    # the bench's goal is 2 s; this machine is shared, so the test only catches a hang
    assert max(report.restart_s) < 20, figures


def test_no_page_delivered_twice_nor_lost_across_kills(report):
    # issue 9 items 3/4 are the lead's: before main's pager lanes a resolved alert's pending page was dropped by a kill
    assert not report.pager_problems(), "\n".join(report.pager_problems())
