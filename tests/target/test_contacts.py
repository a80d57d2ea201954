"""upsert_contact and delete_contact against the sandbox, each checked in its store afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Sandbox, server
from calendly_sandbox.app import Ctx
from tests.target.helpers import config_for, run_target, stream_of, writes


def run(sb: Sandbox, tmp_path: Path, stream: str, *records: dict[str, Any], **settings: Any):
    config = config_for(sb, tmp_path / "responses.jsonl", **settings)
    result = run_target(config, stream_of(stream, *records))
    assert len(result.lines) == len(records), "every record gets exactly one line"
    return result


def contacts_with(sb: Sandbox, email: str) -> list[dict[str, Any]]:
    return [
        c
        for c in sb.store.contacts.values()
        if any(e["email"].lower() == email.lower() for e in c["emails"])
    ]


def definition(sb: Sandbox, label: str) -> dict[str, Any]:
    table = sb.store.contact_custom_field_definitions
    return next(d for d in table.values() if d["label"] == label)


def seeded_with_secondary(sb: Sandbox) -> dict[str, Any]:
    return next(c for _, c in sorted(sb.store.contacts.items()) if len(c["emails"]) > 1)


def primary(contact: dict[str, Any]) -> str:
    return next(e["email"] for e in contact["emails"] if e["is_primary"])


def uuid(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def test_creates_a_contact_with_custom_fields_by_label(sandbox: Sandbox, tmp_path: Path) -> None:
    record = {
        "email": "Dana.Scully@Example.com",
        "name": "Dana Scully",
        "other_emails": '["dana@fbi.example.com"]',  # as a CSV cell
        "phone_numbers": '["+1 202 555 0143"]',
        "company": "FBI",
        "job_title": "Special Agent",
        "country": "US",
        "timezone": "America/New_York",
        "custom_fields": json.dumps(
            {"Lifecycle stage": "customer", "Lead score": "87", "Interests": "x-files,science"}
        ),
    }
    result = run(sandbox, tmp_path, "upsert_contact", record)

    assert result.outcomes() == ["ok"], result.lines
    assert result.lines[0]["http_status"] == 201
    (contact,) = contacts_with(sandbox, "dana.scully@example.com")
    assert result.lines[0]["response"]["uri"] == contact["uri"]
    assert contact["emails"] == [
        {"email": "Dana.Scully@Example.com", "is_primary": True},
        {"email": "dana@fbi.example.com", "is_primary": False},
    ]
    assert contact["phone_numbers"] == [{"phone_number": "+1 202 555 0143"}]
    assert (contact["company"], contact["job_title"], contact["country"]) == (
        "FBI",
        "Special Agent",
        "US",
    )
    stage = definition(sandbox, "Lifecycle stage")
    customer = next(o["uuid"] for o in stage["options"] if o["label"] == "Customer")
    values = {f["label"]: f["value"] for f in contact["custom_fields"]}
    assert values == {
        "Lifecycle stage": customer,
        "Lead score": 87,
        "Interests": ["x-files", "science"],
    }


def test_updates_the_contact_keeping_its_emails_and_a_rerun_sends_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    existing = seeded_with_secondary(sandbox)
    secondary = next(e["email"] for e in existing["emails"] if not e["is_primary"])
    record = {
        "email": primary(existing).upper(),  # the key is compared lowercased
        "other_emails": '["work@new.example.com"]',
        "phone_numbers": '["+44 20 7946 0000"]',
        "city": "Leeds",
        "custom_fields": json.dumps({definition(sandbox, "Renewal date")["uri"]: "2027-03-01"}),
    }
    result = run(sandbox, tmp_path, "upsert_contact", record)

    assert result.outcomes() == ["ok"], result.lines
    contact = sandbox.store.contacts[uuid(existing["uri"])]
    assert [e["email"] for e in contact["emails"]] == [
        primary(existing),
        secondary,
        "work@new.example.com",
    ]
    assert contact["phone_numbers"] == [{"phone_number": "+44 20 7946 0000"}]
    assert contact["city"] == "Leeds"
    assert {f["label"]: f["value"] for f in contact["custom_fields"]}["Renewal date"] == (
        "2027-03-01"
    )
    assert [w.method for w in writes(sandbox, "/contacts")] == ["PATCH"]

    again = run_target(
        config_for(sandbox, tmp_path / "second.jsonl"), stream_of("upsert_contact", record)
    )
    assert again.outcomes() == ["skipped"]
    assert again.only()["reason"] == "the contact already has these values"
    assert again.only()["response"]["uri"] == existing["uri"]
    assert [w.method for w in writes(sandbox, "/contacts")] == ["PATCH"]


def test_a_row_that_changes_nothing_is_skipped(sandbox: Sandbox, tmp_path: Path) -> None:
    existing = seeded_with_secondary(sandbox)
    record = {"email": primary(existing), "name": existing["name"], "company": existing["company"]}
    result = run(sandbox, tmp_path, "upsert_contact", record)
    assert result.outcomes() == ["skipped"]
    assert writes(sandbox, "/contacts") == []


def test_creating_needs_a_name_and_a_secondary_email_is_not_a_key(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    existing = seeded_with_secondary(sandbox)
    secondary = next(e["email"] for e in existing["emails"] if not e["is_primary"])
    result = run(
        sandbox,
        tmp_path,
        "upsert_contact",
        {"email": "nobody.yet@example.com", "company": "Acme"},
        {"email": secondary, "name": "Someone Else"},
        {"email": "x@example.com", "name": "X", "custom_fields": '{"Shoe size": 9}'},
        on_error="continue",
    )
    assert result.outcomes() == ["failed", "failed", "failed"]
    assert "field 'name' is required" in result.lines[0]["error"]["message"]
    assert existing["uri"] in result.lines[1]["error"]["message"]
    assert "secondary email" in result.lines[1]["error"]["message"]
    assert "'Shoe size'" in result.lines[2]["error"]["message"]
    assert "'Lifecycle stage'" in result.lines[2]["error"]["message"]
    assert writes(sandbox, "/contacts") == []


def test_a_contact_created_between_lookup_and_create_is_updated(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer (or an invitee booking) creates the contact after the lookup: the POST
    answers 409, the action looks again and PATCHes the contact that is now there."""
    email = "race@example.com"
    index = next(i for i, r in enumerate(server.ROUTES) if r.op_key == "GET /contacts")
    listing = server.ROUTES[index]

    def list_then_someone_creates(ctx: Ctx) -> Any:
        answer = listing.handler(ctx)
        if ctx.params.get("email") == email and not contacts_with(sandbox, email):
            sandbox.store.insert(
                "contacts",
                "11111111-1111-4111-8111-111111111111",
                {
                    **next(iter(sandbox.store.contacts.values())),
                    "uri": f"{sandbox.base_url}/contacts/11111111-1111-4111-8111-111111111111",
                    "emails": [{"email": email, "is_primary": True}],
                    "name": "Created Elsewhere",
                    "custom_fields": [],
                },
            )
        return answer

    handler: Callable[[Ctx], Any] = list_then_someone_creates
    routes = list(server.ROUTES)
    routes[index] = replace(listing, handler=handler)
    monkeypatch.setattr(server, "ROUTES", routes)

    result = run(sandbox, tmp_path, "upsert_contact", {"email": email, "name": "Race Winner"})

    assert result.outcomes() == ["ok"], result.lines
    (contact,) = contacts_with(sandbox, email)
    assert contact["name"] == "Race Winner"
    assert [(w.method, w.status) for w in writes(sandbox, "/contacts")] == [
        ("POST", 409),
        ("PATCH", 200),
    ]


