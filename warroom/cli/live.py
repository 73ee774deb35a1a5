"""The commands that run the night: the daemon, the demo, the board, and `up` for all three."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from warroom.cli.startup import EXIT_CONFIG, load_or_exit, readable_db, setup_logging
from warroom.cli.tokens import ensure_tokens
from warroom.config.load import LoadedConfig

# st.App around app/wall.py: Streamlit plus the sign-in links' exchange and sign-out (app/board.py)
BOARD_ENTRY = Path(__file__).resolve().parents[2] / "app" / "board.py"


def cmd_collect(args: argparse.Namespace) -> int:
    """Run the daemon until SIGINT/SIGTERM."""
    from warroom.daemon.daemon import Daemon, ListenError
    from warroom.store.database import DamagedStore, StoreError

    loaded = load_or_exit(args.config)
    if not readable_db(Path(args.db) if args.db else loaded.path(loaded.config.server.database), "collect"):
        return EXIT_CONFIG
    setup_logging(loaded, args.verbose)
    daemon = Daemon(loaded, db_path=args.db, port=args.port)
    try:
        daemon.start()
    except DamagedStore as err:
        print(f"warroom collect: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except ListenError as err:
        print(f"warroom collect: {err}", file=sys.stderr)
        return EXIT_CONFIG  # a busy port is the config's to change: `warroom up` must not restart into it
    except StoreError as err:
        print(f"warroom collect: {err}", file=sys.stderr)
        return 1
    server = loaded.config.server
    print(f"warroom collect: API on http://{server.host}:{daemon.api.port}/api/v1/board  "
          f"(database {daemon.db_path})", flush=True)
    daemon.wait()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the simulated campaign system: where and how fast from the config's `demo:` unless given here."""
    from demo.server import run_demo

    setup_logging(None, args.verbose)
    demo = None
    given = None not in (args.host, args.port, args.speed)  # `warroom up` gives all three
    if not given and Path(args.config).is_file():
        demo = load_or_exit(args.config).config.demo
    elif not given:
        print(f"warroom demo: no {args.config}; playing on the defaults", file=sys.stderr)
    host = args.host or (demo.host if demo else "127.0.0.1")
    port = args.port if args.port is not None else (demo.port if demo else 8780)
    key = "--port" if args.port is not None or demo is None else f"demo.port in {args.config}"
    busy = port_taken(host, port)
    if busy:
        print(f"warroom demo: port {port} on {host} is already in use ({busy}); it is set by {key}: stop what "
              "listens there or choose another port", file=sys.stderr)
        return EXIT_CONFIG
    scenario = args.scenario or (str(Path(args.config).resolve().parent / demo.scenario) if demo and demo.scenario
                                 else None)
    speed = args.speed if args.speed is not None else (demo.speed if demo else 9.0)
    run_demo(host, port, scenario, speed, args.loop or bool(demo and demo.loop), args.start_at)
    return 0


def port_taken(host: str, port: int) -> str | None:
    """Why (host, port) cannot be listened on now, e.g. 'Address already in use'; None when it can (0: any port)."""
    if port == 0:
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # as the daemon binds: a socket left in TIME_WAIT by a stopped run does not count as busy
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            return err.strerror or str(err)
    return None


def busy_ports(loaded: LoadedConfig, demo: bool, board: bool) -> list[str]:
    """One line per port `warroom up` needs that is taken (or asked for twice), naming the config key that sets it."""
    cfg = loaded.config
    wanted = [(cfg.demo.host, cfg.demo.port, "demo.port")] if demo and cfg.demo is not None else []
    wanted.append((cfg.server.host, cfg.server.port, "server.port"))
    if board:
        wanted.append(("127.0.0.1", cfg.server.board_port, "server.board_port"))
    lines, seen = [], {}
    for host, port, key in wanted:
        if port in seen:
            lines.append(f"warroom up: port {port} is set by both {seen[port]} and {key} in {loaded.source}: "
                         "give each its own port")
            continue
        seen[port] = key
        busy = port_taken(host, port)
        if busy:
            lines.append(f"warroom up: port {port} on {host} is already in use ({busy}); it is set by {key} in "
                         f"{loaded.source}: stop what listens there or change {key}")
    return lines


