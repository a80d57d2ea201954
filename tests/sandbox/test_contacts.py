"""The sandbox's contacts: filters, sorting and paging, custom field values, the endpoint that is
not in the spec, and contact.* webhooks. Spec conformance of each route is in test_conformance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from calendly_sandbox import Sandbox
from tests.sandbox.pages import bearer_session, every_page


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=5, events=80) as running:
        yield running


@pytest.fixture
def api(sb: Sandbox) -> requests.Session:
    return bearer_session(sb.token)


def listing(api: requests.Session, sb: Sandbox, **params: Any) -> list[dict[str, Any]]:
    return every_page(api, sb.base_url + "/contacts", **params)


def test_filters_exact_partial_and_comma_lists(api: requests.Session, sb: Sandbox) -> None:
    contacts = sorted(sb.store.contacts.values(), key=lambda c: c["uri"])
    with_secondary = next(c for c in contacts if len(c["emails"]) > 1)
    secondary = with_secondary["emails"][1]["email"]
    assert [c["uri"] for c in listing(api, sb, email=secondary.upper())] == [
        with_secondary["uri"]
    ], "the email filter matches secondary emails too, ignoring case"

    two = ",".join(c["emails"][0]["email"] for c in contacts[:2])
    assert {c["uri"] for c in listing(api, sb, email=two)} == {c["uri"] for c in contacts[:2]}

    company = contacts[0]["company"]
    fragment = company[1:4].upper()
    assert {c["uri"] for c in listing(api, sb, company=fragment)} == {
        c["uri"] for c in contacts if fragment.lower() in c["company"].lower()
    }
    assert {c["uri"] for c in listing(api, sb, country="GB")} == {
        c["uri"] for c in contacts if c["country"] == "GB"
    }
    assert listing(api, sb, country="gb") == [], "exact filters are exact"


def test_sorted_pages_cover_every_contact_once(api: requests.Session, sb: Sandbox) -> None:
    rows = listing(api, sb, sort="updated_at:desc", count=7)
    assert len(rows) == len(sb.store.contacts) == len({r["uri"] for r in rows})
    stamps = [r["updated_at"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)
    assert all("custom_fields" not in r for r in listing(api, sb, exclude="custom_fields"))


def test_custom_field_values_are_typed(api: requests.Session, sb: Sandbox) -> None:
    definitions = {d["label"]: d for d in sb.store.contact_custom_field_definitions.values()}
    stage = definitions["Lifecycle stage"]
    uuid = stage["uri"].rsplit("/", 1)[-1]
    contact = sorted(sb.store.contacts.values(), key=lambda c: c["uri"])[-1]

    by_label = api.patch(
        contact["uri"], json={"custom_fields": [{"uuid": uuid, "value": "Customer"}]}, timeout=30
    )
    assert by_label.status_code == 400
    assert "options" in json.dumps(by_label.json()["details"])

    option = stage["options"][2]["uuid"]
    ok = api.patch(
        contact["uri"], json={"custom_fields": [{"uuid": uuid, "value": option}]}, timeout=30
    )
    assert ok.status_code == 200, ok.text
    assert {"uri": stage["uri"], "label": stage["label"], "value": option} in (
        sb.store.contacts[contact["uri"].rsplit("/", 1)[-1]]["custom_fields"]
    )
    cleared = api.patch(
        contact["uri"], json={"custom_fields": [{"uuid": uuid, "value": None}]}, timeout=30
    )
    assert all(f["uri"] != stage["uri"] for f in cleared.json()["resource"]["custom_fields"])


def test_create_custom_field_definition_which_the_spec_lacks(
    api: requests.Session, sb: Sandbox
) -> None:
    url = sb.base_url + "/contacts/custom_field_definitions"
    body = {"label": "Region", "field_type": "single_select", "options": ["EMEA", "AMER"]}
    created = api.post(url, json=body, timeout=30)
    assert created.status_code == 201, created.text
    definition = created.json()["resource"]
    assert [o["label"] for o in definition["options"]] == ["EMEA", "AMER"]
    assert api.get(definition["uri"], timeout=30).json()["resource"] == definition
    assert api.post(url, json={**body, "label": "region"}, timeout=30).status_code == 409


def test_contact_changes_are_announced(api: requests.Session, sb: Sandbox) -> None:
    hook = api.post(
        sb.base_url + "/webhook_subscriptions",
        json={
            "url": "https://hooks.example.org/contacts",
            "events": ["contact.created", "contact.updated", "contact.deleted"],
            "organization": sb.store.organization["uri"],
            "scope": "organization",
        },
        timeout=30,
    ).json()["resource"]
    created = api.post(
        sb.base_url + "/contacts",
        json={"name": "Hook Test", "emails": [{"email": "hook@example.com", "is_primary": True}]},
        timeout=30,
    ).json()["resource"]
    api.patch(created["uri"], json={"city": "Oslo"}, timeout=30)
    api.delete(created["uri"], timeout=30)

    messages = sb.webhooks.messages_for(hook["uri"])
    assert [m.event for m in messages] == ["contact.created", "contact.updated", "contact.deleted"]
    payloads = [json.loads(m.body)["payload"] for m in messages]
    assert payloads[0]["contact"]["uri"] == created["uri"]
    assert payloads[1]["contact"]["city"] == "Oslo"
    assert payloads[2]["contact"]["uri"] == created["uri"]
    assert "deleted_at" in payloads[2]["contact"]
