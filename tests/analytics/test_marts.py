"""The marts, built by one real `meltano run` (extract, load, dbt build) on DuckDB and on a real
PostgreSQL, say what the sandbox's store holds: fates, cancelers, no-shows, reschedule chains,
hosts, event types, lead times, weekly metrics and routing conversion."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from pathlib import Path

import pytest

from calendly_sandbox import Sandbox
from tests.analytics.expected import Expected, fate, instant
from tests.analytics.warehouses import Warehouse, query, records, run_results

pytestmark = pytest.mark.slow

MARTS = (
    "bookings",
    "meetings",
    "weekly_event_type_metrics",
    "weekly_host_metrics",
    "routing_form_conversion",
    "data_as_of",
)


@pytest.fixture(scope="session", params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest) -> Warehouse:
    built: Warehouse = request.getfixturevalue(f"{request.param}_warehouse")
    return built


def test_one_meltano_run_built_and_tested_every_model(warehouse: Warehouse) -> None:
    results = run_results(warehouse.dbt_target_path)
    by_kind = Counter(r["unique_id"].split(".")[0] for r in results)
    failed = [r["unique_id"] for r in results if r["status"] not in ("success", "pass")]

    assert failed == []
    assert by_kind["model"] >= 15 + len(MARTS)
    assert by_kind["test"] >= 40
    built = {r["unique_id"].rsplit(".", 1)[-1] for r in results}
    assert set(MARTS) <= built


def test_one_row_per_invitee(warehouse: Warehouse, expected: Expected) -> None:
    [(rows, distinct)] = query(
        warehouse, "select count(*), count(distinct invitee_uri) from analytics.bookings"
    )

    assert rows == distinct == len(expected.invitees)


def test_fates_match_the_store(warehouse: Warehouse, expected: Expected) -> None:
    fates = dict(query(warehouse, "select fate, count(*) from analytics.bookings group by fate"))
    cancelers = dict(
        query(
            warehouse,
            "select canceler_type, count(*) from analytics.bookings "
            "where fate = 'canceled' group by canceler_type",
        )
    )

    assert fates == dict(expected.fates())
    assert fates["canceled"] > 0 and fates["no_show"] > 0 and fates["rescheduled"] > 0
    assert cancelers == dict(expected.canceler_types())


def test_each_booking_carries_its_event_type_hosts_source_and_lead_time(
    warehouse: Warehouse, expected: Expected
) -> None:
    rows = records(
        warehouse,
        "select invitee_uri, event_type_name, host_user_uris, utm_source, start_time, "
        "lead_time_hours, cancellation_reason from analytics.bookings",
        ("uri", "event_type", "hosts", "utm_source", "start", "lead", "reason"),
    )

    assert len(rows) == len(expected.invitees)
    for row in rows:
        invitee = expected.invitees[row["uri"]]
        assert row["event_type"] == expected.event_type_name(invitee), row["uri"]
        assert sorted((row["hosts"] or "").split()) == expected.hosts(invitee), row["uri"]
        assert row["utm_source"] == invitee["tracking"]["utm_source"], row["uri"]
        # A UTC instant, whatever the server's own time zone (the test cluster's is not UTC).
        assert row["start"] == expected.start(invitee), row["uri"]
        assert math.isclose(row["lead"], expected.lead_time_hours(invitee), abs_tol=1e-6)
        assert row["reason"] == (invitee.get("cancellation") or {}).get("reason"), row["uri"]


def test_reschedule_chains_link_old_to_new(warehouse: Warehouse, expected: Expected) -> None:
    rows = records(
        warehouse,
        "select invitee_uri, old_invitee_uri, new_invitee_uri, chain_root_invitee_uri, "
        "chain_position from analytics.bookings",
        ("uri", "old", "new", "root", "position"),
    )
    by_uri = {row["uri"]: row for row in rows}
    moved = [i for i in expected.invitees.values() if i.get("new_invitee")]

    assert moved
    for old in moved:
        new = by_uri[old["new_invitee"]]
        assert by_uri[old["uri"]]["new"] == new["uri"]
        assert new["old"] == old["uri"]
        assert new["root"] == by_uri[old["uri"]]["root"]
        assert new["position"] == by_uri[old["uri"]]["position"] + 1
    assert all(row["position"] >= 1 and row["root"] for row in rows)


def test_weekly_event_type_metrics_match_the_store(
    warehouse: Warehouse, expected: Expected
) -> None:
    rows = records(
        warehouse,
        "select start_week, event_type_uri, bookings, canceled, no_shows, reschedules, "
        "cancellation_rate, no_show_rate, held_bookings from analytics.weekly_event_type_metrics",
        (
            "week",
            "type",
            "bookings",
            "canceled",
            "no_show",
            "rescheduled",
            "c_rate",
            "ns_rate",
            "held",
        ),
    )
    got = {(_date(r["week"]), r["type"]): r for r in rows}
    want = expected.weekly_by_event_type(as_of(warehouse))

    assert set(got) == set(want)
    for key, counts in want.items():
        row = got[key]
        assert (row["bookings"], row["canceled"], row["no_show"], row["rescheduled"]) == (
            counts["bookings"],
            counts["canceled"],
            counts["no_show"],
            counts["rescheduled"],
        ), key
        assert math.isclose(float(row["c_rate"]), counts["canceled"] / counts["bookings"])
        assert row["held"] == counts["held"], key
        if counts["held"]:
            assert math.isclose(float(row["ns_rate"]), counts["held_no_show"] / counts["held"])
        else:
            assert row["ns_rate"] is None, key
    future = [key for key, counts in want.items() if counts["active"] and not counts["held"]]
    assert future and all(got[key]["ns_rate"] is None for key in future)


def test_weekly_host_metrics_count_every_host_of_a_meeting(
    warehouse: Warehouse, expected: Expected
) -> None:
    got = {
        (_date(week), host): bookings
        for week, host, bookings in query(
            warehouse,
            "select start_week, host_user_uri, bookings from analytics.weekly_host_metrics",
        )
    }

    assert got == dict(expected.weekly_bookings_by_host())


def test_routing_form_conversion_counts_submissions_that_became_bookings(
    warehouse: Warehouse, expected: Expected
) -> None:
    rows = query(
        warehouse,
        "select routing_form_uri, submissions, became_booking, converted "
        "from analytics.routing_form_conversion",
    )
    got = {form: (submissions, booked) for form, submissions, booked, _ in rows}
    converted = {form: alive for form, _, _, alive in rows if alive}

    assert got == expected.conversion_by_form()
    assert sum(booked for _, booked in got.values()) > 0
    assert converted == expected.converted_by_form()


def test_meetings_count_each_scheduled_event_once_and_its_seats(
    warehouse: Warehouse, expected: Expected
) -> None:
    got = {
        uri: (status, booked, canceled)
        for uri, status, booked, canceled in query(
            warehouse,
            "select event_uri, status, seats_booked, seats_canceled from analytics.meetings",
        )
    }
    seats = Counter(i["event"] for i in expected.invitees.values())
    canceled = Counter(i["event"] for i in expected.invitees.values() if fate(i) == "canceled")

    assert got == {
        uri: (event["status"], seats[uri], canceled[uri]) for uri, event in expected.events.items()
    }


def test_staging_turns_json_null_into_sql_null(warehouse: Warehouse, expected: Expected) -> None:
    [(not_canceled, no_shows)] = query(
        warehouse,
        "select count(*) filter (where cancellation_reason is null and not is_canceled), "
        "count(*) filter (where is_no_show) from analytics_staging.stg_calendly__invitees",
    )

    assert not_canceled == sum(1 for i in expected.invitees.values() if not i.get("cancellation"))
    assert no_shows == sum(1 for i in expected.invitees.values() if i.get("no_show"))


def test_postgres_tables_are_analyst_ready(
    postgres_warehouse: Warehouse, expected: Expected
) -> None:
    """Arrays of objects load as jsonb (not jsonb[]); date-times as UTC wall time although the
    server's time zone is not UTC."""
    types = dict(
        query(
            postgres_warehouse,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'calendly' and table_name = 'scheduled_events'",
        )
    )
    loaded = dict(
        query(postgres_warehouse, "select uri, start_time from calendly.scheduled_events")
    )
    [(staged_type,)] = query(
        postgres_warehouse,
        "select data_type from information_schema.columns where table_schema = "
        "'analytics_staging' and table_name = 'stg_calendly__scheduled_events' "
        "and column_name = 'start_time'",
    )

    assert types["event_memberships"] == "jsonb"
    assert types["event_guests"] == "jsonb"
    assert staged_type == "timestamp with time zone"
    assert loaded == {
        uri: instant(event["start_time"]).replace(tzinfo=None)
        for uri, event in expected.events.items()
    }