def cmd_board(args: argparse.Namespace) -> int:
    """Run the Streamlit wall board against the daemon's API (it never opens the database)."""
    loaded = load_or_exit(args.config)
    server = loaded.config.server
    from app.nodes import NodeListError, parse_bases

    api = args.api or f"http://{server.host}:{server.port}"
    try:
        api = ",".join(parse_bases(api))  # several nodes: the board reads the leader (app/nodes.py)
    except NodeListError as err:
        print(f"warroom board: {err}", file=sys.stderr)
        return EXIT_CONFIG
    port = args.port if args.port is not None else server.board_port
    argv = streamlit_argv(api, args.host, port, str(Path(args.config).resolve()))
    print(f"warroom board: http://{args.host}:{port}/?kiosk=1  (API {api})", flush=True)
    # exec, not a child: a SIGTERM to `warroom board` must reach Streamlit and free its port
    os.execv(sys.executable, argv)
    return 0


def streamlit_argv(api: str, host: str, port: int, config: str | None) -> list[str]:
    """The Streamlit command line of the board against `api`."""
    return [sys.executable, "-m", "streamlit", "run", str(BOARD_ENTRY),
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


def _spawn(name: str, argv: list[str]) -> subprocess.Popen[bytes]:
    print(f"warroom up: starting {name}: {' '.join(argv)}", flush=True)
    return subprocess.Popen(argv, start_new_session=True)


def cmd_up(args: argparse.Namespace) -> int:
    """Start demo (when configured), daemon and board as child processes and keep them running."""
    loaded = load_or_exit(args.config)
    cfg = loaded.config
    # Every port first: a demo that cannot listen once died in a restart loop while the daemon paged
    # whatever foreign server held its port.
    busy = busy_ports(loaded, cfg.demo is not None and not args.no_demo, BOARD_ENTRY.exists())
    if busy:
        print("\n".join(busy), file=sys.stderr)
        return EXIT_CONFIG
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
    board = _board_argv(args.config, cfg.server.board_port)
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
                if code == EXIT_CONFIG:  # a config problem (a port taken since the check): restarting cannot help
                    print(f"warroom up: {name} refused to start (exit {code}); stopping", file=sys.stderr)
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


def _board_argv(config: str, port: int) -> list[str] | None:
    """The Streamlit board command, once the board exists."""
    if not BOARD_ENTRY.exists():
        return None
    return [sys.executable, "-m", "warroom.cli", "board", "-c", config, "--port", str(port)]


def add_live_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """collect, demo, up, board."""
    p = add("collect", cmd_collect, "Run the daemon: poll every collector, store samples, serve the API.")
    p.add_argument("--db", help="database file (default: server.database from the config)")
    p.add_argument("--port", type=int, help="API port (default: server.port from the config)")
    p = add("demo", cmd_demo, "Serve the simulated campaign night (23:00–00:30 in 10 minutes by default).")
    p.add_argument("--host", help="default: demo.host from the config, else 127.0.0.1")
    p.add_argument("--port", type=int, help="default: demo.port from the config, else 8780")
    p.add_argument("--speed", type=float, help="scenario seconds per real second (default: demo.speed, else 9)")
    p.add_argument("--scenario", help="a night file to play instead of the built-in demo/night.yaml")
    p.add_argument("--loop", action="store_true", help="start the night again when it ends")
    p.add_argument("--start-at", help="scenario time to start at, e.g. 23:25:00")
    p = add("up", cmd_up, "Start the demo (when configured), the daemon and the board together.")
    p.add_argument("--no-demo", action="store_true", help="do not start the demo night")
    p = add("board", cmd_board, "Run the wall board (Streamlit) that reads the daemon's API.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="default: server.board_port from the config (8501)")
    p.add_argument("--api", help="the daemon's API base URL, or several nodes' as URL1,URL2 (the board reads the "
                                 "leader); default: from the config's server section")
