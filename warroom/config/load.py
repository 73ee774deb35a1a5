"""Loading config.yaml: read the file, interpolate `${ENV}`, validate, cross-check; every error names its key path.

Loading is two steps: interpolate `${ENV}` (a missing variable is an error naming it and the key
that asked for it), then validate. Secrets that came from the environment are remembered so
logs and API answers can mask them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import Field, create_model

from collectors.base import CollectorSettings
from collectors.registry import settings_models
from warroom.config.checks import cross_check
from warroom.config.file import about_removed, decode, interpolate_env, load_yaml, validate_salvaging
from warroom.config.models import WarroomConfig


class ConfigError(Exception):
    """A config that must not start anything; `problems` are lines naming key paths."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems))



def _collector_union(kinds: Iterable[type[CollectorSettings]]) -> Any:
    return Annotated[Union[tuple(kinds)], Field(discriminator="type")]  # noqa: UP007


def parse_config(raw: Any, source: str = "config", env: dict[str, str] | None = None,
                 found: list[str] | None = None) -> LoadedConfig:
    """Validate an already-read YAML tree; raises ConfigError listing every problem at once.

    `found` are problems the reader already saw (duplicate keys). Missing variables, model errors
    and cross-section checks are all collected: when a part fails its model, the rest is still
    cross-checked without it, so a timezone error never hides a role typo.
    """
    problems = list(found or [])
    if not isinstance(raw, dict):
        raise ConfigError(source, [*problems, "(top level): expected a mapping of sections (campaign, people, ...)"])
    secrets: set[str] = set()
    missing: list[str] = []
    raw = interpolate_env(raw, dict(os.environ if env is None else env), "", secrets, missing)
    problems += missing
    union = _collector_union(settings_models())
    model = create_model("Config", __base__=WarroomConfig, collectors=(list[union], ...))
    unset = {line.split(": environment variable", 1)[0] for line in missing}
    cfg, removed = validate_salvaging(model, raw, problems, unset)
    if cfg is not None:
        problems += [p for p in cross_check(cfg) if not about_removed(p, removed)]
    if problems:
        raise ConfigError(source, list(dict.fromkeys(problems)))
    return LoadedConfig(cfg, source, secrets)


def load_config(path: str | os.PathLike[str], env: dict[str, str] | None = None) -> LoadedConfig:
    """Read and validate a config file; ConfigError names the file and every problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(str(path), [f"cannot read: {err.strerror}"]) from None
    text, why = decode(data)
    if text is None:
        raise ConfigError(str(path), [why or "cannot read"])
    try:
        raw, duplicates = load_yaml(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(str(path), [f"{where}not valid YAML: {getattr(err, 'problem', None) or err}"]) from None
    except RecursionError:
        raise ConfigError(str(path), ["not valid YAML: nested too deeply"]) from None
    loaded = parse_config(raw, str(path), env, duplicates)
    loaded.base_dir = path.resolve().parent
    return loaded


class LoadedConfig:
    """A validated config with where it came from and which strings are secrets."""

    def __init__(self, config: WarroomConfig, source: str, secrets: set[str]):
        self.config = config
        self.source = source
        self.secrets = secrets
        self.base_dir = Path.cwd()

    def mask(self, text: str) -> str:
        """`text` with every secret from the environment replaced by ***."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def path(self, relative: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else self.base_dir / p

    def summary(self) -> str:
        """One line for `warroom validate`."""
        c = self.config
        return (f"{self.source}: ok — campaign {c.campaign.name!r}, {len(c.collectors)} collectors, "
                f"{len(c.metrics)} metrics, {len(c.people)} people; API on {c.server.host}:{c.server.port}")
