"""The one small interface the read routes take: met by the live alert engine and by an archive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from alerts.log import AlertLog
from alerts.silences import Silences
from warroom.config.models import WarroomConfig


class NightSource(Protocol):
    """The config, alert log, silences and clock of a night; `alerts.engine.AlertEngine` is one."""

    cfg: WarroomConfig
    log: AlertLog
    silences: Silences
    clock: Callable[[], datetime]


class ArchivedNight:
    """A recorded night read back: its config, its alert log and silences, its clock frozen at its last moment."""

    def __init__(self, cfg: WarroomConfig, log: AlertLog, silences: Silences, clock: Callable[[], datetime]):
        self.cfg = cfg
        self.log = log
        self.silences = silences
        self.clock = clock
