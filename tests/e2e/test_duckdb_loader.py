"""The DuckDB loader as Meltano installs it: every record loads, whatever its shape.

target-duckdb 0.8.0 loses the first record of a batch when DuckDB's CSV sniffer takes it for a
header (see loaders/duckdb/target_duckdb_rowsafe/__init__.py). These tests feed hand-written Singer
streams to the installed `target-duckdb-rowsafe` and count the rows; one runs the unwrapped
`target-duckdb` on the same input to show the loss the wrapper exists for.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest

pytestmark = pytest.mark.slow

NESTED_SCHEMA = {
    "type": "object",
    "properties": {
        "uri": {"type": "string"},
        "start_time": {"type": "string", "format": "date-time"},
        "location": {"type": "object", "properties": {"type": {"type": "string"}}},
        "event_guests": {
            "type": "array",
            "items": {"type": "object", "properties": {"email": {"type": "string"}}},
        },
    },
}
STRINGS_SCHEMA = {
    "type": "object",
    "properties": {"uri": {"type": "string"}, "name": {"type": ["string", "null"]}},
}
AWKWARD_NAMES = ["comma, inside", 'quote "x"', "semi;colon|pipe\ttab", "new\nline", "crlf\r\nx"]


def schema(stream: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"type": "SCHEMA", "stream": stream, "schema": body, "key_properties": ["uri"]}


def record(stream: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": values}


def load(executable: Path, messages: list[dict[str, Any]], tmp_path: Path) -> dict[str, Any]:
    config = {
        "path": str(tmp_path / "db" / "test.duckdb"),
        "default_target_schema": "main",
        "record_counts_path": str(tmp_path / "receipt.json"),
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    subprocess.run(
        [str(executable), "--config", str(config_path)],
        input="".join(json.dumps(m) + "\n" for m in messages),
        text=True,
        capture_output=True,
        check=True,
        timeout=300,
    )
    return config


def users(config: dict[str, Any]) -> list[tuple[Any, ...]]:
    with duckdb.connect(config["path"], read_only=True) as con:
        return con.execute("SELECT uri, name FROM main.users ORDER BY uri").fetchall()


def test_one_record_with_nested_object_array_and_date_time_loads(
    loader_bin: Path, tmp_path: Path
) -> None:
    messages = [
        schema("scheduled_events", NESTED_SCHEMA),
        record(
            "scheduled_events",
            {
                "uri": "https://api.calendly.com/scheduled_events/E1",
                "start_time": "2026-01-05T10:00:00.000000Z",
                "location": {"type": "zoom_conference"},
                "event_guests": [{"email": "a@example.com"}],
            },
        ),
    ]

    config = load(loader_bin / "target-duckdb-rowsafe", messages, tmp_path)

    with duckdb.connect(config["path"], read_only=True) as con:
        loaded = con.execute(
            "SELECT uri, start_time, location->>'type', event_guests->0->>'email' "
            "FROM main.scheduled_events"
        ).fetchall()
    assert len(loaded) == 1
    assert loaded[0][0] == "https://api.calendly.com/scheduled_events/E1"
    assert loaded[0][1].isoformat() == "2026-01-05T10:00:00"
    assert loaded[0][2:] == ("zoom_conference", "a@example.com")


def test_every_batch_loads_in_full_with_awkward_strings(loader_bin: Path, tmp_path: Path) -> None:
    """SDK taps re-send SCHEMA (each one flushes a batch); every batch must keep its first row."""
    messages: list[dict[str, Any]] = []
    for batch, name in enumerate(AWKWARD_NAMES):
        messages.append(schema("users", STRINGS_SCHEMA))
        messages.append(record("users", {"uri": f"u{batch}a", "name": name}))
        messages.append(record("users", {"uri": f"u{batch}b", "name": name.upper()}))

    config = load(loader_bin / "target-duckdb-rowsafe", messages, tmp_path)

    loaded = dict(users(config))
    assert len(loaded) == 2 * len(AWKWARD_NAMES)
    assert [loaded[f"u{i}a"] for i in range(len(AWKWARD_NAMES))] == AWKWARD_NAMES
    receipt = json.loads(Path(config["record_counts_path"]).read_text(encoding="utf-8"))
    assert receipt["streams"]["users"] == {
        "records": 2 * len(AWKWARD_NAMES),
        "distinct_keys": 2 * len(AWKWARD_NAMES),
        "key_properties": ["uri"],
    }


def test_receipt_counts_distinct_keys_apart_from_records(loader_bin: Path, tmp_path: Path) -> None:
    messages = [
        schema("users", STRINGS_SCHEMA),
        record("users", {"uri": "u1", "name": "first"}),
        record("users", {"uri": "u1", "name": "second"}),
        record("users", {"uri": "u2", "name": "other"}),
    ]

    config = load(loader_bin / "target-duckdb-rowsafe", messages, tmp_path)

    assert users(config) == [("u1", "second"), ("u2", "other")]
    receipt = json.loads(Path(config["record_counts_path"]).read_text(encoding="utf-8"))
    assert receipt["streams"]["users"]["records"] == 3
    assert receipt["streams"]["users"]["distinct_keys"] == 2


def test_unwrapped_target_duckdb_drops_the_first_record(loader_bin: Path, tmp_path: Path) -> None:
    """Why the wrapper exists: target-duckdb 0.8.0 alone loads 1 of these 2 records, silently."""
    messages = [
        schema("users", STRINGS_SCHEMA),
        record("users", {"uri": "u1", "name": "Ada"}),
        record("users", {"uri": "u2", "name": "Bob"}),
    ]

    (tmp_path / "db").mkdir()  # the wrapper creates it; target-duckdb itself does not

    config = load(loader_bin / "target-duckdb", messages, tmp_path)

    assert users(config) == [("u2", "Bob")]
