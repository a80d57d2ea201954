"""Read the DuckDB warehouse: row counts per table, the analyst queries in demo/sql/, small tables."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

SQL_DIR = Path(__file__).resolve().parent / "sql"
SCHEMA = "calendly"


@dataclass(frozen=True)
class QueryResult:
    title: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


def connect(database: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(database), read_only=True)


def table_row_counts(con: duckdb.DuckDBPyConnection, schema: str = SCHEMA) -> dict[str, int]:
    tables = [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "ORDER BY table_name",
            [schema],
        ).fetchall()
    ]
    return {
        # Names come from information_schema, quoted as identifiers.
        table: int(con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchall()[0][0])  # noqa: S608
        for table in tables
    }


def data_as_of(con: duckdb.DuckDBPyConnection) -> str:
    """When the marts' data is from (the dbt model data_as_of), in UTC, and on what basis."""
    as_of, basis = con.execute(
        "SELECT as_of, as_of_basis FROM analytics.data_as_of"
    ).fetchone() or (
        None,
        None,
    )
    if not isinstance(as_of, dt.datetime):
        raise LookupError("analytics.data_as_of is empty: build the dbt project first")
    return f"{as_of.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC ({basis})"


def analyst_queries() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def run_query(con: duckdb.DuckDBPyConnection, path: Path) -> QueryResult:
    """Run one demo/sql file; its first line `-- <title>` names the question it answers."""
    sql = path.read_text(encoding="utf-8")
    first_line = sql.splitlines()[0] if sql else ""
    title = first_line.removeprefix("--").strip() if first_line.startswith("--") else path.stem
    cursor = con.execute(sql)
    columns = [d[0] for d in cursor.description or []]
    return QueryResult(title, columns, cursor.fetchall())


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> str:
    """A plain-text table, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(str(c)), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [
        bool(rows) and all(isinstance(r[i], int | float) or r[i] is None for r in rows)
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [_pad(v, w, right=num) for v, w, num in zip(values, widths, numeric, strict=True)]
        return indent + "  ".join(parts).rstrip()

    out = [line([str(c) for c in columns]), indent + "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    padding = " " * (width - _width(text))
    return padding + text if right else text + padding


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
