"""The `warroom` command: validate, collect, demo, up, replay."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from warroom import __version__
from warroom.config import ConfigError, LoadedConfig, load_config
from warroom.console import ensure_tokens
from warroom.night_cli import add_night_commands

EXIT_CONFIG = 2

HELP = """\
warroom watches the numbers of a campaign's last hours, colours them yellow / orange / red, and
shows beside each level the person who decides. Start with:

  warroom validate            check config.yaml and print a one-line summary
  warroom up                  start the demo night (if configured), the daemon and the board
  warroom collect             run only the daemon: poll, store, serve the API on 127.0.0.1:8765
  warroom demo                run only the simulated campaign system of the demo night
  warroom replay --db FILE    serve an archived night read-only, to replay it second by second
  warroom report --db FILE    write the night's report: one self-contained HTML file
  warroom export / import     the record to CSV / Parquet; samples from files or Prometheus
  warroom alerts              list open and recent alerts: level, who decides, since when
  warroom ack ID --as ROLE    acknowledge an alert (the token from `warroom up` or WARROOM_TOKEN)
  warroom duty [set ROLE --person NAME --phone P --until T | end ROLE]   who is on duty; stand in
  warroom silence --metric M --for 30m --by NAME --reason WHY

Every command takes -c/--config FILE (default: config.yaml in the current folder).
"""


class _Masking(logging.Filter):
    """Replaces secrets that came from the environment in every log line."""

    def __init__(self, loaded: LoadedConfig):
        super().__init__()
        self.loaded = loaded

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.loaded.mask(record.getMessage())
        record.args = None
        return True


def _logging(loaded: LoadedConfig | None, verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if loaded:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_Masking(loaded))


def _load(path: str) -> LoadedConfig:
    try:
        return load_config(path)
    except ConfigError as err:
        print(f"warroom: config {err.source} is not valid:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def _readable_db(db: Path, command: str) -> bool:
    """Refuse a damaged database file in one line, before the heavy imports and before anything is written."""
    from warroom.dbfile import DamagedDatabase, DatabaseBusy, check_file

    try:
        check_file(db)
    except DamagedDatabase as err:
        print(f"warroom {command}: {err}", file=sys.stderr)
        return False
    except DatabaseBusy:
        pass  # the daemon's own open says so, with the hint about another daemon
    return True


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 with a summary, or 2 with every problem."""
    print(_load(args.config).summary())
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    """Run the daemon until SIGINT/SIGTERM."""
    from warroom.daemon import Daemon, ListenError
    from warroom.store import DamagedStore, StoreError

    loaded = _load(args.config)
    if not _readable_db(Path(args.db) if args.db else loaded.path(loaded.config.server.database), "collect"):
        return EXIT_CONFIG
    _logging(loaded, args.verbose)
    daemon = Daemon(loaded, db_path=args.db, port=args.port)
    try:
        daemon.start()
    except DamagedStore as err:
        print(f"warroom collect: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except (ListenError, StoreError) as err:
        print(f"warroom collect: {err}", file=sys.stderr)
        return 1
    server = loaded.config.server
    print(f"warroom collect: API on http://{server.host}:{daemon.api.port}/api/v1/board  "
          f"(database {daemon.db_path})", flush=True)
    daemon.wait()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the simulated campaign system."""
    from demo.server import run_demo

    _logging(None, args.verbose)
    run_demo(args.host, args.port, args.scenario, args.speed, args.loop, args.start_at)
    return 0


def cmd_board(args: argparse.Namespace) -> int:
    """Run the Streamlit wall board against the daemon's API (it never opens the database)."""
    loaded = _load(args.config)
    server = loaded.config.server
    api = args.api or f"http://{server.host}:{server.port}"
    argv = streamlit_argv(api, args.host, args.port, str(Path(args.config).resolve()))
    print(f"warroom board: http://{args.host}:{args.port}/?kiosk=1  (API {api})", flush=True)
    # exec, not a child: a SIGTERM to `warroom board` must reach Streamlit and free its port
    os.execv(sys.executable, argv)
    return 0


def streamlit_argv(api: str, host: str, port: int, config: str | None) -> list[str]:
    """The Streamlit command line of the board against `api`."""
    entry = Path(__file__).resolve().parent.parent / "app" / "wall.py"
    return [sys.executable, "-m", "streamlit", "run", str(entry),
            "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            # A wall stays connected all night: ping every 20 s so a dead socket is noticed and reconnected.
            "--server.websocketPingInterval", "20",
            # Production board: no file watching (CPU and memory over a long night), no developer toolbar.
            "--server.fileWatcherType", "none", "--server.runOnSave", "false", "--client.toolbarMode", "viewer",
            "--theme.base", "dark",
            # Streamlit runs a full gc.collect(2) after every script run, fragment reruns included: with
            # every wall refreshing each second that was over half of the board's CPU. Python's own
            # generational GC still runs; bench.board_bench checks that memory stays flat without it.
            "--runner.postScriptGC", "false",
            "--", "--api", api, *(["--config", config] if config else [])]


def cmd_alerts(args: argparse.Namespace) -> int:
    """Open alerts and recent ones, readably."""
    from warroom.console import cmd_alerts as run

    return run(_load(args.config), args.api, args.window, args.json)


def cmd_ack(args: argparse.Namespace) -> int:
    """Acknowledge an alert as a role."""
    from warroom.console import cmd_ack as run

    return run(_load(args.config), args.api, args.id, args.as_role, args.note, args.json)


def cmd_duty(args: argparse.Namespace) -> int:
    """Who holds every role now; stand someone in, or end a stand-in."""
    from warroom.console import cmd_duty as run

    return run(_load(args.config), args.api, args)


def cmd_silence(args: argparse.Namespace) -> int:
    """Silence one metric (or all) for a window."""
    from warroom.console import api_call

    code, answer = api_call(_load(args.config), args.api, "POST", "/api/v1/silences",
                            {"metric": args.metric, "duration": args.duration, "author": args.by,
                             "reason": args.reason})
    if code == 0:
        print(f"silenced {answer.get('metric') or 'every metric'} until {answer.get('ends_at')}: alerts are "
              "still recorded, nobody is paged")
    return code


def _spawn(name: str, argv: list[str]) -> subprocess.Popen[bytes]:
    print(f"warroom up: starting {name}: {' '.join(argv)}", flush=True)
    return subprocess.Popen(argv, start_new_session=True)


def cmd_up(args: argparse.Namespace) -> int:
    """Start demo (when configured), daemon and board as child processes and keep them running."""
    loaded = _load(args.config)
    cfg = loaded.config
    exe = [sys.executable, "-m", "warroom.cli"]
    # A night needs a board token and an ack-link secret: given, kept from the last run (old ack links
    # keep working), or made here; handed to the children through the environment, never printed.
    tokens, made = ensure_tokens(loaded)
    if made:
        print(f"warroom up: generated {', '.join(made)} in {tokens} (readable by you only; `warroom ack` "
              "reads it there)", flush=True)
    children: dict[str, list[str]] = {}
    if cfg.demo is not None and not args.no_demo:
        demo = [*exe, "demo", "--host", cfg.demo.host, "--port", str(cfg.demo.port), "--speed", str(cfg.demo.speed)]
        if cfg.demo.scenario:
            demo += ["--scenario", str(loaded.path(cfg.demo.scenario))]
        if cfg.demo.loop:
            demo.append("--loop")
        children["demo"] = demo
    children["daemon"] = [*exe, "collect", "-c", args.config]
    board = _board_argv(args.config)
    if board:
        children["board"] = board
    procs = {name: _spawn(name, argv) for name, argv in children.items()}
    print(f"warroom up: API http://{cfg.server.host}:{cfg.server.port}/api/v1/board"
          + ("" if board else "  (the wall board is not installed yet)") + "  — Ctrl-C stops everything",
          flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    restarts: dict[str, int] = {}
    try:
        while not stopping:
            time.sleep(0.5)
            for name, proc in list(procs.items()):
                code = proc.poll()
                if code is None:
                    continue
                if name == "daemon" and code == EXIT_CONFIG:
                    return code
                # The board or the demo dying must not end the night; the daemon neither.
                restarts[name] = restarts.get(name, 0) + 1
                if restarts[name] > 20:
                    print(f"warroom up: {name} keeps exiting (code {code}); giving up", file=sys.stderr)
                    return 1
                print(f"warroom up: {name} exited with code {code}; restarting", file=sys.stderr, flush=True)
                time.sleep(min(5, restarts[name]))
                procs[name] = _spawn(name, children[name])
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    return 0


def _board_argv(config: str) -> list[str] | None:
    """The Streamlit board command, once the board exists."""
    entry = Path(__file__).resolve().parent.parent / "app" / "wall.py"
    if not entry.exists():
        return None
    return [sys.executable, "-m", "warroom.cli", "board", "-c", config]


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options."""
    parser = argparse.ArgumentParser(prog="warroom", description=HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"warroom {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func, help_text: str) -> argparse.ArgumentParser:  # noqa: ANN001
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("-c", "--config", default="config.yaml", help="config file (default: config.yaml)")
        p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
        p.set_defaults(func=func)
        return p

    add("validate", cmd_validate, "Check the config; exit 0 with a summary or 2 with every problem.")
    p = add("collect", cmd_collect, "Run the daemon: poll every collector, store samples, serve the API.")
    p.add_argument("--db", help="database file (default: server.database from the config)")
    p.add_argument("--port", type=int, help="API port (default: server.port from the config)")
    p = add("demo", cmd_demo, "Serve the simulated campaign night (23:00–00:30 in 10 minutes by default).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8780)
    p.add_argument("--speed", type=float, default=9.0, help="scenario seconds per real second (default 9)")
    p.add_argument("--scenario", help="a night file to play instead of the built-in demo/night.yaml")
    p.add_argument("--loop", action="store_true", help="start the night again when it ends")
    p.add_argument("--start-at", help="scenario time to start at, e.g. 23:25:00")
    p = add("up", cmd_up, "Start the demo (when configured), the daemon and the board together.")
    p.add_argument("--no-demo", action="store_true", help="do not start the demo night")
    p = add("alerts", cmd_alerts, "List open alerts and those of the last hours: level, who decides, since when.")
    p.add_argument("--window", default="2h", help="how far back to list resolved alerts (default 2h)")
    p.add_argument("--json", action="store_true", help="print the API's answer instead")
    p.add_argument("--api", help="the daemon's API base URL (default: from the config)")
    p = add("ack", cmd_ack, "Acknowledge an alert: paging and escalation stop until its level rises.")
    p.add_argument("id", type=int, help="alert id (from the board or the page)")
    p.add_argument("--as", dest="as_role", required=True, help="your role, e.g. ops_lead")
    p.add_argument("--note", help="what you are doing about it")
    p.add_argument("--json", action="store_true", help="print the API's answer instead")
    p.add_argument("--api", help="the daemon's API base URL (default: from the config)")
    p = add("duty", cmd_duty, "Who holds every role now (shifts, stand-ins); `set` / `end` a stand-in.")
    p.add_argument("action", nargs="?", choices=["list", "set", "end"], default="list")
    p.add_argument("role", nargs="?", help="the role, e.g. general_manager (set, end)")
    p.add_argument("--person", help="an entry of people, or the stand-in's name (set)")
    p.add_argument("--phone", help="the stand-in's phone (set)")
    p.add_argument("--until", help="ISO-8601 or +2h; open-ended when omitted (set)")
    p.add_argument("--by", default=os.environ.get("USER", "cli"), help="who makes the change (decision log)")
    p.add_argument("--api", help="the daemon's API base URL (default: from the config)")
    p = add("silence", cmd_silence, "Silence a metric (or all) for a window; alerts are still recorded.")
    p.add_argument("--metric", help="one metric; omit to silence every metric (maintenance)")
    p.add_argument("--for", dest="duration", default="30m", help="how long, e.g. 30m (default)")
    p.add_argument("--by", required=True, help="who is silencing")
    p.add_argument("--reason", required=True, help="why (recorded in the decision log)")
    p.add_argument("--api", help="the daemon's API base URL (default: from the config)")
    p = add("board", cmd_board, "Run the wall board (Streamlit) that reads the daemon's API.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--api", help="the daemon's API base URL (default: from the config's server section)")
    add_night_commands(add)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `warroom` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
