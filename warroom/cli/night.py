"""The night's commands of `warroom`: replay, report, export and import of a campaign's record."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from warroom.cli.live import streamlit_argv
from warroom.cli.startup import load_or_exit, setup_logging
from warroom.config.load import LoadedConfig

EXIT_BAD_FILE = 2


def _fallback_config(args: argparse.Namespace) -> LoadedConfig | None:
    """The -c config, used only for a v1 archive that holds no config snapshot of its own."""
    return load_or_exit(args.config) if Path(args.config).exists() else None


def _open_archive(args: argparse.Namespace):  # noqa: ANN202 - warroom.archive.replay.Archive, imported lazily
    """The archive named by --db, or one clear line on stderr and exit 2."""
    from warroom.archive.replay import ArchiveError, open_archive

    try:
        return open_archive(Path(args.db), _fallback_config(args))
    except ArchiveError as err:
        print(f"warroom {args.command}: {err}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_FILE) from None


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def cmd_replay(args: argparse.Namespace) -> int:
    """Serve an archived database read-only through the same API, with the board on its replay page."""
    from warroom.archive.replay import serve_replay

    archive = _open_archive(args)

    setup_logging(archive.loaded, args.verbose)
    # Own ports (free ones unless given): tonight's live daemon and board keep 8765 / 8501.
    port = args.port if args.port is not None else _free_port(args.host)
    board_port = None if args.no_board else (args.board_port or _free_port(args.host))
    argv = None
    if board_port is not None:
        argv = streamlit_argv(f"http://{args.host}:{port}", args.host, board_port, None)
    signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C: the board child and the scratch copy go too
    return serve_replay(archive, args.host, port, board_port, argv)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the campaign report of an archive as one self-contained HTML file."""
    import requests

    from warroom.archive.replay import ArchiveError
    from warroom.archive.report.make import make_report

    try:
        out = make_report(Path(args.db), Path(args.output), args.start, args.end, args.lang, _fallback_config(args))
    except ArchiveError as err:
        print(f"warroom report: {err}", file=sys.stderr)
        return EXIT_BAD_FILE
    except requests.HTTPError as err:
        message = err.response.json().get("error", {}).get("message") if err.response is not None else str(err)
        print(f"\nwarroom report: {message}", file=sys.stderr)
        return EXIT_BAD_FILE
    print(f"warroom report: {out} ({out.stat().st_size / 1024:.0f} KB)")
    return 0


def _moment(text: str | None, zone: str = "UTC"):  # noqa: ANN202 - datetime | None
    """--from/--to: ISO-8601; a time without an offset is in `zone`."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        print(f"warroom: {text!r} is not an ISO-8601 time (e.g. 2024-11-11T23:30:00+08:00)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_FILE) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def cmd_export(args: argparse.Namespace) -> int:
    """Write the record's tables (samples, level transitions, alerts, events, decisions) as CSV or Parquet."""
    import time

    from warroom.archive.replay import ArchiveError, check_file
    from warroom.store.transfer import export

    try:
        check_file(Path(args.db))
        t0 = time.perf_counter()
        counts = export(Path(args.db), Path(args.output), args.format, _moment(args.start), _moment(args.end))
    except ArchiveError as err:
        print(f"warroom export: {err}", file=sys.stderr)
        return EXIT_BAD_FILE
    seconds = time.perf_counter() - t0
    for table, rows in counts.items():
        print(f"warroom export: {Path(args.output) / f'{table}.{args.format}'}: {rows:,} rows")
    print(f"warroom export: {sum(counts.values()):,} rows in {seconds:.2f} s")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Load samples from CSV, Parquet or a Prometheus range query into a database file, all or nothing."""
    import time

    from warroom.record.campaign import begin, current
    from warroom.store.database import Store, StoreError
    from warroom.store.schema import first_row, from_db_ts
    from warroom.store.transfer import ImportRefused, import_file, import_promql

    if (args.source is None) == (args.promql is None):
        print("warroom import: give either a SOURCE file or --promql URL QUERY", file=sys.stderr)
        return EXIT_BAD_FILE
    loaded = _fallback_config(args)
    try:
        store = Store(Path(args.db))
    except StoreError as err:
        print(f"warroom import: {err}", file=sys.stderr)
        return EXIT_BAD_FILE
    try:
        t0 = time.perf_counter()
        if args.promql:
            if not (args.metric and args.start and args.end):
                print("warroom import: --promql needs --metric, --from and --to", file=sys.stderr)
                return EXIT_BAD_FILE
            n = import_promql(store, args.promql[0], args.promql[1], args.metric, _moment(args.start),
                              _moment(args.end), args.step)
        else:
            n = import_file(store, Path(args.source))
        seconds = time.perf_counter() - t0
        if loaded is not None and current(store.reader()) is None:
            # A night recorded elsewhere: give the file a campaign and the config to read it with.
            first = from_db_ts(first_row(store.execute("SELECT min(ts) FROM samples"))[0])
            if first is not None:
                begin(store, loaded, first)
    except ImportRefused as err:
        print(f"warroom import: {err}", file=sys.stderr)
        return EXIT_BAD_FILE
    finally:
        store.close()
    print(f"warroom import: {n:,} samples into {args.db} in {seconds:.2f} s ({n / max(seconds, 1e-9):,.0f}/s)")
    return 0


def add_night_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register replay, export, import and report on the main parser (`add` is cli.build_parser's helper)."""
    p = add("replay", cmd_replay, "Serve an archived night read-only through the same API, with its board.")
    p.add_argument("--db", required=True, help="the archived database file")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="API port (default: a free one, printed)")
    p.add_argument("--board-port", type=int, help="board port (default: a free one, printed)")
    p.add_argument("--no-board", action="store_true", help="serve only the API")
    p = add("export", cmd_export, "Export the record (samples, transitions, alerts, events, decisions) to files.")
    p.add_argument("--db", required=True, help="the database file (read-only)")
    p.add_argument("--from", dest="start", help="start (ISO-8601; naive = UTC)")
    p.add_argument("--to", dest="end", help="end (ISO-8601; naive = UTC)")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("-o", "--output", required=True, help="folder to write <table>.<format> into")
    p = add("import", cmd_import, "Import samples (ts, metric, value) from CSV / Parquet or a Prometheus range query.")
    p.add_argument("--db", required=True, help="the database file to load into (created if missing)")
    p.add_argument("source", nargs="?", help="a .csv or .parquet file with columns ts, metric, value")
    p.add_argument("--promql", nargs=2, metavar=("URL", "QUERY"), help="a Prometheus server and a query")
    p.add_argument("--metric", help="the metric name the query's series is stored as")
    p.add_argument("--from", dest="start", help="range start (ISO-8601; naive = UTC)")
    p.add_argument("--to", dest="end", help="range end")
    p.add_argument("--step", type=float, default=15.0, help="seconds between points (default 15)")
    p = add("report", cmd_report, "Write the campaign report of an archive: one self-contained HTML file.")
    p.add_argument("--db", required=True, help="the archived database file")
    p.add_argument("--from", dest="start", help="start (ISO-8601, naive = campaign timezone); default first sample")
    p.add_argument("--to", dest="end", help="end; default the last sample")
    p.add_argument("-o", "--output", default="report.html", help="output file (default report.html)")
    p.add_argument("--lang", choices=["zh-CN", "en"], help="language (default: the campaign's locale)")
