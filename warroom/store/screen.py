"""Every row of an incoming file checked against the table it would go into, before any of it is kept.

The checks come from the table itself (its columns, types and NOT NULL), so a table or column added
to the schema is screened without anyone remembering to: a value of the wrong type, an empty required
cell, NaN or infinity, a time outside the years 2000–2199 (year 1 or 9999 overflows every conversion
downstream), and in text columns control characters, markup and absurd lengths. The first problem is
named by file row and column; the caller then keeps nothing.

Typed Parquet columns are used as they are; text (CSV) goes through TRY_CAST, so a bad cell becomes a
problem the check names, never an error half-way through a load. Text columns are checked over their
distinct values (50 metric names, not 4 million rows), which keeps a checked load above a million rows a
second.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from warroom.outside_text import on_terminal
from warroom.store.schema import SANE_FROM, SANE_TO, first_row

NAME_LIMIT = 200
"""Characters in a name (metric, person, role, collector): a wall tile and a phone line hold far fewer."""
TEXT_LIMIT = 65_536
"""Characters in a free text (a decision, an event's detail, an error): any note a person writes, not a flood."""
LONG_TEXT_LIMIT = 4 << 20
"""The config snapshot of a campaign: the whole validated config as JSON."""
# Free texts: people's words and machine details, several lines allowed. Everything else is a name.
TEXT_COLUMNS = frozenset({"text", "detail", "reason", "error", "ref", "step", "channel", "config_source",
                          "start_spec", "end_spec", "version", "campaign_id"})
LONG_TEXT_COLUMNS = frozenset({"config_snapshot"})
# C0 controls (ESC clears a terminal, NUL cuts a C string) and the bidirectional overrides that reorder
# what a reader sees; a name may hold none of them, a text may hold tabs and line breaks.
_NAME_CONTROL = r"[\x00-\x1f\x7f\x{202A}-\x{202E}\x{2066}-\x{2069}]"
_TEXT_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x{202A}-\x{202E}\x{2066}-\x{2069}]"
_NUMBERS = ("DOUBLE", "FLOAT", "REAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT",
            "UINTEGER", "USMALLINT", "UTINYINT")
_WHAT = {"DOUBLE": "a number", "BIGINT": "a whole number", "INTEGER": "a whole number",
         "BOOLEAN": "true or false", "TIMESTAMP": "a time"}


class RowRefused(Exception):
    """A row that cannot be kept: `row` (1 = the first data row), the column and why."""

    def __init__(self, row: int, column: str, why: str):
        super().__init__(f"row {row}: {why}")
        self.row, self.column, self.why = row, column, why


@dataclass(frozen=True)
class Column:
    """A column of the target table."""

    name: str
    type: str
    nullable: bool


def columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[Column]:
    """The target table's columns in order."""
    rows = cur.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                       "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()
    return [Column(name, kind.upper(), nullable == "YES") for name, kind, nullable in rows]


