"""A small warehouse of loaded tables written by hand, so the marts' numbers can be computed by hand.

The data is as of Wednesday 2026-06-10 12:00 UTC (the latest `_sdc_extracted_at`). Three UTC weeks:
A (Mon 2026-06-01, over), B (2026-06-08, in progress), C (2026-06-15, still to come). Host H1 hosts
everything but E9, hosted by H2, a member since removed (a deletion marker: key + _sdc_deleted_at).

    week  meeting  event type         bookings (fate)
    A     E1       Intro call         I1 active (contact C1's email)
    A     E2       Intro call         I2 no_show
    A     E3       Intro call         I3 active (the email of C2, a deleted contact);
                                      I13 no_show, deleted (attributes kept, marker set)
    A     E4       Intro call         I4 active
    A     E11      Intro call, canc.  I11 rescheduled -> I12
    A     E14      Intro call, canc.  I14 canceled by the invitee
    A     G2       Workshop (6 seats) G2a, G2b active; G2c canceled
    B     E6       Intro call, Mon    I6 no_show
    B     E9       Intro call, Tue    I9 active (host H2)
    B     E7, E8   Intro call, Fri    I7, I8 active (not yet held)
    C     E10      Intro call         I10 active
    C     E12      Intro call         I12 active (moved here from I11)
    C     G1       Workshop, canc.    G1a..G1f canceled by the host (one meeting, six seats)
    -     -        -                  T1: an invitee deletion marker (key + _sdc_deleted_at only)

Routing form F1: S1 -> I1 (active), S2 -> I14 (canceled), S3 -> I11 (moved to I12, active),
S4 not booked, S5 a deletion marker.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from demo.meltano import REPO_ROOT, tool_path
from tests.analytics.postgres import connect

API = "https://api.calendly.com"
AS_OF = "2026-06-10 12:00:00"
EARLIER = "2026-06-09 08:00:00"
DELETED_AT = "2026-06-10T11:59:00Z"

# Column kinds per loaded table: what the staging models read, plus the loaders' metadata.
TEXT, TS, JSON, BOOL, NUM = "text", "timestamp", "json", "boolean", "numeric"
COLUMNS: dict[str, dict[str, str]] = {
    "users": {
        "uri": TEXT, "name": TEXT, "email": TEXT, "timezone": TEXT, "locale": TEXT,
        "created_at": TS, "updated_at": TS,
    },
    "event_types": {
        "uri": TEXT, "name": TEXT, "slug": TEXT, "kind": TEXT, "pooling_type": TEXT,
        "type": TEXT, "active": BOOL, "admin_managed": BOOL, "secret": BOOL, "is_paid": BOOL,
        "booking_method": TEXT, "duration": NUM, "position": NUM, "locale": TEXT, "color": TEXT,
        "profile": JSON, "custom_questions": JSON, "duration_options": JSON, "locations": JSON,
        "created_at": TS, "updated_at": TS, "deleted_at": TS,
    },
    "scheduled_events": {
        "uri": TEXT, "name": TEXT, "status": TEXT, "event_type": TEXT, "start_time": TS,
        "end_time": TS, "location": JSON, "invitees_counter": JSON, "cancellation": JSON,
        "calendar_event": JSON, "event_memberships": JSON, "created_at": TS, "updated_at": TS,
    },
    "invitees": {
        "uri": TEXT, "event": TEXT, "status": TEXT, "email": TEXT, "name": TEXT,
        "timezone": TEXT, "rescheduled": BOOL, "old_invitee": TEXT, "new_invitee": TEXT,
        "routing_form_submission": TEXT, "scheduling_method": TEXT,
        "invitee_scheduled_by": TEXT, "tracking": JSON, "cancellation": JSON, "no_show": JSON,
        "payment": JSON, "created_at": TS, "updated_at": TS,
    },
    "contacts": {
        "uri": TEXT, "name": TEXT, "company": TEXT, "country": TEXT, "state": TEXT,
        "timezone": TEXT, "emails": JSON, "created_at": TS, "updated_at": TS,
    },
    "routing_forms": {
        "uri": TEXT, "name": TEXT, "status": TEXT, "organization": TEXT, "questions": JSON,
        "created_at": TS, "updated_at": TS,
    },
    "routing_form_submissions": {
        "uri": TEXT, "routing_form": TEXT, "submitter": TEXT, "submitter_type": TEXT,
        "result": JSON, "tracking": JSON, "created_at": TS, "updated_at": TS,
    },
}  # fmt: skip
# `_sdc_deleted_at` as the loaders may type it: a timestamp, or the ISO 8601 text of the record.
DELETED_AT_KIND = {"invitees": TS, "scheduled_events": TS, "users": TEXT, "contacts": TEXT}
DELETED_AT_KIND["routing_form_submissions"] = TEXT
# A loader without metadata columns: this table has neither _sdc_deleted_at nor a load time.
WITHOUT_METADATA = ("routing_forms",)


def uri(collection: str, uuid: str) -> str:
    return f"{API}/{collection}/{uuid}"


def week_day(week: str, day: int, hour: int) -> str:
    monday = {"A": 1, "B": 8, "C": 15}[week]
    return f"2026-06-{monday + day:02d} {hour:02d}:00:00"


def cancellation(by: str) -> dict[str, Any]:
    name = "Hana One" if by == "host" else "An Invitee"
    return {"canceled_by": name, "canceler_type": by, "reason": None, "created_at": EARLIER}


def event(
    uuid: str,
    start: str,
    *,
    event_type: str = "intro",
    canceled_by: str | None = None,
    seats: int = 1,
    host: str = "H1",
) -> dict[str, Any]:
    end = f"{start[:11]}{int(start[11:13]) + 1:02d}{start[13:]}"  # an hour long
    return {
        "uri": uri("scheduled_events", uuid),
        "name": "Workshop" if event_type == "workshop" else "Intro call",
        "status": "canceled" if canceled_by else "active",
        "event_type": uri("event_types", event_type),
        "start_time": start,
        "end_time": end,
        "invitees_counter": {"total": seats, "active": seats, "limit": seats},
        "cancellation": cancellation(canceled_by) if canceled_by else None,
        "event_memberships": [{"user": uri("users", host), "user_name": f"Host {host}"}],
        "created_at": "2026-05-01 09:00:00",
        "updated_at": EARLIER,
    }


def invitee(uuid: str, event_uuid: str, fate: str = "active", **extra: Any) -> dict[str, Any]:
    canceled = fate in ("canceled", "rescheduled")
    return {
        "uri": uri("invitees", uuid),
        "event": uri("scheduled_events", event_uuid),
        "status": "canceled" if canceled else "active",
        "email": f"{uuid.lower()}@example.com",
        "name": uuid,
        "rescheduled": fate == "rescheduled",
        "cancellation": cancellation(extra.pop("canceled_by", "invitee")) if canceled else None,
        "no_show": {"uri": uri("no_shows", uuid), "created_at": AS_OF}
        if fate == "no_show"
        else None,
        "tracking": {"utm_source": "fixture"},
        "created_at": "2026-05-02 09:00:00",
        "updated_at": EARLIER,
        **extra,
    }


def marker(collection: str, uuid: str) -> dict[str, Any]:
    """What a loader without hard_delete keeps of a vanished row: its key and the marker."""
    return {"uri": uri(collection, uuid), "_sdc_deleted_at": DELETED_AT}


def raw_rows() -> dict[str, list[dict[str, Any]]]:
    events = [
        event("E1", week_day("A", 0, 9)),
        event("E2", week_day("A", 0, 11)),
        event("E3", week_day("A", 1, 9)),
        event("E4", week_day("A", 1, 11)),
        event("E11", week_day("A", 2, 9), canceled_by="invitee"),
        event("E14", week_day("A", 2, 11), canceled_by="invitee"),
        event("G2", week_day("A", 3, 15), event_type="workshop", seats=6),
        event("E6", week_day("B", 0, 9)),
        event("E9", week_day("B", 1, 9), host="H2"),
        event("E7", week_day("B", 4, 9)),
        event("E8", week_day("B", 4, 11)),
        event("E10", week_day("C", 0, 9)),
        event("E12", week_day("C", 1, 9)),
        event("G1", week_day("C", 2, 15), event_type="workshop", canceled_by="host", seats=6),
    ]
    submission = uri("routing_form_submissions", "S{}").format
    invitees = [
        invitee("I1", "E1", routing_form_submission=submission(1)),
        invitee("I2", "E2", "no_show"),
        invitee("I3", "E3"),
        {**invitee("I13", "E3", "no_show"), "_sdc_deleted_at": DELETED_AT},
        invitee("I4", "E4"),
        invitee(
            "I11",
            "E11",
            "rescheduled",
            new_invitee=uri("invitees", "I12"),
            routing_form_submission=submission(3),
        ),
        invitee("I14", "E14", "canceled", routing_form_submission=submission(2)),
        invitee("G2a", "G2"),
        invitee("G2b", "G2"),
        invitee("G2c", "G2", "canceled"),
        invitee("I6", "E6", "no_show"),
        invitee("I9", "E9"),
        invitee("I7", "E7"),
        invitee("I8", "E8"),
        invitee("I10", "E10"),
        invitee("I12", "E12", old_invitee=uri("invitees", "I11")),
        *(invitee(f"G1{seat}", "G1", "canceled", canceled_by="host") for seat in "abcdef"),
        marker("invitees", "T1"),
    ]
    form = uri("routing_forms", "F1")
    submissions = [
        {
            "uri": submission(n),
            "routing_form": form,
            "result": {"type": "event_type", "value": uri("event_types", "intro")},
            "created_at": "2026-05-02 08:00:00",
            "updated_at": "2026-05-02 08:00:00",
        }
        for n in (1, 2, 3, 4)
    ] + [marker("routing_form_submissions", "S5")]
    return {
        "users": [
            {"uri": uri("users", "H1"), "name": "Hana One", "timezone": "UTC", "locale": "en"},
            marker("users", "H2"),
        ],
        "event_types": [
            {"uri": uri("event_types", "intro"), "name": "Intro call", "kind": "solo"},
            {"uri": uri("event_types", "workshop"), "name": "Workshop", "kind": "group"},
        ],
        "scheduled_events": events,
        "invitees": invitees,
        "contacts": [
            {"uri": uri("contacts", "C1"), "emails": [{"email": "I1@example.com"}]},
            {
                "uri": uri("contacts", "C2"),
                "emails": [{"email": "i3@example.com"}],
                "_sdc_deleted_at": DELETED_AT,
            },
            marker("contacts", "C3"),
        ],
        "routing_forms": [{"uri": form, "name": "Qualify", "status": "published"}],
        "routing_form_submissions": submissions,
    }


def _columns(table: str) -> dict[str, str]:
    columns = dict(COLUMNS[table])
    if table not in WITHOUT_METADATA:
        columns["_sdc_extracted_at"] = TS
    if table in DELETED_AT_KIND:
        columns["_sdc_deleted_at"] = DELETED_AT_KIND[table]
    return columns


def _value(kind: str, value: Any) -> Any:
    return json.dumps(value) if kind == JSON and value is not None else value


def _rows(table: str, rows: list[dict[str, Any]]) -> list[list[Any]]:
    columns = _columns(table)
    unknown = {key for row in rows for key in row} - set(columns)
    assert not unknown, f"{table}: no column {unknown}"
    stamped = [
        {"_sdc_extracted_at": AS_OF if table == "invitees" else EARLIER, **row} for row in rows
    ]
    return [[_value(kind, row.get(name)) for name, kind in columns.items()] for row in stamped]


def _create(table: str, json_type: str) -> str:
    types = {JSON: json_type}
    columns = ", ".join(
        f'"{name}" {types.get(kind, kind)}' for name, kind in _columns(table).items()
    )
    return f"create table calendly.{table} ({columns})"


def _insert(table: str, placeholder: str) -> str:
    marks = ", ".join(placeholder for _ in _columns(table))
    return f"insert into calendly.{table} values ({marks})"  # noqa: S608 (this module's tables)


def load_duckdb(database: Path, tables: Mapping[str, list[dict[str, Any]]]) -> None:
    with duckdb.connect(str(database)) as con:
        con.execute("create schema calendly")
        for table, rows in tables.items():
            con.execute(_create(table, "json"))
            con.executemany(_insert(table, "?"), _rows(table, rows))


def load_postgres(env: Mapping[str, str], tables: Mapping[str, list[dict[str, Any]]]) -> None:
    with connect(env) as connection, connection.cursor() as cursor:
        cursor.execute("create schema calendly")
        for table, rows in tables.items():
            cursor.execute(_create(table, "jsonb"))
            cursor.executemany(_insert(table, "%s"), _rows(table, rows))
    connection.close()


# Everything the marts are built from; the models of other streams are not built here.
SELECTION = (
    "+bookings+",
    "stg_calendly__contacts",
    "stg_calendly__users",
    "stg_calendly__routing_forms",
)


def dbt_build(
    env: Mapping[str, str], work: Path, command: str = "build"
) -> subprocess.CompletedProcess[str]:
    """`dbt build` (or `command`) of transform/ on the marts, artifacts under `work`; never raises."""
    return subprocess.run(
        [
            str(tool_path("dbt")),
            command,
            "--project-dir",
            str(REPO_ROOT / "transform"),
            "--profiles-dir",
            str(REPO_ROOT / "transform"),
            "--select",
            *SELECTION,
            "--indirect-selection",
            "cautious",
        ],
        env={
            **os.environ,
            "DBT_TARGET_PATH": str(work / "target"),
            "DBT_LOG_PATH": str(work / "logs"),
            "CALENDLY_SOURCE_SCHEMA": "calendly",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
