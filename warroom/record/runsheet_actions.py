"""Run-sheet steps warroom does itself at their time (`do: report` / `do: archive`): T=0 without a keyboard.

The seed's run sheet asks for "export, snapshot" at 00:05 and "full backup, first end-of-campaign report"
at 00:30, and calls a data vacuum after the event a fatal mistake. A step with `do:` is done by warroom:
`archive` writes a consistent copy of the night's database (DuckDB's COPY FROM DATABASE: one snapshot,
while the writer goes on) beside the live file under `reports/`; `report` writes that copy and the
night's report from it. The step is then recorded done by warroom in the decision log and its owner
(whoever holds the role then) is paged with where the files are and a link to the report.

It runs in its own thread, and the report in its own process (building a whole day's charts holds a
core for seconds, which must never be taken from polling or paging). A failure is logged, recorded
(`runsheet_failed`) and paged, never fatal; a step is done at most once, also across restarts (its
decision-log row says so); a step whose time passed while the daemon was down is done when it starts.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from alerts.notifiers import deliver
from alerts.notifiers.page import Delivery, Page
from alerts.roster import Roster
from warroom.config.channels import shown
from warroom.config.models import WarroomConfig
from warroom.record import decisions
from warroom.record.runsheet import ACTOR
from warroom.record.runsheet_words import step_page
from warroom.store.database import Store
from warroom.store.outfile import OutputRefused, abandon, begin_folder
from warroom.store.schema import from_db_ts, to_db_ts

log = logging.getLogger("warroom.runsheet")

REPORTS = "reports"
"""The folder beside the database where the copies and reports go."""
REPORT_TIMEOUT_S = 900.0
# A failed step (a full disk, a report that crashed) is tried again, a few times, minutes apart.
MAX_TRIES = 3
RETRY_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class StepOutcome:
    """What a step's action left: the files written, or why it failed."""

    index: int
    copy: Path | None = None
    report: Path | None = None
    error: str | None = None


def copy_database(store: Store, out: Path) -> Path:
    """A consistent copy of the open database at `out`: one snapshot, written under a temporary name, renamed."""
    folder = begin_folder(out.parent / f".{out.name}")  # proves the place writable; the copy goes inside
    partial = folder / out.name
    cur = store.con.cursor()
    try:
        name = cur.execute("SELECT current_database()").fetchall()[0][0]
        alias = f"wr_copy_{os.getpid()}_{threading.get_ident()}"
        cur.execute(f"ATTACH '{str(partial).replace(chr(39), chr(39) * 2)}' AS {alias}")
        try:
            cur.execute(f'COPY FROM DATABASE "{name}" TO {alias}')
        finally:
            cur.execute(f"DETACH {alias}")
        os.replace(partial, out)
    except duckdb.Error as err:
        raise OSError(f"copy of the database failed: {str(err).splitlines()[0]}") from None
    finally:
        cur.close()
        abandon(folder)
    return out


