"""`emit_activate_version_messages`: deleted availability schedules leave the warehouse.

availability_schedules is the one full-table stream (the resource has no timestamps), read per
user in batches. With the setting on, every record of a run carries that run's table version and
ACTIVATE_VERSION follows, so a loader that honours it deletes the rows the run did not send. The
loader here is singer-sdk's own SQL sink on SQLite (SQLSink.activate_version, what SDK-based SQL
targets inherit), fed the tap's real output twice, with a schedule deleted in between.
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from singer_sdk import typing as th
from singer_sdk.sql import SQLConnector, SQLSink, SQLTarget

from calendly_sandbox import Sandbox
from tests.tap.conftest import catalog_selecting, run_in_process, tap_config

STREAM = "availability_schedules"


class SQLiteConnector(SQLConnector):
    allow_temp_tables = False
    allow_column_alter = False
    allow_merge_upsert = False

    def get_sqlalchemy_url(self, config: dict[str, Any]) -> str:
        return str(config["sqlalchemy_url"])


class SQLiteSink(SQLSink[SQLiteConnector]):
    connector_class = SQLiteConnector

    def preprocess_record(self, record: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        # SQLite binds no lists or dicts: nested values are stored as JSON text
        return {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in record.items()}


class SQLiteTarget(SQLTarget):
    name = "target-sqlite-sdk"
    config_jsonschema = th.PropertiesList(
        th.Property("sqlalchemy_url", th.StringType, required=True),
        th.Property("hard_delete", th.BooleanType),
        th.Property("add_record_metadata", th.BooleanType),
    ).to_dict()
    default_sink_class = SQLiteSink


def load(messages: list[dict[str, Any]], database: Path) -> None:
    target = SQLiteTarget(
        config={
            "sqlalchemy_url": f"sqlite:///{database}",
            "hard_delete": True,
            # _sdc_table_version is stored only with the metadata columns
            "add_record_metadata": True,
        },
        parse_env_config=False,
    )
    singer = io.StringIO("".join(json.dumps(m) + "\n" for m in messages))
    with redirect_stdout(io.StringIO()):
        target.listen(singer)


def rows(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        return {uri for (uri,) in db.execute(f"SELECT uri FROM {STREAM}")}  # noqa: S608


def of_stream(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == kind and m.get("stream") == STREAM]


@pytest.fixture
def small_sandbox() -> Any:
    with Sandbox(seed=5, events=20) as running:
        yield running


def test_deleted_schedules_leave_the_warehouse(small_sandbox: Sandbox, tmp_path: Path) -> None:
    config = tap_config(small_sandbox, emit_activate_version_messages=True)
    catalog = catalog_selecting(config, {"users", STREAM})
    database = tmp_path / "warehouse.sqlite"

    first = run_in_process(config, catalog=catalog)
    versions = {m["version"] for m in of_stream(first.messages, "ACTIVATE_VERSION")}
    assert len(versions) == 1, versions
    (version,) = versions
    records = of_stream(first.messages, "RECORD")
    assert records and {r.get("version") for r in records} == {version}
    load(first.messages, database)
    with small_sandbox.store.lock:
        served = set(small_sandbox.store.user_availability_schedules)
        gone_uuid = sorted(served)[0]
        gone = small_sandbox.store.user_availability_schedules.pop(gone_uuid)["uri"]
    assert gone in rows(database)

    # The SDK's table version is the run's start in whole seconds: start the next run in the
    # next second, as any scheduled run is.
    time.sleep(1.05 - time.time() % 1)
    second = run_in_process(config, state=first.final_state, catalog=catalog)
    (second_version,) = {m["version"] for m in of_stream(second.messages, "ACTIVATE_VERSION")}
    assert second_version > version  # a newer table version: older rows are the stale ones
    load(second.messages, database)

    with small_sandbox.store.lock:
        remaining = {s["uri"] for s in small_sandbox.store.user_availability_schedules.values()}
    assert gone not in rows(database)
    assert rows(database) == remaining


def test_off_by_default(small_sandbox: Sandbox) -> None:
    config = tap_config(small_sandbox)
    run = run_in_process(config, catalog=catalog_selecting(config, {"users", STREAM}))
    assert of_stream(run.messages, "RECORD")
    assert not [m for m in run.messages if m["type"] == "ACTIVATE_VERSION"]


def test_the_capability_comes_with_its_setting() -> None:
    """--about declares activate-version only with the setting that turns it on (it was hidden)."""
    from tap_calendly.tap import TapCalendly

    assert "activate-version" in [str(c) for c in TapCalendly.capabilities]
    setting = TapCalendly.config_jsonschema["properties"]["emit_activate_version_messages"]
    assert setting["type"] == ["boolean", "null"] and setting["default"] is False
