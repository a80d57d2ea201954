"""The loaders of loaders/ as a user's project installs them (each from its folder, into a clean
venv outside the checkout): what tap-calendly sends arrives whole and unbent. The released loaders
they wrap are installed beside them (dependencies), and run on the same input to show why."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.analytics.postgres import PostgresCluster, connect
from tests.distributions.conftest import ROOT, CleanVenv, clean_venv

pytestmark = pytest.mark.slow

EVENTS_SCHEMA = {
    "type": "object",
    "properties": {
        "uri": {"type": "string"},
        "start_time": {"type": ["string", "null"], "format": "date-time"},
        "cancellation": {
            "type": ["object", "null"],
            "properties": {"reason": {"type": ["string", "null"]}},
        },
        "attendees": {
            "type": ["array", "null"],
            "items": {"type": "object", "properties": {"email": {"type": "string"}}},
        },
        "emails": {"type": ["array", "null"], "items": {"type": "string"}},
    },
}
EVENTS = [
    {
        "uri": "https://api.calendly.com/scheduled_events/A",
        "start_time": "2026-01-05T15:00:00.000000Z",
        "cancellation": {"reason": "ill"},
        "attendees": [{"email": "ann@example.com"}],
        "emails": ["ann@example.com", "ann@work.example.com"],
    },
    {
        "uri": "https://api.calendly.com/scheduled_events/B",
        "start_time": "2026-07-05T15:00:00Z",
        "cancellation": None,
        "attendees": None,
        "emails": None,
    },
    {"uri": "https://api.calendly.com/scheduled_events/C"},  # keys absent, as in older records
]


def singer_input(records: list[dict[str, Any]]) -> str:
    messages = [
        {"type": "SCHEMA", "stream": "events", "schema": EVENTS_SCHEMA, "key_properties": ["uri"]},
        *({"type": "RECORD", "stream": "events", "record": r} for r in records),
    ]
    return "".join(json.dumps(m) + "\n" for m in messages)


def run_loader(venv: CleanVenv, command: str, config: dict[str, Any], stdin: str) -> None:
    config_path = venv.workdir / f"{command}.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    env = {k: v for k, v in venv.env().items() if k != "PGTZ"}
    result = subprocess.run(
        [str(venv.bin(command)), "--config", str(config_path)],
        input=stdin,
        env=env,
        cwd=venv.workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def loaders(tmp_path_factory: pytest.TempPathFactory) -> CleanVenv:
    folders = [str(ROOT / "loaders" / "duckdb"), str(ROOT / "loaders" / "postgres")]
    return clean_venv(tmp_path_factory.mktemp("loaders"), folders)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()  # its time zone is America/New_York, not UTC
    try:
        yield cluster
    finally:
        cluster.stop()


def load_into_postgres(
    venv: CleanVenv, command: str, cluster: PostgresCluster
) -> tuple[dict[str, str], dict[str, tuple[Any, ...]]]:
    """Loads EVENTS twice (the second run's batch goes through a temp table reflected from the
    database); returns the column types and, per event, start_time, `cancellation IS NULL`,
    `attendees IS NULL` and `jsonb_typeof(attendees)`."""
    pg = cluster.create_database(command.replace("-", "_"))
    config = {
        "host": pg["PGHOST"],
        "port": int(pg["PGPORT"]),
        "user": pg["PGUSER"],
        "password": pg["PGPASSWORD"],
        "database": pg["PGDATABASE"],
        "default_target_schema": "calendly",
    }
    for _ in range(2):
        run_loader(venv, command, config, singer_input(EVENTS))
    connection = connect(pg)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "select column_name, udt_name from information_schema.columns "
            "where table_schema = 'calendly' and table_name = 'events'"
        )
        types = dict(cursor.fetchall())
        cursor.execute(
            "select uri, start_time, cancellation is null, attendees is null, "
            "pg_typeof(attendees)::text from calendly.events"
        )
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    connection.close()
    return types, rows


def test_postgres_loader_gives_jsonb_arrays_sql_nulls_and_utc_times(
    loaders: CleanVenv, postgres: PostgresCluster
) -> None:
    types, rows = load_into_postgres(loaders, "target-postgres-calendly", postgres)

    assert {name: types[name] for name in ("attendees", "emails", "cancellation")} == {
        "attendees": "jsonb",
        "emails": "jsonb",
        "cancellation": "jsonb",
    }
    assert types["start_time"] == "timestamp"
    a, b, c = (rows[event["uri"]] for event in EVENTS)
    assert a[0].isoformat() == "2026-01-05T15:00:00" and b[0].isoformat() == "2026-07-05T15:00:00"
    assert (a[1], b[1], c[1]) == (False, True, True)  # cancellation IS NULL
    assert (a[2], b[2], c[2]) == (False, True, True)  # attendees IS NULL


def test_released_target_postgres_bends_the_same_input(
    loaders: CleanVenv, postgres: PostgresCluster
) -> None:
    """What the wrapper exists for: jsonb[] and text[] arrays, JSON null for an absent object,
    and every date-time shifted by the server's time zone."""
    types, rows = load_into_postgres(loaders, "target-postgres", postgres)

    assert (types["attendees"], types["emails"]) == ("_jsonb", "_text")
    a, b, c = (rows[event["uri"]] for event in EVENTS)
    assert (b[1], c[1]) == (False, False)  # cancellation IS NULL matches neither
    assert a[0].isoformat() != "2026-01-05T15:00:00"


def test_duckdb_loader_loads_every_record(loaders: CleanVenv) -> None:
    records = [
        {"uri": f"https://api.calendly.com/users/U{i}", "name": f"User {i}"} for i in range(3)
    ]
    messages = [
        {
            "type": "SCHEMA",
            "stream": "users",
            "schema": {
                "type": "object",
                "properties": {"uri": {"type": "string"}, "name": {"type": "string"}},
            },
            "key_properties": ["uri"],
        },
        *({"type": "RECORD", "stream": "users", "record": r} for r in records),
    ]
    stdin = "".join(json.dumps(m) + "\n" for m in messages)
    loaded = {}
    for command in ("target-duckdb-rowsafe", "target-duckdb"):
        database = loaders.workdir / f"{command}.duckdb"
        config = {"path": str(database), "default_target_schema": "calendly"}
        run_loader(loaders, command, config, stdin)
        with duckdb.connect(str(database), read_only=True) as con:
            loaded[command] = con.execute("select count(*) from calendly.users").fetchone()

    assert loaded == {"target-duckdb-rowsafe": (3,), "target-duckdb": (2,)}


def test_loader_folders_are_what_the_hub_definitions_install() -> None:
    for name in ("target-duckdb", "target-postgres"):
        text = (ROOT / "hub" / "loaders" / name / "calendly-connectors.yml").read_text()
        folder = text.split("#subdirectory=", 1)[1].split()[0]
        assert Path(ROOT / folder / "pyproject.toml").exists(), name
