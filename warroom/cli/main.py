"""The `warroom` command: its parser; the commands live in live (the night), remote (the API), night (the record)."""

from __future__ import annotations

import argparse
import sys

from warroom import __version__
from warroom.cli.live import add_live_commands
from warroom.cli.night import add_night_commands
from warroom.cli.people import add_people_commands
from warroom.cli.remote import add_remote_commands
from warroom.cli.startup import load_or_exit
from warroom.cli.status import add_status_command
from warroom.cli.transfer import add_transfer_commands

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
  warroom link PERSON         print a personal sign-in link for the board (a role or a name)
  warroom status              which node leads, since when, heartbeats and lag; exit 1 degraded, 2 nobody leads

Every command takes -c/--config FILE (default: config.yaml in the current folder).
"""


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 with a summary, or 2 with every problem."""
    print(load_or_exit(args.config).summary())
    return 0


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
    add_live_commands(add)
    add_remote_commands(add)
    add_night_commands(add)
    add_transfer_commands(add)
    add_people_commands(add)
    add_status_command(add)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `warroom` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
