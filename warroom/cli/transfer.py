"""`warroom export` and `warroom import`: a night's record to files and back whole; samples from elsewhere.

Every refusal is one line naming its cause and exit 2, before any work where it can be known (the
output folder, the options), and nothing of a refused import is kept: a file the import created is
removed again.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from warroom.cli.startup import load_or_exit
from warroom.config.load import LoadedConfig

EXIT_REFUSED = 2


def _say(command: str, message: str) -> int:
    from warroom.outside_text import on_terminal

    print(f"warroom {command}: {on_terminal(str(message))}", file=sys.stderr)
    return EXIT_REFUSED


def _moment(text: str | None, option: str, zone: str = "UTC") -> datetime | None:
    """--from/--to: ISO-8601 (a time without an offset is in `zone`); SystemExit(2) naming the option."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SystemExit(_say("export", f"{option} {text[:60]!r} is not an ISO-8601 time "
                                        "(e.g. 2024-11-11T23:30:00+08:00)")) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def cmd_export(args: argparse.Namespace) -> int:
    """Write the whole record (every table, bounded by time) and its manifest into a new folder."""
    from warroom.archive.replay import ArchiveError, check_file
    from warroom.store.outfile import OutputRefused
    from warroom.store.transfer import export

    start, end = _moment(args.start, "--from"), _moment(args.end, "--to")
    if start and end and end <= start:
        return _say("export", f"--to ({end.isoformat()}) must be after --from ({start.isoformat()})")
    try:
        check_file(Path(args.db))
        t0 = time.perf_counter()
        counts = export(Path(args.db), Path(args.output), args.format, start, end)
    except (ArchiveError, OutputRefused) as err:
        return _say("export", str(err))
    seconds = time.perf_counter() - t0
    for table, rows in counts.items():
        print(f"warroom export: {Path(args.output) / f'{table}.{args.format}'}: {rows:,} rows")
    print(f"warroom export: {sum(counts.values()):,} rows in {seconds:.2f} s, with manifest.json "
          f"(`warroom import --db NEW.duckdb {args.output}` brings it back whole)")
    return 0


def _night(store, loaded: LoadedConfig | None):  # noqa: ANN001, ANN202 - (LoadedConfig | None, record | None)
    """The config a file's night is read with (its recorded one, else -c) and its campaign, if it has one."""
    from warroom.config.load import ConfigError
    from warroom.record.campaign import current, recorded_config

    record = current(store.reader())
    try:
        return recorded_config(store, record, loaded, str(store.path)), record
    except ConfigError:
        return loaded, record


def shown_window(loaded: LoadedConfig | None, record) -> tuple[datetime, datetime] | None:  # noqa: ANN001
    """The moments a night shows: from its first start (or its start) to the later of its end and its last
    run-sheet step. None when it is not known yet (no campaign in the file and a relative one in the config)."""
    if loaded is None:
        return None
    c = loaded.config.campaign
    if record is not None:
        lo = min(t for t in (record.start, record.anchor) if t is not None)
        steps = [c.resolve_moment(s.at, record.anchor) for s in c.run_sheet]
        return lo, max([record.end, *steps])
    if c.start is None or c.start.startswith("+") or c.end.startswith("+"):
        return None  # anchored at the first sample when the file gets its campaign: nothing lies before it
    start, end = c.resolve(datetime.now().astimezone())
    steps = [c.resolve_moment(s.at, start) for s in c.run_sheet if not s.at.startswith("+")]
    return start, max([end, *steps])


def cmd_import(args: argparse.Namespace) -> int:
    """Load an export folder (the whole record) or samples (CSV, Parquet, a Prometheus query); all or nothing."""
    from warroom.store.database import Store, StoreError
    from warroom.store.transfer import ImportRefused

    if (args.source is None) == (args.promql is None):
        return _say("import", "give either a SOURCE (an export folder, or a .csv / .parquet of samples) or "
                              "--promql URL QUERY")
    if args.promql and not (args.metric and args.start and args.end):
        return _say("import", "--promql needs --metric, --from and --to")
    start, end = _moment(args.start, "--from"), _moment(args.end, "--to")
    if start and end and end <= start:
        return _say("import", f"--to ({end.isoformat()}) must be after --from ({start.isoformat()})")
    source = Path(args.source) if args.source else None
    if source is not None and not source.exists():
        return _say("import", f"{source}: no such file or folder")
    loaded = load_or_exit(args.config) if Path(args.config).exists() else None
    db = Path(args.db)
    created = not db.exists()
    try:
        store = Store(db)
    except StoreError as err:
        return _say("import", str(err))
    t0 = time.perf_counter()
    refused = None
    try:
        if source is not None and source.is_dir():
            from warroom.store.transfer import import_record

            done, what = import_record(store, source), "record"
            done.not_shown.update(_unshown(store))
        else:
            done, what = _import_samples(store, source, args, loaded, start, end), "samples"
    except ImportRefused as err:
        refused = str(err)
    finally:
        store.close()
    if refused is not None:
        if created:
            _remove(db)  # nothing of a refused import is kept, not even the empty file it made
        return _say("import", refused)
    _report(args.db, done, what, time.perf_counter() - t0)
    return 0 if sum(done.rows.values()) or not done.not_shown else EXIT_REFUSED


