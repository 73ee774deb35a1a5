"""`warroom link PERSON`: a personal sign-in link for a laptop, the same kind every page carries.

Signed with the ack secret (the environment, or the tokens file `warroom up` keeps) for whoever holds
the role now: the running daemon's `/api/v1/duty` says who (a shift, a stand-in), else the config's
person. The link is printed once to stdout, nothing else is: the caller decides where it goes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import requests

from alerts.signin import make_signin, signin_url
from warroom.cli.startup import load_or_exit
from warroom.cli.tokens import read_tokens, tokens_path
from warroom.config.load import LoadedConfig
from warroom.durations import parse_duration

DEFAULT_BOARD = "http://127.0.0.1:8501/"


def find_role(loaded: LoadedConfig, who: str) -> str | None:
    """The role for `who`: a role key (tech_lead), or a person's name or the start of it (王强)."""
    people = loaded.config.people
    if who in people:
        return who
    matches = [role for role, p in people.items() if p.name == who or p.name.split(" ")[0] == who]
    return matches[0] if len(matches) == 1 else None


def holder_name(loaded: LoadedConfig, role: str, api: str | None) -> tuple[str, str]:
    """Who holds `role` now and how we know: the daemon's duty roster, else the config."""
    server = loaded.config.server
    url = f"{api or f'http://{server.host}:{server.port}'}/api/v1/duty"
    try:
        held = requests.get(url, timeout=5).json()["roles"].get(role)
        if held and held.get("name"):
            return held["name"], f"holds {role} now ({held.get('how', 'config')})"
    except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError):
        pass
    return loaded.config.people[role].name, "from the config (the daemon did not answer)"


def cmd_link(args: argparse.Namespace) -> int:
    """Print a sign-in link for one person."""
    loaded = load_or_exit(args.config)
    cfg = loaded.config
    role = find_role(loaded, args.person)
    if role is None:
        print(f"warroom link: {args.person!r} is neither a role nor one person's name in people "
              f"({', '.join(cfg.people)})", file=sys.stderr)
        return 2
    name_env = cfg.alerts.ack_secret_env
    secret = os.environ.get(name_env) or read_tokens(tokens_path(loaded)).get(name_env, "")
    if not secret:
        print(f"warroom link: set {name_env} (the ack secret the daemon was started with), or run the daemon "
              f"with `warroom up`, which keeps it in {tokens_path(loaded)}", file=sys.stderr)
        return 1
    try:
        valid_for = parse_duration(args.valid_for) if args.valid_for else cfg.alerts.ack_valid_for
    except ValueError as err:
        print(f"warroom link: --for: {err}", file=sys.stderr)
        return 2
    valid_for = min(valid_for, cfg.alerts.ack_valid_for)  # never longer than a page's own link
    name, how = (args.name, "given with --name") if args.name else holder_name(loaded, role, args.api)
    expires = int(time.time() + valid_for)
    link = signin_url(cfg.alerts.board_url or DEFAULT_BOARD, role, make_signin(secret, role, name, expires))
    until = datetime.fromtimestamp(expires, UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    print(f"warroom link: signs in {name} as {role} ({how}) until {until}; anyone holding it acts as them",
          file=sys.stderr)
    print(link)
    return 0


def add_people_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """link."""
    p = add("link", cmd_link, "Print a personal sign-in link for the board (for a laptop).")
    p.add_argument("person", help="a role (general_manager) or a person's name as in people (王强)")
    p.add_argument("--api", help="the daemon's API, to ask who holds the role now (default: the config's)")
    p.add_argument("--name", help="the person's name when someone else stands in and the daemon is not running")
    p.add_argument("--for", dest="valid_for", help="how long the link works (default and at most alerts.ack_valid_for)")
