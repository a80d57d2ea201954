"""docs/warehouse.md's PII recipe, as shipped in meltano.yml (tap-calendly--pii-free): after
`meltano run tap-calendly--pii-free target-duckdb dbt-duckdb:build` no email, name, phone number,
routing answer, guest or outgoing_communications recipient of the sandbox is anywhere in the
warehouse, raw tables or models, and the marts still count what happened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from calendly_sandbox import Sandbox
from tests.analytics.expected import Expected
from tests.analytics.warehouses import Warehouse, query, run_pipeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pii_free(
    tmp_path_factory: pytest.TempPathFactory, analytics_sandbox: Sandbox, meltano_sys_dir: Path
) -> Warehouse:
    return run_pipeline(
        ("tap-calendly--pii-free", "target-duckdb", "dbt-duckdb:build"),
        tmp_path_factory.mktemp("pii-free-run"),
        analytics_sandbox,
        meltano_sys_dir,
    )


def personal_values(sandbox: Sandbox) -> set[str]:
    store = sandbox.store
    found: set[str] = set()
    # An answer that is one of a question's offered choices ("11-50") is not personal: the
    # question definitions (routing_forms, event_types) carry it too.
    choices = {
        choice
        for definitions in (
            *(form.get("questions") or [] for form in store.routing_forms.values()),
            *(kind.get("custom_questions") or [] for kind in store.event_types.values()),
        )
        for question in definitions
        for choice in question.get("answer_choices") or []
    }

    def add(value: Any) -> None:
        if isinstance(value, str) and len(value) >= 5 and value not in choices:
            found.add(value)

    for user in store.users.values():
        add(user["email"])
        add(user["name"])
    for contact in store.contacts.values():
        add(contact.get("name"))
        for email in contact.get("emails") or []:
            add(email if isinstance(email, str) else email.get("email"))
    for invitee in store.invitees.values():
        for key in ("email", "name", "text_reminder_number"):
            add(invitee.get(key))
        for answer in invitee.get("questions_and_answers") or []:
            add(answer.get("answer"))
    for event in store.scheduled_events.values():
        for guest in event.get("event_guests") or []:
            add(guest.get("email"))
    for submission in store.routing_form_submissions.values():
        for answer in submission.get("questions_and_answers") or []:
            add(answer.get("answer"))
    for message in store.outgoing_communications.values():
        add(message.get("to"))
    for recap in store.meeting_recaps.values():
        for attendee in recap.get("attendees") or []:
            add(attendee.get("user_email"))
            add(attendee.get("user_name"))
    for invitation in store.organization_invitations.values():
        add(invitation.get("email"))
    return found


def warehouse_text(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        chunks = [
            # Names come from information_schema, quoted as identifiers.
            repr(con.execute(f'select * from "{schema}"."{table}"').fetchall())  # noqa: S608
            for schema, table in tables
        ]
    return "\n".join(chunks)


def test_no_personal_value_reaches_the_warehouse(
    pii_free: Warehouse, analytics_sandbox: Sandbox
) -> None:
    personal = personal_values(analytics_sandbox)
    text = warehouse_text(pii_free.layout.database)

    assert len(personal) > 100
    # The scan sees the data: every invitee is there, by its URI.
    assert all(uri in text for uri in (i["uri"] for i in analytics_sandbox.store.invitees.values()))
    assert sorted(value for value in personal if value in text) == []


def test_the_marts_still_count_what_happened(pii_free: Warehouse, expected: Expected) -> None:
    fates = dict(query(pii_free, "select fate, count(*) from analytics.bookings group by fate"))
    [(hosts,)] = query(
        pii_free, "select count(distinct host_user_uri) from analytics.weekly_host_metrics"
    )

    assert fates == dict(expected.fates())
    assert hosts > 1