def _unshown(store) -> dict[str, int]:  # noqa: ANN001 - a Store
    """A restored record keeps every row; what its own config never shows is said, per metric (none normally:
    the daemon stores only what its collectors write; a metric added on a restart is one)."""
    from warroom.daemon.scheduler import TICK_LAG_METRIC

    config, _ = _night(store, None)
    if config is None:
        return {}
    known = sorted({*config.config.metrics, *config.config.feeders(), TICK_LAG_METRIC})
    rows = store.execute("SELECT metric, count(*) FROM samples WHERE NOT list_contains(?, metric) GROUP BY metric "
                         "ORDER BY metric LIMIT 20", [known]).fetchall()
    return {f"kept in the record, but its config has no metric {metric!r}": int(n) for metric, n in rows}


def _import_samples(store, source: Path | None, args: argparse.Namespace, loaded: LoadedConfig | None,  # noqa: ANN001
                    start: datetime | None, end: datetime | None):  # noqa: ANN202 - transfer.Imported
    """Samples from a file or Prometheus, keeping only what the night shows; a new file gets its campaign."""
    from warroom.record.campaign import begin
    from warroom.store.intake import import_file, import_promql

    config, record = _night(store, loaded)
    known = None if config is None else {*config.config.metrics, *config.config.feeders()}
    window = shown_window(config, record)
    if args.promql:
        if known is not None and args.metric not in known:
            from warroom.store.transfer import ImportRefused

            raise ImportRefused(f"--metric {args.metric!r} is not a metric of the config; add it there first")
        done = import_promql(store, args.promql[0], args.promql[1], args.metric, start, end, args.step,
                             known=known, window=window)
    else:
        done = import_file(store, source, known, window)
    if loaded is not None and record is None and done.first is not None:
        begin(store, loaded, done.first)  # a night recorded elsewhere: the campaign and config to read it with
    return done


def _report(db: str, done, what: str, seconds: float) -> None:  # noqa: ANN001 - transfer.Imported
    rows = sum(done.rows.values())
    if what == "record":
        print(f"warroom import: the whole record into {db}: " + ", ".join(
            f"{t} {n:,}" for t, n in done.rows.items() if n) + f" in {seconds:.2f} s")
    else:
        print(f"warroom import: {rows:,} samples into {db} in {seconds:.2f} s ({rows / max(seconds, 1e-9):,.0f}/s)")
    for why, n in done.not_shown.items():
        if why.startswith("kept"):
            print(f"warroom import: {n:,} rows {why}")
        else:
            print(f"warroom import: not imported, the night would never show them: {n:,} rows, {why}")


def _remove(db: Path) -> None:
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)


def add_transfer_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register export and import on the main parser."""
    p = add("export", cmd_export, "Export the whole record (every table and a manifest) to a new folder.")
    p.add_argument("--db", required=True, help="the database file (read-only)")
    p.add_argument("--from", dest="start", help="start (ISO-8601; naive = UTC)")
    p.add_argument("--to", dest="end", help="end (ISO-8601; naive = UTC)")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("-o", "--output", required=True, help="a new folder to write <table>.<format> and manifest.json")
    p = add("import", cmd_import, "Import an export folder (the whole record), or samples (ts, metric, value) "
                                  "from CSV / Parquet or a Prometheus range query.")
    p.add_argument("--db", required=True, help="the database file to load into (created if missing)")
    p.add_argument("source", nargs="?", help="an export folder, or a .csv / .parquet file with columns ts, metric, "
                                             "value (the name is taken literally)")
    p.add_argument("--promql", nargs=2, metavar=("URL", "QUERY"), help="a Prometheus server and a query")
    p.add_argument("--metric", help="the metric name the query's series is stored as")
    p.add_argument("--from", dest="start", help="range start (ISO-8601; naive = UTC)")
    p.add_argument("--to", dest="end", help="range end")
    p.add_argument("--step", type=float, default=15.0, help="seconds between points (default 15)")
