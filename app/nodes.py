"""Which daemon node the board reads: the leader when HA says which, another node at once when it goes.

`warroom board --api URL1,URL2,…` names every node of a warroom pair (or three). The board reads one of
them, the *current* node, for every answer of a snapshot, and sends its actions there too (a follower
forwards them to the leader). Two things move it:

- a call the current node does not answer is tried on the other nodes in the same call (the leader
  first, then those that answered lately), so the wall never shows an error while another node serves;
- a survey of every node's `/api/v1/health`, at most once per refresh period and in the background,
  moves the board to the node whose health says `ha.role == "leader"` when the current one is a
  follower, and learns each node's name for the header ("via node-b").

Without HA (no `ha` in the health answers) the board stays on the node it reads while that answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# A survey is a background look at every node's health: short, so a hung node never holds up the next one.
SURVEY_TIMEOUT_S = 1.0


class NodeListError(ValueError):
    """The `--api` list names no usable address; says which entry is wrong."""


def parse_bases(text: str) -> tuple[str, ...]:
    """'http://a:8765, http://b:8765/' -> ('http://a:8765', 'http://b:8765'): trimmed, in order, no repeats."""
    bases: list[str] = []
    for i, part in enumerate(text.split(",")):
        base = part.strip().rstrip("/")
        if not base:
            continue
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise NodeListError(f"--api entry {i + 1} ({base!r}) is not an http(s)://host:port address")
        if base not in bases:
            bases.append(base)
    if not bases:
        raise NodeListError("--api names no address")
    return tuple(bases)


@dataclass(frozen=True)
class NodeAnswer:
    """What one node's `/api/v1/health` said about itself (None fields when it does not say)."""

    node: str | None
    role: str | None
    epoch: int | None

    @classmethod
    def of(cls, health: Any) -> NodeAnswer:
        """Read the node's name and its HA role from a health answer (no `ha` block: a single node)."""
        if not isinstance(health, dict):
            return cls(None, None, None)
        ha = health.get("ha") if isinstance(health.get("ha"), dict) else {}
        node = health.get("node") if isinstance(health.get("node"), str) else ha.get("node")
        epoch = ha.get("epoch")
        return cls(node if isinstance(node, str) and node else None,
                   ha.get("role") if isinstance(ha.get("role"), str) else None,
                   epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None)


def choose(current: str, answers: dict[str, NodeAnswer | None]) -> str:
    """The node to read after a survey (pure): the leader if any node says it leads, else stay while answering.

    `answers` maps each base to its health answer, None when it did not answer. Two nodes saying leader
    (a frozen one not yet aware it lost the lease): the higher epoch is the newer lease.
    """
    leaders = [b for b, a in answers.items() if a is not None and a.role == "leader"]
    if leaders:
        if current in leaders and len(leaders) == 1:
            return current
        return max(leaders, key=lambda b: (answers[b].epoch or 0, b == current))  # type: ignore[union-attr]
    if answers.get(current) is not None:
        return current
    answering = [b for b, a in answers.items() if a is not None]
    return answering[0] if answering else current


class Nodes:
    """The nodes this board may read, the one it reads now, and what the last survey said of each."""

    def __init__(self, bases: tuple[str, ...], health: Callable[[str, float], Any],
                 every_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.bases = bases
        self._health = health
        self.every_s = every_s
        self.clock = clock
        self._lock = threading.Lock()
        self._current = bases[0]
        self._answers: dict[str, NodeAnswer | None] = {}
        self._surveying = False
        self._last_survey: float | None = None
        self.moves = 0  # how often the board moved to another node (the tests and the bench read it)

    @property
    def several(self) -> bool:
        """True when there is another node to move to."""
        return len(self.bases) > 1

    @property
    def current(self) -> str:
        """The base the board reads now."""
        with self._lock:
            return self._current

    def name(self, base: str | None = None) -> str:
        """A node's name as its health says it (the current node by default), else its host:port."""
        base = base or self.current
        with self._lock:
            answer = self._answers.get(base)
        return (answer.node if answer is not None and answer.node else None) or urlsplit(base).netloc

    def others(self, tried: list[str]) -> list[str]:
        """The nodes not tried yet in this call: leaders first, then those that answered the last survey."""
        with self._lock:
            answers = dict(self._answers)

        def rank(base: str) -> tuple[int, int]:
            answer = answers.get(base)
            return (0 if answer is not None and answer.role == "leader" else 1 if answer is not None else 2,
                    self.bases.index(base))

        return sorted((b for b in self.bases if b not in tried), key=rank)

    def moved(self, failed: str, base: str) -> None:
        """A call that `failed` on the node it read was answered by `base`: the board reads `base` from now on.

        Unless a survey moved the board meanwhile (to the leader): that choice is newer than this call's.
        """
        with self._lock:
            if self._current == failed and base != failed:
                self._current = base
                self.moves += 1

    def survey_due(self) -> bool:
        """True when a survey would run now (several nodes, none running, the last one a period ago)."""
        with self._lock:
            return self.several and not self._surveying and (
                self._last_survey is None or self.clock() - self._last_survey >= self.every_s)

    def survey_soon(self) -> None:
        """Start a survey in the background when one is due; never waits for it."""
        if self._claim():
            threading.Thread(target=self._survey, name="board-survey", daemon=True).start()

    def survey(self) -> None:
        """Ask every node's health now and read the leader (the first snapshot waits for this)."""
        if self._claim():
            self._survey()

    def _claim(self) -> bool:
        with self._lock:
            if not self.several or self._surveying:
                return False
            self._surveying, self._last_survey = True, self.clock()
            return True

    def _survey(self) -> None:
        try:
            started_on = self.current
            answers: dict[str, NodeAnswer | None] = dict.fromkeys(self.bases)
            threads = [threading.Thread(target=self._ask, args=(b, answers), daemon=True) for b in self.bases]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(SURVEY_TIMEOUT_S * 2)
            with self._lock:
                self._answers = answers
                # A call that moved the board while the survey ran knows better than the survey's older answers.
                if self._current == started_on:
                    chosen = choose(started_on, answers)
                    if chosen != self._current:
                        self._current = chosen
                        self.moves += 1
        finally:
            with self._lock:
                self._surveying = False

    def _ask(self, base: str, answers: dict[str, NodeAnswer | None]) -> None:
        try:
            answers[base] = NodeAnswer.of(self._health(base, SURVEY_TIMEOUT_S))
        except Exception:  # noqa: BLE001 - any failure means this node did not answer the survey
            answers[base] = None
