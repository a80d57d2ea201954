"""target-duckdb 0.8.0 without its silent loss of records, and with a receipt of what it was sent.

Why this exists: target-duckdb 0.8.0 (the last release on PyPI) writes each batch to a header-less CSV
file and loads it with ``COPY <tmp> FROM '<file>' WITH (new_line '\\r\\n')`` (target_duckdb/db_sync.py:387).
That leaves DuckDB's CSV sniffer free to decide whether the first line is a header. It decides "header"
for every all-VARCHAR table, and (DuckDB >= 1.5) for rows holding a JSON object, a JSON array and a
timestamp. The first record of every batch is then discarded while the target logs "Loading 1 rows"
and emits the state: nothing fails. Upstream fixed it after 0.8.0 (jwills/target-duckdb#58, unreleased).

This wrapper runs target-duckdb's own message loop unchanged, with two additions:
- every COPY it issues gets the full CSV dialect the target really writes (Python's csv defaults), so
  nothing about the file is left to guessing;
- with ``record_counts_path`` set, it writes, after the last batch is loaded, how many RECORD messages
  and distinct primary keys each stream brought. The rows in each table must equal the distinct keys:
  the demo and the end-to-end test compare them and fail on any difference.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import target_duckdb

UPSTREAM_COPY_OPTIONS = "WITH (new_line '\\r\\n')"
EXPLICIT_COPY_OPTIONS = (
    "(FORMAT csv, AUTO_DETECT false, HEADER false, DELIMITER ',', QUOTE '\"', ESCAPE '\"', "
    "NEW_LINE '\\r\\n')"
)


class UnexpectedCopyStatementError(RuntimeError):
    """target-duckdb issued a COPY this wrapper was not written for; refuse to guess."""


def explicit_copy(sql: str) -> str:
    """Return ``sql`` with target-duckdb's sniffed CSV COPY options replaced by an explicit dialect."""
    if not sql.lstrip().upper().startswith("COPY "):
        return sql
    if not sql.endswith(UPSTREAM_COPY_OPTIONS):
        raise UnexpectedCopyStatementError(
            f"target-duckdb issued a COPY statement this wrapper was not written for: {sql!r}"
        )
    return sql[: -len(UPSTREAM_COPY_OPTIONS)] + EXPLICIT_COPY_OPTIONS


class ExplicitCopyConnection:
    """A DuckDB connection whose ``execute`` loads target-duckdb's CSV batches with an explicit dialect."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        return self._connection.execute(explicit_copy(sql), *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class RecordTally:
    """Counts RECORD messages and distinct primary keys per stream as the lines pass through."""

    def __init__(self) -> None:
        self.key_properties: dict[str, list[str]] = {}
        self.records: dict[str, int] = {}
        self.keys: dict[str, set[str]] = {}

    def observe(self, lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            self._count(line)
            yield line

    def _count(self, line: str) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return  # target-duckdb reports unparsable lines itself
        kind, stream = message.get("type"), message.get("stream")
        if kind == "SCHEMA":
            self.key_properties[stream] = list(message.get("key_properties") or [])
            self.records.setdefault(stream, 0)
            self.keys.setdefault(stream, set())
        elif kind == "RECORD":
            record = message.get("record") or {}
            self.records[stream] = self.records.get(stream, 0) + 1
            key = [record.get(k) for k in self.key_properties.get(stream, [])]
            self.keys.setdefault(stream, set()).add(json.dumps(key, sort_keys=True, default=str))

    def as_dict(self) -> dict[str, Any]:
        return {
            "streams": {
                stream: {
                    "records": self.records.get(stream, 0),
                    "distinct_keys": len(self.keys.get(stream, ())),
                    "key_properties": self.key_properties.get(stream, []),
                }
                for stream in sorted(self.records)
            }
        }


def _create_parent_directory(database_path: str | None) -> None:
    """DuckDB creates the database file but not its directory."""
    if database_path and ":" not in database_path:
        Path(database_path).parent.mkdir(parents=True, exist_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="target-duckdb-rowsafe")
    parser.add_argument("-c", "--config", help="Config file")
    args = parser.parse_args()
    config: dict[str, Any] = {}
    if args.config:
        config = json.loads(Path(args.config).read_text(encoding="utf-8"))

    _create_parent_directory(config.get("path", config.get("filepath")))
    tally = RecordTally()
    messages = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
    connection = ExplicitCopyConnection(target_duckdb.duckdb_connect(config))
    target_duckdb.persist_lines(connection, config, tally.observe(messages))
    connection.close()

    counts_path = config.get("record_counts_path")
    if counts_path:
        path = Path(counts_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(tally.as_dict(), indent=2) + "\n", encoding="utf-8")