def test_delete_contact_by_uri_uuid_and_email_then_already_gone(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    first, second, third = sorted(sandbox.store.contacts.values(), key=lambda c: c["uri"])[:3]
    refused = run_target(
        config_for(sandbox, tmp_path / "refused.jsonl"),
        stream_of("delete_contact", {"contact": first["uri"]}),
    )
    assert refused.lines == []
    assert refused.error is not None
    assert "allow_destructive_actions" in str(refused.error)
    assert writes(sandbox, "/contacts") == []

    result = run(
        sandbox,
        tmp_path,
        "delete_contact",
        {"contact": first["uri"]},
        {"contact": uuid(second["uri"])},
        {"email": primary(third).upper()},
        {"contact": first["uri"]},
        {"email": primary(third)},
        allow_destructive_actions=True,
    )
    assert result.outcomes() == ["ok", "ok", "ok", "skipped", "skipped"]
    assert result.lines[3]["http_status"] == 404
    assert "already deleted" in result.lines[4]["reason"]
    for gone in (first, second, third):
        assert uuid(gone["uri"]) not in sandbox.store.contacts
    assert [w.method for w in writes(sandbox, "/contacts")] == ["DELETE"] * 4


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_a_create_whose_answer_is_lost_is_found_not_repeated(
    sandbox: Sandbox, tmp_path: Path, kind: str
) -> None:
    """Calendly created the contact but the answer never arrived: the lookup finds the contact
    with every value of the row, so the record is ok and no second POST is sent."""
    sandbox.answer_losses.add(kind, method="POST", path="^/contacts$")
    record = {"email": "lost.answer@example.com", "name": "Lost Answer", "company": "Nowhere"}
    result = run(sandbox, tmp_path, "upsert_contact", record)

    assert result.outcomes() == ["ok"], result.lines
    assert "lookup shows the write took effect" in result.only()["reason"]
    (contact,) = contacts_with(sandbox, "lost.answer@example.com")
    assert result.only()["response"]["uri"] == contact["uri"]
    assert [w.method for w in writes(sandbox, "/contacts")] == ["POST"]