class RunSheetActions:
    """Does the `do:` steps of the run sheet at their time, in a thread of its own."""

    def __init__(self, cfg: WarroomConfig, store: Store, roster: Roster, clock: Callable[[], datetime],
                 anchor: datetime, db_path: Path, *, send: Callable[[str, Page], Delivery] | None = None,
                 report_url: Callable[[str], str | None] = lambda _: None, mask: Callable[[str], str] = lambda s: s,
                 python: str = sys.executable, leading: Callable[[], bool] = lambda: True):
        self.cfg, self.store, self.roster, self.clock = cfg, store, roster, clock
        self.anchor = anchor
        self.folder = db_path.parent / REPORTS
        self.stem = db_path.stem
        self.send = send or (lambda url, page: deliver(url, page, timeout=cfg.alerts.delivery_timeout))
        self.report_url, self.mask, self.python = report_url, mask, python
        self.leading = leading  # high availability: a step is done once per night, by the node that pages
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self.pages: list[threading.Thread] = []
        # What this process did, for when its decision-log row is still waiting in the store's backlog (a full
        # disk): without it a failed step would be done, recorded and paged again every second.
        self._tried: dict[int, tuple[bool, int, datetime | None]] = {}

    def steps(self) -> list[tuple[int, datetime]]:
        """(index, planned moment) of every step warroom does itself."""
        c = self.cfg.campaign
        return [(i, c.resolve_moment(s.at, self.anchor)) for i, s in enumerate(c.run_sheet) if s.do]

    def tries(self, index: int) -> tuple[bool, int, datetime | None]:
        """(done, failed attempts, the last failure) of a step, from warroom's own rows in the decision log."""
        done, failed, last = self.store.execute(
            "SELECT count(*) FILTER (WHERE kind IN ('runsheet', 'note')), count(*) FILTER (WHERE kind = "
            "'runsheet_failed'), max(ts) FILTER (WHERE kind = 'runsheet_failed') FROM annotations "
            "WHERE role = ? AND ref = ? AND ts >= ?",
            [ACTOR, f"runsheet:{index}", to_db_ts(self.anchor - timedelta(days=1))]).fetchall()[0]
        mine_done, mine_failed, mine_last = self._tried.get(index, (False, 0, None))
        lasts = [t for t in (from_db_ts(last), mine_last) if t is not None]
        return bool(done) or mine_done, max(int(failed), mine_failed), max(lasts) if lasts else None

    def due(self, now: datetime) -> list[int]:
        """Steps whose time has come that warroom has not done yet (a failed one again after RETRY_AFTER)."""
        out = []
        for index, at in self.steps():
            if at > now:
                continue
            done, failed, last = self.tries(index)
            if not done and failed < MAX_TRIES and (last is None or now - last >= RETRY_AFTER):
                out.append(index)
        return out

    def start(self) -> None:
        """Watch the clock in a thread of its own (nothing to do without `do:` steps)."""
        if not self.steps():
            return
        self._thread = threading.Thread(target=self._watch, name="runsheet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; a report being written is stopped too (the step stays not done, so it runs again)."""
        self._stop.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
        if self._thread is not None:
            self._thread.join(10)

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            if not self.leading():
                continue
            try:
                for index in self.due(self.clock()):
                    if self._stop.is_set():
                        return
                    self.run(index)
            except Exception:  # noqa: BLE001 - the watcher must outlive a bad moment
                log.exception("run-sheet actions: checking the steps failed")

    def run(self, index: int) -> StepOutcome:
        """Do step `index` now: write what it asks, record it, page its owner; never raises."""
        step = self.cfg.campaign.run_sheet[index]
        planned = self.cfg.campaign.resolve_moment(step.at, self.anchor)
        zone = ZoneInfo(self.cfg.campaign.timezone)
        base = f"{self.stem}-{planned.astimezone(zone):%Y%m%d-%H%M%S}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            copy = copy_database(self.store, self._fresh(self.folder / f"{base}.duckdb"))
            report = self._report(copy, self._fresh(self.folder / f"{base}-report.html")) \
                if step.do == "report" else None
            outcome = StepOutcome(index, copy, report)
        except (OSError, OutputRefused, subprocess.SubprocessError, RuntimeError) as err:
            outcome = StepOutcome(index, error=self.mask(str(err)))
        except Exception as err:  # noqa: BLE001 - a failure is recorded and paged, never fatal
            log.exception("run-sheet step %d (%s) failed", index, step.do)
            outcome = StepOutcome(index, error=f"{type(err).__name__}: {self.mask(str(err))}")
        if self._stop.is_set() and outcome.error is not None:
            return outcome  # stopped half-way: not recorded, so the next start does it again
        attempt = self.tries(index)[1] + 1
        self._tried[index] = (outcome.error is None, attempt - (outcome.error is None), self.clock())
        self._record(outcome, attempt)
        self._page(outcome, attempt)
        return outcome

    @staticmethod
    def _fresh(path: Path) -> Path:
        """`path`, or `path-2`… when a file of that name is already there (a step done again by hand)."""
        n, candidate = 1, path
        while candidate.exists():
            n += 1
            candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        return candidate

    def _report(self, copy: Path, out: Path) -> Path:
        """`warroom report` over the copy, in its own process."""
        argv = [self.python, "-m", "warroom.cli", "report", "--db", str(copy), "-o", str(out)]
        self._child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=copy.parent,
                                       start_new_session=True)
        try:
            _, err = self._child.communicate(timeout=REPORT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.communicate()
            raise RuntimeError(f"the report took longer than {REPORT_TIMEOUT_S:g}s and was stopped") from None
        finally:
            code, self._child = self._child.returncode, None
        # The report appears under its name only when whole (written under a temporary one, then renamed), so a
        # file there is the report even when the process was stopped on its way out.
        if not out.is_file():
            last = (err or b"").decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"warroom report failed (exit {code}): {last[-1][-300:] if last else 'no output'}")
        return out

    def _record(self, outcome: StepOutcome, attempt: int) -> None:
        """The step done by warroom (or why not), in the decision log."""
        step = self.cfg.campaign.run_sheet[outcome.index]
        now = self.clock()
        ref = f"runsheet:{outcome.index}"
        if outcome.error is not None:
            log.error("run-sheet step %d (%s: %s) failed: %s", outcome.index, step.do, step.action, outcome.error)
            decisions.record(self.store, now, ACTOR, f"could not do '{step.action}' (do: {step.do}, attempt "
                                                     f"{attempt} of {MAX_TRIES}): {outcome.error}",
                             role=ACTOR, kind="runsheet_failed", ref=ref)
            return
        files = ", ".join(str(p) for p in (outcome.report, outcome.copy) if p is not None)
        log.info("run-sheet step %d (%s) done by warroom: %s", outcome.index, step.action, files)
        marked = self.store.execute(
            "SELECT arg_max(kind, ts) FROM annotations WHERE ref = ? AND kind IN ('runsheet', 'runsheet_undo') "
            "AND ts >= ?", [ref, to_db_ts(self.anchor - timedelta(days=1))]).fetchall()[0][0]
        # Someone marked it done already: warroom's files are a note beside their mark, never a second mark.
        kind = "note" if marked == "runsheet" else "runsheet"
        decisions.record(self.store, now, ACTOR, f"done: {step.action} (by warroom: {files})", role=ACTOR, kind=kind,
                         ref=ref)

    def _page(self, outcome: StepOutcome, attempt: int) -> None:
        """Tell the step's owner (whoever holds the role now) where the files are; each channel in its own thread."""
        step = self.cfg.campaign.run_sheet[outcome.index]
        now = self.clock()
        holder = self.roster.holder(step.owner, now)
        if holder is None or not holder.channels:
            log.warning("run-sheet step %d: %s has no channel; nobody was told", outcome.index, step.owner)
            return
        link = self.report_url(outcome.report.name) if outcome.report is not None else None
        retry = now + RETRY_AFTER if outcome.error is not None and attempt < MAX_TRIES else None
        page = step_page(self.cfg, step, (outcome.copy, outcome.report), outcome.error, link, holder.name, now, retry,
                         self.store.path)
        for url in holder.channels:
            thread = threading.Thread(target=self._send, args=(url, page, outcome.index, holder.name),
                                      name=f"runsheet page {shown(url)}", daemon=True)
            self.pages.append(thread)
            thread.start()

    def _send(self, url: str, page: Page, index: int, person: str) -> None:
        attempts = max(1, self.cfg.alerts.max_delivery_failures)
        for attempt in range(1, attempts + 1):
            result = self.send(url, page)
            if result.ok or result.unconfirmed:
                log.info("run-sheet step %d: page to %s via %s: %s (attempt %d)", index, person, shown(url),
                         "delivered" if result.ok else "unconfirmed", attempt)
                return
            log.warning("run-sheet step %d: page to %s via %s failed (attempt %d): %s", index, person, shown(url),
                        attempt, self.mask(result.error or "failed"))
            if self._stop.wait(min(30.0, self.cfg.alerts.retry_backoff * 2 ** (attempt - 1))):
                return

