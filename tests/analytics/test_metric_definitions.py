"""The marts' definitions, on a warehouse written by hand (tests/analytics/raw_fixture.py, which
draws it) and built by `dbt build` on DuckDB and on a real PostgreSQL: every expected number below
is counted by hand from that table, not computed by code."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from demo.meltano import REPO_ROOT
from tests.analytics import raw_fixture
from tests.analytics.postgres import PostgresCluster, connect
from tests.analytics.warehouses import run_results

pytestmark = pytest.mark.slow

WEEK_A, WEEK_B, WEEK_C = dt.date(2026, 6, 1), dt.date(2026, 6, 8), dt.date(2026, 6, 15)
DOCS = REPO_ROOT / "docs" / "analytics.md"


@dataclass
class Built:
    env: dict[str, str]
    work: Path
    output: str

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if "PGDATABASE" in self.env:
            with connect(self.env) as connection, connection.cursor() as cursor:
                cursor.execute(sql)
                rows: list[tuple[Any, ...]] = cursor.fetchall()
            connection.close()
            return rows
        with duckdb.connect(self.env["DBT_DUCKDB_PATH"], read_only=True) as con:
            return con.execute(sql).fetchall()

    def one(self, sql: str) -> tuple[Any, ...]:
        [row] = self.query(sql)
        return row


def _build(env: dict[str, str], work: Path) -> Built:
    result = raw_fixture.dbt_build(env, work)
    return Built(env, work, result.stdout + result.stderr)


@pytest.fixture(scope="module")
def duckdb_built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    work = tmp_path_factory.mktemp("fixture-duckdb")
    database = work / "warehouse.duckdb"
    raw_fixture.load_duckdb(database, raw_fixture.raw_rows())
    return _build({"DBT_TARGET": "duckdb", "DBT_DUCKDB_PATH": str(database)}, work)


@pytest.fixture(scope="module")
def postgres_built(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresCluster) -> Built:
    work = tmp_path_factory.mktemp("fixture-postgres")
    env = {"DBT_TARGET": "postgres", **postgres.create_database("fixture")}
    raw_fixture.load_postgres(env, raw_fixture.raw_rows())
    return _build(env, work)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(request: pytest.FixtureRequest) -> Iterator[Built]:
    yield request.getfixturevalue(f"{request.param}_built")


def _week(value: object) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value  # type: ignore[return-value]


def _rate(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def test_every_model_and_invariant_passes(built: Built) -> None:
    results = run_results(built.work / "target")
    failed = [r["unique_id"] for r in results if r["status"] not in ("success", "pass")]
    names = {r["unique_id"] for r in results}

    assert failed == [], built.output[-3000:]
    for invariant in (
        "between_zero_and_one",
        "adds_up",
        "not_older_than_sources",
        "matches_rows_of",
    ):
        assert any(f".{invariant}_" in name for name in names), invariant


def test_as_of_is_the_latest_extraction(built: Built) -> None:
    as_of, basis = built.one("select as_of, as_of_basis from analytics.data_as_of")

    assert as_of == dt.datetime(2026, 6, 10, 12, tzinfo=dt.timezone.utc)
    assert basis == "last extraction"


def test_no_show_rate_counts_only_bookings_that_took_place(built: Built) -> None:
    rows = built.query(
        "select start_week, event_type_name, held_bookings, held_no_shows, no_show_rate "
        "from analytics.weekly_event_type_metrics"
    )
    got = {
        (_week(week), name): (held, no_shows, _rate(rate))
        for week, name, held, no_shows, rate in rows
    }

    # Week A: I1, I2 (no-show), I3, I4 held; I13's no-show is deleted, I11 moved, I14 canceled.
    assert got[(WEEK_A, "Intro call")] == (4, 1, 0.25)
    # Week B is under way: I6 (no-show) and I9 ended; I7 and I8 are Friday's (1/2, not 1/4).
    assert got[(WEEK_B, "Intro call")] == (2, 1, 0.5)
    assert got[(WEEK_A, "Workshop")] == (2, 0, 0.0)


def test_a_week_not_yet_held_has_no_no_show_rate(built: Built) -> None:
    rates = dict(
        built.query(
            "select event_type_name, no_show_rate from analytics.weekly_event_type_metrics "
            "where start_week = '2026-06-15'"
        )
    )

    assert rates == {"Intro call": None, "Workshop": None}


def test_host_canceling_a_six_seat_group_event_is_one_meeting_six_seats(built: Built) -> None:
    weekly = built.one(
        "select bookings, canceled, meetings, canceled_meetings, cancellation_rate, "
        "meeting_cancellation_rate from analytics.weekly_event_type_metrics "
        "where start_week = '2026-06-15' and event_type_name = 'Workshop'"
    )
    meeting = built.one(
        "select status, canceler_type, is_group_event, seat_capacity, seats_booked, "
        "seats_canceled, seat_fill_rate from analytics.meetings "
        "where event_uri like '%/scheduled_events/G1'"
    )

    assert weekly[:4] == (6, 6, 1, 1)
    assert (_rate(weekly[4]), _rate(weekly[5])) == (1.0, 1.0)
    assert meeting == ("canceled", "host", True, 6, 6, 6, None)


def test_meetings_count_seats_by_fate_and_fill_of_group_events(built: Built) -> None:
    rows = built.query(
        "select regexp_replace(event_uri, '^.*/', ''), status, took_place, seats_booked, "
        "seats_active, seats_no_show, seats_canceled, seats_rescheduled, seat_fill_rate "
        "from analytics.meetings"
    )
    got = {row[0]: (*row[1:8], _rate(row[8])) for row in rows}

    assert len(got) == 14
    assert got["G2"] == ("active", True, 3, 2, 0, 1, 0, pytest.approx(2 / 6))
    assert got["E3"] == ("active", True, 1, 1, 0, 0, 0, None)  # I13, deleted, is not a seat
    assert got["E11"] == ("canceled", False, 1, 0, 0, 0, 1, None)
    assert got["E7"] == ("active", False, 1, 1, 0, 0, 0, None)


def test_conversion_counts_bookings_still_alive(built: Built) -> None:
    row = built.one(
        "select submissions, became_booking, converted, canceled, rescheduled, conversion_rate, "
        "booking_rate from analytics.routing_form_conversion"
    )

    # S1 booked (I1 active), S2 booked and canceled (I14), S3 booked and moved (I11 -> I12,
    # active), S4 not booked; S5 was deleted.
    assert row[:5] == (4, 3, 2, 1, 1)
    assert (_rate(row[5]), _rate(row[6])) == (0.5, 0.75)


def test_deleted_rows_are_flagged_in_staging_and_absent_from_the_marts(built: Built) -> None:
    staged = built.query(
        "select regexp_replace(invitee_uri, '^.*/', ''), event_uri is null, deleted_at "
        "from analytics_staging.stg_calendly__invitees where is_deleted"
    )
    bookings = {
        uri.rsplit("/", 1)[-1]
        for (uri,) in built.query("select invitee_uri from analytics.bookings")
    }
    users = dict(
        built.query("select user_uri, is_deleted from analytics_staging.stg_calendly__users")
    )
    contacts = dict(
        built.query(
            "select regexp_replace(invitee_uri, '^.*/', ''), contact_uri from analytics.bookings "
            "where contact_uri is not null"
        )
    )
    [(submissions,)] = built.query(
        "select count(*) from analytics.routing_form_submission_outcomes"
    )

    deleted_at = dt.datetime(2026, 6, 10, 11, 59, tzinfo=dt.timezone.utc)
    assert sorted(staged) == [("I13", False, deleted_at), ("T1", True, deleted_at)]
    assert len(bookings) == 21 and not {"I13", "T1"} & bookings
    assert sorted(users.values()) == [False, True]
    assert contacts == {"I1": raw_fixture.uri("contacts", "C1")}  # C2 (I3's email) is deleted
    assert submissions == 4


def test_a_table_loaded_without_metadata_columns_has_no_deleted_rows(built: Built) -> None:
    rows = built.query(
        "select is_deleted, deleted_at from analytics_staging.stg_calendly__routing_forms"
    )

    assert rows == [(False, None)]


def documented_query(title: str) -> str:
    """The SQL block of docs/analytics.md that starts with `-- <title>`."""
    blocks = re.findall(r"```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    block = next(block for block in blocks if block.startswith(f"-- {title}"))
    return block.strip().rstrip(";")


def test_the_documented_no_show_rate_per_host_query(built: Built) -> None:
    rates = {
        host: _rate(rate)
        for host, _uri, rate in built.query(documented_query("No-show rate per host, last 8 weeks"))
    }

    # Hana One held I1, I2 (no-show), I3, I4, G2a, G2b in week A and I6 (no-show) in week B.
    assert rates == {"Hana One": pytest.approx(2 / 7), "Host H2": 0.0}


def test_every_mart_column_is_described(duckdb_built: Built) -> None:
    marts = REPO_ROOT / "transform" / "models" / "marts"
    declared = yaml.safe_load((marts / "_marts.yml").read_text(encoding="utf-8"))["models"]
    documented = set(
        re.findall(
            r"\{% docs (\w+) %\}", (marts / "_metric_definitions.md").read_text(encoding="utf-8")
        )
    )
    described = {
        (model["name"], column["name"])
        for model in declared
        for column in model["columns"]
        if column.get("description")
        and set(re.findall(r"doc\('(\w+)'\)", column["description"])) <= documented
    }
    built_columns = set(
        duckdb_built.query(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'analytics'"
        )
    )

    assert {table for table, _ in built_columns} == {model["name"] for model in declared}
    assert built_columns - described == set()


def test_marts_older_than_the_loaded_tables_fail_their_tests(
    duckdb_built: Built, tmp_path: Path
) -> None:
    """A load after the build (the demo used to leave its marts so): `dbt test` says so."""
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(duckdb_built.env["DBT_DUCKDB_PATH"], database)
    with duckdb.connect(str(database)) as con:
        con.execute(
            "update calendly.invitees set status = 'canceled', "
            "_sdc_extracted_at = timestamp '2026-06-10 12:30:00' where uri like '%/I4'"
        )

    result = raw_fixture.dbt_build(
        {"DBT_TARGET": "duckdb", "DBT_DUCKDB_PATH": str(database)}, tmp_path, command="test"
    )
    failed = {
        r["unique_id"].split(".")[2]
        for r in run_results(tmp_path / "target")
        if r["status"] == "fail"
    }

    assert result.returncode != 0
    for invariant in ("not_older_than_sources_bookings", "matches_rows_of_bookings"):
        assert any(name.startswith(invariant) for name in failed), (invariant, failed)
