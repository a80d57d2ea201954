"""Prove the load complete: per stream, what the tap emitted = what the loader received = rows.

Three independent witnesses per stream:
- emitted: the tap's own `record_count` metrics (its log, summed over partitions);
- received / distinct keys: the loader's receipt (`record_counts_path`), counted on the RECORD lines
  it read from the pipe, before any loading logic;
- rows: `count(*)` in the DuckDB table, after the run.
The loader upserts on the primary key, so the table must hold one row per distinct key; a stream
whose records repeat a key is reported, because `uri` is supposed to identify a record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StreamCount:
    stream: str
    emitted: int | None
    received: int | None
    distinct_keys: int | None
    rows: int | None

    @property
    def problems(self) -> list[str]:
        found = []
        if self.emitted is None:
            found.append("the tap reported no record count")
        if self.received is None:
            found.append("the loader received no SCHEMA for it")
        if self.rows is None:
            found.append("no table in DuckDB")
        if None in (self.emitted, self.received, self.distinct_keys, self.rows):
            return found
        if self.emitted != self.received:
            found.append(f"tap emitted {self.emitted} but the loader received {self.received}")
        if self.received != self.distinct_keys:
            duplicates = (self.received or 0) - (self.distinct_keys or 0)
            found.append(f"{duplicates} records repeat a primary key")
        if self.rows != self.distinct_keys:
            found.append(f"{self.distinct_keys} distinct records but {self.rows} rows loaded")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems


class RowCountMismatchError(AssertionError):
    """The warehouse does not hold exactly what the tap emitted."""


def read_receipt(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        raise RowCountMismatchError(f"the loader wrote no record receipt at {path}")
    streams: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["streams"]
    return streams


def table_name(stream: str) -> str:
    """The table target-duckdb creates for a stream."""
    return stream.replace(".", "_").replace("-", "_").lower()


def compare(
    emitted: Mapping[str, int],
    receipt: Mapping[str, Mapping[str, Any]],
    rows: Mapping[str, int],
) -> list[StreamCount]:
    streams = sorted(set(emitted) | set(receipt))
    counts = []
    for stream in streams:
        received = receipt.get(stream)
        counts.append(
            StreamCount(
                stream=stream,
                # A stream that emitted nothing may log no metric at all.
                emitted=emitted.get(stream, 0 if received is not None else None),
                received=None if received is None else int(received["records"]),
                distinct_keys=None if received is None else int(received["distinct_keys"]),
                rows=rows.get(table_name(stream)),
            )
        )
    return counts


def require_complete(counts: list[StreamCount], nonempty: tuple[str, ...] = ()) -> None:
    """Raise naming every stream whose counts disagree, or that should have rows and has none."""
    problems = [f"{c.stream}: {'; '.join(c.problems)}" for c in counts if not c.ok]
    by_stream = {c.stream: c for c in counts}
    for stream in nonempty:
        count = by_stream.get(stream)
        if count is None or not count.rows:
            problems.append(f"{stream}: expected rows, found none")
    if problems:
        raise RowCountMismatchError("row counts do not match:\n  " + "\n  ".join(problems))


def as_rows(counts: list[StreamCount]) -> list[tuple[Any, ...]]:
    return [
        (c.stream, c.emitted, c.received, c.distinct_keys, c.rows, "ok" if c.ok else "MISMATCH")
        for c in counts
    ]


COLUMNS = ("stream", "tap emitted", "loader received", "distinct keys", "rows in DuckDB", "check")