def as_of(warehouse: Warehouse) -> dt.datetime:
    [(moment,)] = query(warehouse, "select as_of from analytics.data_as_of")
    assert isinstance(moment, dt.datetime)
    return moment


def _date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    assert isinstance(value, dt.date), value
    return value


def analyst_queries() -> list[str]:
    """demo/sql/*.sql, the queries of docs/analytics.md and of docs/warehouse.md's Analytics
    section: they must run on both warehouses."""
    root = Path(__file__).resolve().parents[2]
    warehouse = (root / "docs" / "warehouse.md").read_text(encoding="utf-8")
    sections = [
        warehouse.split("## Analytics:", 1)[1].split("\n## ", 1)[0],
        (root / "docs" / "analytics.md").read_text(encoding="utf-8"),
    ]
    blocks = [b for s in sections for b in re.findall(r"```sql\n(.*?)```", s, flags=re.S)]
    statements = [s.strip() for block in blocks for s in block.split(";") if s.strip()]
    files = [p.read_text(encoding="utf-8") for p in sorted((root / "demo" / "sql").glob("*.sql"))]
    return files + statements


def test_the_analyst_queries_run_on_both_warehouses(warehouse: Warehouse) -> None:
    queries = analyst_queries()

    assert len(queries) >= 9
    for sql in queries:
        query(warehouse, sql)


def test_bookings_name_the_contact_with_the_invitees_email(
    warehouse: Warehouse, analytics_sandbox: Sandbox, expected: Expected
) -> None:
    by_email = {
        entry["email"].lower(): contact["uri"]
        for contact in analytics_sandbox.store.contacts.values()
        for entry in contact["emails"]
    }
    got = dict(query(warehouse, "select invitee_uri, contact_uri from analytics.bookings"))

    assert got == {
        uri: by_email.get(invitee["email"].lower()) for uri, invitee in expected.invitees.items()
    }
    assert any(got.values())
