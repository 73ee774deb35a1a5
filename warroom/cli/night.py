"""The night's commands of `warroom`: replay and report of a campaign's record (export / import: cli.transfer)."""

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
    from warroom.archive.report.make import ReportRefused, make_report
    from warroom.store.outfile import OutputRefused

    try:
        out = make_report(Path(args.db), Path(args.output), args.start, args.end, args.lang, _fallback_config(args))
    except (ArchiveError, OutputRefused, ReportRefused) as err:
        print(f"warroom report: {err}", file=sys.stderr)
        return EXIT_BAD_FILE
    except requests.RequestException as err:
        print(f"\nwarroom report: {_api_reason(err)}", file=sys.stderr)
        return EXIT_BAD_FILE
    print(f"warroom report: {out} ({out.stat().st_size / 1024:.0f} KB)")
    return 0


def _api_reason(err: Exception) -> str:
    """What the archive's API said (its error message), or what went wrong reaching it."""
    response = getattr(err, "response", None)
    try:
        return response.json()["error"]["message"]
    except (AttributeError, ValueError, KeyError, TypeError):
        return f"{type(err).__name__}: {str(err)[:200]}"


def add_night_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register replay and report on the main parser (`add` is cli.build_parser's helper)."""
    p = add("replay", cmd_replay, "Serve an archived night read-only through the same API, with its board.")
    p.add_argument("--db", required=True, help="the archived database file")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="API port (default: a free one, printed)")
    p.add_argument("--board-port", type=int, help="board port (default: a free one, printed)")
    p.add_argument("--no-board", action="store_true", help="serve only the API")
    p = add("report", cmd_report, "Write the campaign report of an archive: one self-contained HTML file.")
    p.add_argument("--db", required=True, help="the archived database file")
    p.add_argument("--from", dest="start", help="start: ISO-8601 (naive = the campaign's timezone), 'now' or '-2h' "
                                                "('now' is the archive's last moment); default its first sample")
    p.add_argument("--to", dest="end", help="end, the same way; default its last sample")
    p.add_argument("-o", "--output", default="report.html", help="output file (default report.html)")
    p.add_argument("--lang", choices=["zh-CN", "en"], help="language (default: the campaign's locale)")
