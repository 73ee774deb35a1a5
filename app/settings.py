"""How this board process was started: the daemon's API address, the config file, the token, refresh rates.

`warroom board` runs `streamlit run app/wall.py -- --api URL --config PATH`; tests (AppTest) cannot
pass script arguments, so WARROOM_API / WARROOM_CONFIG in the environment work too.
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_API = "http://127.0.0.1:8765"
TOKEN_ENV = "WARROOM_TOKEN"


@dataclass(frozen=True)
class BoardSettings:
    """Everything the pages need to know about their environment."""

    api: str = DEFAULT_API
    config_path: str | None = None
    # repr=False: the token must never appear in a log line, an error page or a test failure.
    token: str | None = field(default=None, repr=False)
    locale_hint: str = "en"
    zone_hint: str = "UTC"
    tiles_every_s: float = 1.0
    charts_every_s: float = 10.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--api")
    parser.add_argument("--config")
    parser.add_argument("--tiles-every", type=float)
    parser.add_argument("--charts-every", type=float)
    return parser


@functools.lru_cache(maxsize=8)
def campaign_hints(path: str | None) -> tuple[str, str]:
    """(locale, timezone) of the config's campaign, read as plain YAML: for what is shown before the daemon answers."""
    if not path:
        return "en", "UTC"
    try:
        campaign = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["campaign"]
        return str(campaign.get("locale") or "en"), str(campaign.get("timezone") or "UTC")
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return "en", "UTC"


def load_settings(argv: Sequence[str], env: Mapping[str, str]) -> BoardSettings:
    """Settings from the script arguments, then the environment, then defaults."""
    args, _ = _parser().parse_known_args(list(argv))
    config = args.config or env.get("WARROOM_CONFIG") or None
    locale, zone = campaign_hints(config)
    # The ceiling: tiles at least every 2 s; charts less often than tiles.
    tiles = min(2.0, max(0.5, args.tiles_every or float(env.get("WARROOM_TILES_EVERY") or 1.0)))
    charts = max(tiles, args.charts_every or float(env.get("WARROOM_CHARTS_EVERY") or 10.0))
    return BoardSettings(
        api=(args.api or env.get("WARROOM_API") or DEFAULT_API).rstrip("/"),
        config_path=config,
        token=(env.get(TOKEN_ENV) or "").strip() or None,
        locale_hint=locale,
        zone_hint=zone,
        tiles_every_s=tiles,
        charts_every_s=charts,
    )


ENV_KEYS = ("WARROOM_API", "WARROOM_CONFIG", TOKEN_ENV, "WARROOM_TILES_EVERY", "WARROOM_CHARTS_EVERY")


@functools.lru_cache(maxsize=16)
def _settings_for(argv: tuple[str, ...], env: tuple[tuple[str, str], ...]) -> BoardSettings:
    # argparse builds its messages through gettext, which searches the disk for catalogues on every
    # parser: per refresh of every session that was a tenth of the board's CPU.
    return load_settings(argv, dict(env))


def current_settings() -> BoardSettings:
    """The settings of this process (sys.argv after `--` and os.environ), parsed once per distinct value."""
    import sys

    return _settings_for(tuple(sys.argv[1:]), tuple((k, os.environ.get(k, "")) for k in ENV_KEYS))
