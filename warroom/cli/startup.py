"""What every command does first: load the config (or exit 2 naming every problem) and mask secrets in logs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from warroom.config.load import ConfigError, LoadedConfig, load_config
from warroom.outside_text import on_terminal
from warroom.store.dbfile import DamagedDatabase, DatabaseBusy, check_file

EXIT_CONFIG = 2


class _Masking(logging.Filter):
    """Replaces secrets that came from the environment in every log line."""

    def __init__(self, loaded: LoadedConfig):
        super().__init__()
        self.loaded = loaded

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.loaded.mask(record.getMessage())
        record.args = None
        return True


class _OneLine(logging.Filter):
    """One log record, one line: a name from outside cannot clear the screen or forge a line of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = on_terminal(record.getMessage())
        record.args = None
        return True


def setup_logging(loaded: LoadedConfig | None, verbose: bool) -> None:
    """Log lines with time and source, every secret from the environment masked, control characters escaped."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if loaded:
            handler.addFilter(_Masking(loaded))
        handler.addFilter(_OneLine())


def load_or_exit(path: str) -> LoadedConfig:
    """The validated config, or exit 2 after printing every problem with its key path."""
    try:
        return load_config(path)
    except ConfigError as err:
        print(f"warroom: config {err.source} is not valid:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def readable_db(db: Path, command: str) -> bool:
    """Refuse a damaged database file in one line, before the heavy imports and before anything is written."""
    try:
        check_file(db)
    except DamagedDatabase as err:
        print(f"warroom {command}: {err}", file=sys.stderr)
        return False
    except DatabaseBusy:
        pass  # the daemon's own open says so, with the hint about another daemon
    return True