def source_types(cur: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name (lower case) → type of the source relation."""
    return {r[0].lower(): r[1].upper() for r in cur.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def typed(column: Column, source_type: str | None) -> str:
    """SQL for the column's value as the target type (NULL when absent or not convertible)."""
    c = f'"{column.name}"'
    if source_type is None:
        return f"CAST(NULL AS {column.type})"
    if column.type == "VARCHAR":
        return f"CAST({c} AS VARCHAR)"
    if column.type == "TIMESTAMP":
        if source_type == "TIMESTAMP WITH TIME ZONE":
            return f"timezone('UTC', {c})"
        if source_type.startswith("TIMESTAMP") or source_type == "DATE":
            return f"CAST({c} AS TIMESTAMP)"
        # text without an offset is UTC (the caller sets the session's TimeZone to UTC)
        return f"timezone('UTC', TRY_CAST(trim(CAST({c} AS VARCHAR)) AS TIMESTAMPTZ))"
    if source_type in _NUMBERS or source_type.startswith("DECIMAL") or source_type == column.type:
        return f"TRY_CAST({c} AS {column.type})"
    return f"TRY_CAST(trim(CAST({c} AS VARCHAR)) AS {column.type})"


def _shown(c: str) -> str:
    return f"' ' || coalesce('''' || left(CAST({c} AS VARCHAR), 40) || '''', '')"


def _row_checks(cols: list[Column], types: dict[str, str]) -> str:
    """One CASE naming the first problem of a row in its typed (non-text) columns; NULL when none."""
    whens = []
    for col in cols:
        c, v = f'"{col.name}"', typed(col, types.get(col.name))
        absent = col.name not in types
        if not col.nullable:
            whens.append(f"WHEN {'TRUE' if absent else f'{c} IS NULL'} THEN '{col.name}: is empty'")
        if absent or col.type == "VARCHAR":
            continue
        what = _WHAT.get(col.type, col.type.lower())
        if types[col.name] == "VARCHAR":
            whens.append(f"WHEN trim({c}) = '' AND {v} IS NULL THEN '{col.name}: is empty'")
        whens.append(f"WHEN {c} IS NOT NULL AND {v} IS NULL THEN '{col.name}:' || {_shown(c)} || ' is not {what}'")
        if col.type == "DOUBLE":
            whens.append(f"WHEN NOT isfinite({v}) THEN '{col.name}: ' || CAST({v} AS VARCHAR) || ' is not finite'")
        if col.type == "TIMESTAMP":
            whens.append(f"WHEN {v} < TIMESTAMP '{SANE_FROM}' OR {v} >= TIMESTAMP '{SANE_TO}' THEN '{col.name}: ' || "
                         f"CAST({v} AS VARCHAR) || ' is outside the years {SANE_FROM.year}–{SANE_TO.year - 1}'")
    return "CASE " + " ".join(whens) + " END" if whens else "NULL"


def _text_check(col: Column) -> str:
    """A CASE over `v` (one distinct value of a text column) naming what is wrong with it."""
    if col.name in LONG_TEXT_COLUMNS:
        limit, control = LONG_TEXT_LIMIT, _TEXT_CONTROL
    elif col.name in TEXT_COLUMNS:
        limit, control = TEXT_LIMIT, _TEXT_CONTROL
    else:
        limit, control = NAME_LIMIT, _NAME_CONTROL
    markup = "" if col.name in TEXT_COLUMNS or col.name in LONG_TEXT_COLUMNS else \
        f"WHEN regexp_matches(v, '[<>]') THEN '{col.name}: holds markup (< or >), a name never does' "
    too_long = f"'{col.name}: is ' || length(v) || ' characters long (at most {limit})'"
    return (f"CASE WHEN length(v) > {limit} THEN {too_long} "
            f"WHEN regexp_matches(v, '{control}') THEN '{col.name}: holds a control character' {markup}END")


def first_problem(cur: duckdb.DuckDBPyConnection, relation: str, cols: list[Column],
                  types: dict[str, str], ts_column: str | None = None) -> tuple[RowRefused | None, int, tuple]:
    """The first bad row of `relation` (a subquery with a 1-based `wr_row`), the row count, and the min/max
    of `ts_column` as stored; RowRefused is returned, not raised, so the caller can add the file's name."""
    row_problem = _row_checks(cols, types)
    ts = "NULL"
    if ts_column is not None:
        ts = typed(next(c for c in cols if c.name == ts_column), types.get(ts_column))
    bad_row, problem, n, lo, hi = first_row(cur.execute(
        f"SELECT min(wr_row) FILTER (WHERE p IS NOT NULL), arg_min(p, wr_row) FILTER (WHERE p IS NOT NULL), "
        f"count(*), min(t), max(t) FROM (SELECT wr_row, {row_problem} AS p, {ts} AS t FROM {relation})"))
    found = (bad_row, problem) if bad_row is not None else None
    for col in cols:
        if col.type != "VARCHAR" or col.name not in types:
            continue
        c = f'"{col.name}"'
        bad = [r[0] for r in cur.execute(
            f"SELECT v FROM (SELECT DISTINCT CAST({c} AS VARCHAR) AS v FROM {relation}) "
            f"WHERE v IS NOT NULL AND ({_text_check(col)}) IS NOT NULL LIMIT 1000").fetchall()]
        if not bad:
            continue
        row, value = first_row(cur.execute(
            f"SELECT min(wr_row), arg_min(CAST({c} AS VARCHAR), wr_row) FROM {relation} "
            f"WHERE CAST({c} AS VARCHAR) IN (SELECT unnest(?))", [bad]))
        why = first_row(cur.execute(f"SELECT {_text_check(col)} FROM (SELECT ?::VARCHAR AS v)", [value]))[0]
        if found is None or row < found[0]:
            found = (row, why)
    refusal = None
    if found is not None:
        column = found[1].split(":", 1)[0]
        refusal = RowRefused(int(found[0]), column, on_terminal(found[1]))
    return refusal, int(n), (lo, hi)
