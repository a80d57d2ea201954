"""Conformance cases of the contacts routes, appended to test_conformance's table.

Kept as keyword arguments of `Case` so this module needs nothing from test_conformance.
`POST /contacts/custom_field_definitions` is not in the spec: tests/sandbox/test_contacts.py
covers it without a spec check.
"""

from __future__ import annotations

from typing import Any

from calendly_sandbox import Sandbox

NOWHERE = "00000000-0000-4000-8000-000000000000"
EVERY_PLAN = "contacts are on every plan since 2026-11-19 and scopes are not modeled"

CONTACT_CANNOT_HAPPEN: dict[str, tuple[set[int], str]] = {
    "GET /contacts": ({403, 404}, f"{EVERY_PLAN}; nothing in the query is looked up"),
    "POST /contacts": ({403, 404}, f"{EVERY_PLAN}; nothing in the body is looked up"),
    "GET /contacts/{uuid}": ({400, 403}, f"{EVERY_PLAN}; only the path can be wrong: 404"),
    "PATCH /contacts/{uuid}": ({403}, EVERY_PLAN),
    "DELETE /contacts/{uuid}": ({400, 403}, f"{EVERY_PLAN}; only the path can be wrong: 404"),
    "GET /contacts/custom_field_definitions": ({400, 403, 404}, f"{EVERY_PLAN}; no parameters"),
    "GET /contacts/custom_field_definitions/{uuid}": (
        {400, 403},
        f"{EVERY_PLAN}; only the path can be wrong: 404",
    ),
}


def nth_contact(sb: Sandbox, n: int) -> str:
    return sorted(sb.store.contacts)[n]


def email_of(sb: Sandbox, n: int) -> str:
    return str(sb.store.contacts[nth_contact(sb, n)]["emails"][0]["email"])


def a_definition(sb: Sandbox) -> str:
    return sorted(sb.store.contact_custom_field_definitions)[0]


def new_contact(email: str) -> dict[str, Any]:
    return {"name": "Conformance", "emails": [{"email": email, "is_primary": True}]}


CONTACT_CASES: list[dict[str, Any]] = [
    {"name": "contacts", "method": "GET", "path": lambda sb: "/contacts", "status": 200},
    {
        "name": "contacts by email, newest change first, without custom fields",
        "method": "GET",
        "path": lambda sb: "/contacts",
        "status": 200,
        "params": lambda sb: {
            "email": email_of(sb, 0).upper(),
            "sort": "updated_at:desc",
            "exclude": "custom_fields",
        },
    },
    {
        "name": "contacts count over 100",
        "method": "GET",
        "path": lambda sb: "/contacts",
        "status": 400,
        "params": lambda sb: {"count": 101},
    },
    {
        "name": "contact",
        "method": "GET",
        "path": lambda sb: f"/contacts/{nth_contact(sb, 0)}",
        "status": 200,
    },
    {
        "name": "contact unknown",
        "method": "GET",
        "path": lambda sb: f"/contacts/{NOWHERE}",
        "status": 404,
    },
    {
        "name": "create contact",
        "method": "POST",
        "path": lambda sb: "/contacts",
        "status": 201,
        "body": lambda sb: new_contact("conformance@example.com"),
    },
    {
        "name": "create contact without emails",
        "method": "POST",
        "path": lambda sb: "/contacts",
        "status": 400,
        "body": lambda sb: {"name": "No Email"},
    },
    {
        "name": "create contact whose email another has",
        "method": "POST",
        "path": lambda sb: "/contacts",
        "status": 409,
        "body": lambda sb: new_contact(email_of(sb, 1).upper()),
    },
    {
        "name": "patch contact",
        "method": "PATCH",
        "path": lambda sb: f"/contacts/{nth_contact(sb, 1)}",
        "status": 200,
        "body": lambda sb: {"company": "Conformance Ltd", "phone_numbers": []},
    },
    {
        "name": "patch contact with an unknown key",
        "method": "PATCH",
        "path": lambda sb: f"/contacts/{nth_contact(sb, 1)}",
        "status": 400,
        "body": lambda sb: {"favourite_colour": "green"},
    },
    {
        "name": "patch contact onto another's email",
        "method": "PATCH",
        "path": lambda sb: f"/contacts/{nth_contact(sb, 1)}",
        "status": 409,
        "body": lambda sb: {"emails": [{"email": email_of(sb, 2), "is_primary": True}]},
    },
    {
        "name": "patch contact unknown",
        "method": "PATCH",
        "path": lambda sb: f"/contacts/{NOWHERE}",
        "status": 404,
        "body": lambda sb: {"company": "Nobody"},
    },
    {
        "name": "delete contact",
        "method": "DELETE",
        "path": lambda sb: f"/contacts/{nth_contact(sb, 3)}",
        "status": 204,
    },
    {
        "name": "delete contact unknown",
        "method": "DELETE",
        "path": lambda sb: f"/contacts/{NOWHERE}",
        "status": 404,
    },
    {
        "name": "contact custom field definitions",
        "method": "GET",
        "path": lambda sb: "/contacts/custom_field_definitions",
        "status": 200,
    },
    {
        "name": "contact custom field definition",
        "method": "GET",
        "path": lambda sb: f"/contacts/custom_field_definitions/{a_definition(sb)}",
        "status": 200,
    },
    {
        "name": "contact custom field definition unknown",
        "method": "GET",
        "path": lambda sb: f"/contacts/custom_field_definitions/{NOWHERE}",
        "status": 404,
    },
]
