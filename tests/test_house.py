"""The house's rules, read from the code: no import circle among modules or rooms, leaves import nothing.

Every import counts, also those inside functions and under TYPE_CHECKING: a lazy import that dodges
a circle at start is still a circle in the design.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("warroom", "alerts", "collectors", "app", "demo")
# Modules every room may import because they import nothing of the project.
LEAVES = ("warroom", "warroom.values", "warroom.durations", "warroom.clock", "warroom.outside_text")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imported(module: str, path: Path) -> set[str]:
    """Project modules that `module` imports (a name imported from a package counts as its submodule)."""
    out = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for target in targets:
            while target and target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != module:
                out.add(target)
    return out


GRAPH = {name: _imported(name, path) for name, path in MODULES.items()}


def room(module: str) -> str:
    """warroom.store.writer → warroom.store; alerts.notifiers.page → alerts; warroom.values → warroom.values."""
    parts = module.split(".")
    if parts[0] == "warroom":
        return ".".join(parts[:2]) if len(parts) > 1 else "warroom"
    return parts[0]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle in `graph` as a path that starts and ends on the same node, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_circle_among_modules() -> None:
    assert _cycle(GRAPH) is None, " → ".join(_cycle(GRAPH) or [])


def test_no_circle_among_rooms() -> None:
    rooms: dict[str, set[str]] = {}
    for module, deps in GRAPH.items():
        rooms.setdefault(room(module), set()).update(room(d) for d in deps if room(d) != room(module))
    circle = _cycle(rooms)
    assert circle is None, "rooms import each other: " + " → ".join(circle or [])


@pytest.mark.parametrize("leaf", LEAVES)
def test_leaves_import_nothing_of_the_project(leaf: str) -> None:
    assert GRAPH[leaf] == set(), f"{leaf} imports {sorted(GRAPH[leaf])}"


def test_collector_plugins_never_import_each_other() -> None:
    shared = {"collectors", "collectors.base", "collectors.registry", "collectors.web", "collectors.pg"}
    plugins = {m for m in MODULES if m.startswith("collectors.") and m not in shared}
    wrong = sorted(f"{m} → {d}" for m in plugins for d in GRAPH[m] if d in plugins)
    assert not wrong, wrong


def test_the_checker_sees_a_circle() -> None:
    """The checker itself: a planted circle is found, so the tests above cannot pass by accident."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    assert room("warroom.store.writer") == "warroom.store" and room("alerts.notifiers.page") == "alerts"


# Each table of the record has one module that writes it (the schema's upgrade aside). Importing samples
# (warroom.store.intake) loads them in bulk and rebuilds their rollup: the one other way samples enter a
# live file. Restoring an export (warroom.store.transfer.import_record) writes every table, but only into a
# file that holds no night yet (tests/warroom/test_transfer.py): a copy of the record, not a second writer.
WRITERS = {
    "annotations": {"warroom.record.decisions"},
    "alerts": {"alerts.log"}, "alert_events": {"alerts.log"},
    "duty": {"alerts.roster"}, "silences": {"alerts.silences"}, "level_changes": {"alerts.snapshot"},
    "campaigns": {"warroom.record.campaign"}, "daemon_starts": {"warroom.record.campaign"},
    "samples": {"warroom.store.database", "warroom.store.intake"},
    "samples_1m": {"warroom.store.database", "warroom.store.intake"},
    "collector_runs": {"warroom.store.database"},
}
# Rows of the record also go through Store.record("table", ...) (warroom.store.backlog writes them in order).
_WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_0-9]+)|insert_into\(\s*\"([a-z_0-9]+)\""
                    r"|\.record\(\s*\"([a-z_0-9]+)\"", re.IGNORECASE)


def writers_of_tables() -> dict[str, set[str]]:
    """Table → modules whose code writes it (SQL text or DuckDB's insert_into)."""
    found: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        if module == "warroom.store.migrate":
            continue
        for match in _WRITE.finditer(path.read_text(encoding="utf-8")):
            found.setdefault((match.group(1) or match.group(2) or match.group(3)).lower(), set()).add(module)
    return found


@pytest.mark.parametrize("table", sorted(WRITERS))
def test_one_writer_per_table(table: str) -> None:
    assert writers_of_tables().get(table, set()) <= WRITERS[table], f"{table} is written by more than its writer"


def test_the_decision_log_has_one_writer() -> None:
    assert writers_of_tables()["annotations"] == {"warroom.record.decisions"}


LEAF = {"warroom", "warroom.values", "warroom.durations", "warroom.clock", "warroom.outside_text"}
# The README's table of rooms ("may import"): a room importing outside its column fails here.
MAY_IMPORT = {
    "collectors": LEAF,
    "demo": LEAF,
    "app": set(),
    "warroom.store": LEAF,
    "warroom.config": LEAF | {"collectors"},
    "alerts": LEAF | {"warroom.config", "warroom.store"},
    "warroom.record": LEAF | {"alerts", "warroom.config", "warroom.store"},
    "warroom.api": LEAF | {"warroom.record", "alerts", "warroom.config", "warroom.store"},
    "warroom.daemon": LEAF | {"warroom.api", "warroom.record", "alerts", "warroom.config", "warroom.store",
                              "collectors"},
    "warroom.archive": LEAF | {"warroom.daemon", "warroom.api", "warroom.record", "alerts", "warroom.config",
                               "warroom.store", "app"},
}


@pytest.mark.parametrize("lower", sorted(MAY_IMPORT))
def test_each_room_imports_only_what_the_readme_says(lower: str) -> None:
    wrong = sorted(f"{m} → {d}" for m, deps in GRAPH.items() if room(m) == lower for d in deps
                   if room(d) != lower and room(d) not in MAY_IMPORT[lower])
    assert not wrong, wrong
