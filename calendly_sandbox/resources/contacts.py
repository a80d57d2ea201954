"""Contacts and contact custom fields (Contacts API, May 2026; every plan since November 2026).

Where Calendly's behaviour is unverified the sandbox takes the case hardest for a client:

- the `email` filter matches any of a contact's emails, primary or secondary, ignoring case;
- no two contacts share an email (any case): creating one whose email is already on a contact,
  or patching emails onto a second contact, answers 409 "Attempt to create a resource that
  already exists";
- PATCH replaces `emails` and `phone_numbers` whole (what the contact had is gone), merges
  `custom_fields` by definition (a null value clears one), rejects unknown top-level keys and
  an empty body; POST rejects unknown keys as well;
- a single-select custom field takes the option's uuid, not its label; numbers and currencies
  take JSON numbers, tags a list of strings, dates YYYY-MM-DD.

`POST /contacts/custom_field_definitions` (2026-11-17) is not in the spec: it is served with
the shape of the definition resource and is not checked against the spec.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from typing import Any

from calendly_sandbox.app import Ctx, Reply, Routes, new_uuid, page, resource
from calendly_sandbox.errors import ApiError, bad_request
from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import DAY, fmt, parse
from calendly_sandbox.uuids import random_uuid

ALREADY_EXISTS = "Attempt to create a resource that already exists"
MAX_EMAILS = 10
CONTACT_FIELDS = (
    "name",
    "emails",
    "phone_numbers",
    "timezone",
    "job_title",
    "company",
    "country",
    "state",
    "city",
    "linkedin",
    "custom_fields",
)
EXACT_FILTERS = ("phone_number", "timezone", "country", "state")
PARTIAL_FILTERS = ("name", "job_title", "company", "city")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# (label, field_type, extra) seeded in every organization.
SEEDED_DEFINITIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("Lifecycle stage", "single_select", {"options": ("Lead", "Opportunity", "Customer")}),
    ("Deal size", "currency", {"currency": "USD"}),
    ("Lead score", "number", {}),
    ("Interests", "tags", {}),
    ("Renewal date", "date", {}),
    ("CRM notes", "text", {}),
    ("Company size", "invitee_question", {}),
)
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries")
TITLES = ("CTO", "Head of Sales", "Account Executive", "Office Manager", "Founder")
PLACES = (("US", "CA", "San Francisco"), ("US", "NY", "New York"), ("GB", None, "London"))
TIMEZONES = ("America/Los_Angeles", "America/New_York", "Europe/London")


# -- seeded data ---------------------------------------------------------------------------------
def seed_contacts(store: Store, seed: int, now: float, contacts: int = 40) -> None:
    """Custom field definitions, and contacts made from the first invitees (as Calendly does)."""
    rng = random.Random(f"contacts-{seed}")
    definitions = [
        _definition(store, rng, label, field_type, extra, now - rng.uniform(200, 400) * DAY)
        for label, field_type, extra in SEEDED_DEFINITIONS
    ]
    seen: set[str] = set()
    people: list[tuple[str, str, str]] = []
    for uuid in sorted(store.invitees):
        invitee = store.invitees[uuid]
        email = invitee["email"]
        if email.lower() not in seen:
            seen.add(email.lower())
            people.append((email, invitee["name"] or email.split("@")[0], invitee["created_at"]))
        if len(people) >= contacts:
            break
    for index, (email, name, _created) in enumerate(people):
        created = now - rng.uniform(30, 300) * DAY
        updated = min(now - 60, created + rng.uniform(0, 25) * DAY)
        emails = [{"email": email, "is_primary": True}]
        if index % 5 == 0:
            emails.append({"email": f"alt{index}.{email}", "is_primary": False})
        country, state, city = PLACES[index % len(PLACES)]
        uuid = random_uuid(rng)
        contact = _contact(store, uuid, created)
        contact.update(
            name=name,
            emails=emails,
            phone_numbers=[{"phone_number": f"+1 415 555 {1000 + index:04d}"}] if index % 2 else [],
            timezone=TIMEZONES[index % len(TIMEZONES)],
            job_title=rng.choice(TITLES),
            company=rng.choice(COMPANIES),
            country=country,
            state=state,
            city=city,
            updated_at=fmt(updated),
        )
        if index % 3 == 0:
            stage = definitions[0]
            contact["custom_fields"] = [
                _field_value(stage, stage["options"][index % 3]["uuid"]),
                _field_value(definitions[2], float(index * 7 % 100)),
            ]
        store.insert("contacts", uuid, contact)


def _definition(
    store: Store,
    rng: random.Random,
    label: str,
    field_type: str,
    extra: dict[str, Any],
    created: float,
) -> Resource:
    uuid = random_uuid(rng)
    definition: Resource = {
        "uri": store.uri("contacts", "custom_field_definitions", uuid),
        "label": label,
        "field_type": field_type,
        "created_at": fmt(created),
        "updated_at": fmt(created),
    }
    if field_type == "single_select":
        definition["options"] = [
            {"uuid": random_uuid(rng), "label": option, "is_active": True}
            for option in extra["options"]
        ]
    if field_type == "currency":
        definition["currency"] = extra["currency"]
    if field_type == "invitee_question":  # filled from the answers invitees give on booking
        event_type = min(store.event_types.values(), key=lambda t: t["uri"], default=None)
        definition["source"] = {
            "type": "event_type_invitee_question",
            "event_type_uri": event_type["uri"] if event_type else store.uri("event_types"),
            "question": label,
        }
    store.insert("contact_custom_field_definitions", uuid, definition)
    return definition


def _contact(store: Store, uuid: str, created: float) -> Resource:
    stamp = fmt(created)
    return {
        "uri": store.uri("contacts", uuid),
        "emails": [],
        "name": None,
        "phone_numbers": [],
        "timezone": None,
        "job_title": None,
        "company": None,
        "country": None,
        "state": None,
        "city": None,
        "linkedin": None,
        "custom_fields": [],
        "created_at": stamp,
        "updated_at": stamp,
        "first_email_date": None,
        "last_email_date": None,
        "next_meeting_date": None,
        "last_meeting_date": None,
        "last_interaction_date": None,
    }


def _field_value(definition: Resource, value: Any) -> Resource:
    return {"uri": definition["uri"], "label": definition["label"], "value": value}


# -- contacts ------------------------------------------------------------------------------------
def _values(raw: str | None) -> list[str]:
    return [v.strip() for v in (raw or "").split(",") if v.strip()]


def list_contacts(ctx: Ctx) -> Any:
    table = ctx.store.contacts
    tests: list[Callable[[str], bool]] = []
    if emails := {e.lower() for e in _values(ctx.params.get("email"))}:
        tests.append(lambda u: any(e["email"].lower() in emails for e in table[u]["emails"]))
    for name in EXACT_FILTERS:
        if wanted := set(_values(ctx.params.get(name))):
            tests.append(_exact(table, name, wanted))
    for name in PARTIAL_FILTERS:
        if parts := [p.lower() for p in _values(ctx.params.get(name))]:
            tests.append(_partial(table, name, parts))
    body = page(
        ctx,
        "contacts",
        ctx.sort_order("created_at:asc"),
        (lambda u: all(test(u) for test in tests)) if tests else None,
    )
    if "custom_fields" in _values(ctx.params.get("exclude")):
        body["collection"] = [
            {k: v for k, v in c.items() if k != "custom_fields"} for c in body["collection"]
        ]
    return body


def _exact(table: dict[str, Resource], name: str, wanted: set[str]) -> Callable[[str], bool]:
    if name == "phone_number":
        return lambda u: any(p["phone_number"] in wanted for p in table[u]["phone_numbers"])
    return lambda u: table[u].get(name) in wanted


def _partial(table: dict[str, Resource], name: str, parts: list[str]) -> Callable[[str], bool]:
    return lambda u: any(p in (table[u].get(name) or "").lower() for p in parts)


def get_contact(ctx: Ctx) -> Any:
    return resource(ctx.lookup("contacts", ctx.path["uuid"], "contact"))


def create_contact(ctx: Ctx) -> Reply:
    body = _object_body(ctx)
    emails = _checked_emails(body["emails"])
    _refuse_taken(ctx, emails, None)
    uuid = new_uuid(ctx, emails[0]["email"].lower())
    contact = _contact(ctx.store, uuid, ctx.now())
    _apply(ctx, contact, body)
    ctx.store.insert("contacts", uuid, contact)
    _announce(ctx, "contact.created", contact)
    return Reply(201, resource(contact))


def update_contact(ctx: Ctx) -> Any:
    contact = ctx.lookup("contacts", ctx.path["uuid"], "contact")
    body = _object_body(ctx)
    if not body:
        raise bad_request("body", "the body must include at least one supported field")
    if "emails" in body:
        _refuse_taken(ctx, _checked_emails(body["emails"]), contact["uri"])
    _apply(ctx, contact, body)
    ctx.store.changed("contacts")
    _announce(ctx, "contact.updated", contact)
    return resource(contact)


def delete_contact(ctx: Ctx) -> Reply:
    contact = ctx.lookup("contacts", ctx.path["uuid"], "contact")
    ctx.store.delete("contacts", ctx.path["uuid"])
    _announce(ctx, "contact.deleted", {"uri": contact["uri"], "deleted_at": fmt(ctx.now())})
    return Reply(204)


def _announce(ctx: Ctx, event: str, contact: Resource) -> None:
    """contact.* webhooks, for the organization and for the user who made the change."""
    ctx.store.announce(event, {"user_uuid": uuid_of(ctx.me), "contact": dict(contact)}, [ctx.me])


def _object_body(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    unknown = sorted(set(body) - set(CONTACT_FIELDS))
    if unknown:
        raise bad_request(unknown[0], f"unknown property {unknown[0]!r}")
    return body


def _checked_emails(emails: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not 1 <= len(emails) <= MAX_EMAILS:
        raise bad_request("emails", f"a contact has 1 to {MAX_EMAILS} emails")
    if sum(1 for e in emails if e["is_primary"]) != 1:
        raise bad_request("emails", "exactly one email must be primary")
    lowered = [e["email"].lower() for e in emails]
    if len(set(lowered)) != len(lowered):
        raise bad_request("emails", "emails must not repeat")
    return sorted(emails, key=lambda e: not e["is_primary"])


def _refuse_taken(ctx: Ctx, emails: Iterable[dict[str, Any]], own_uri: str | None) -> None:
    wanted = {e["email"].lower() for e in emails}
    for other in ctx.store.contacts.values():
        if other["uri"] != own_uri and wanted & {e["email"].lower() for e in other["emails"]}:
            raise ApiError(409, ALREADY_EXISTS, parameter="emails", reason=ALREADY_EXISTS)


def _apply(ctx: Ctx, contact: Resource, body: dict[str, Any]) -> None:
    for name in CONTACT_FIELDS:
        if name not in body or name == "custom_fields":
            continue
        value = body[name]
        if name == "emails":
            value = [{"email": e["email"], "is_primary": e["is_primary"]} for e in value]
        elif name == "phone_numbers":
            value = [{"phone_number": p["phone_number"]} for p in value]
        contact[name] = value
    if "custom_fields" in body:
        contact["custom_fields"] = _merged_fields(ctx, contact["custom_fields"], body)
    contact["updated_at"] = fmt(max(ctx.now(), _after(contact["updated_at"])))


def _after(stamp: str) -> float:
    return parse(stamp) + 0.000001


def _merged_fields(ctx: Ctx, current: list[Resource], body: dict[str, Any]) -> list[Resource]:
    by_uri = {field["uri"]: field for field in current}
    definitions = ctx.store.contact_custom_field_definitions
    for index, item in enumerate(body["custom_fields"]):
        where = f"custom_fields[{index}]"
        definition = definitions.get(item["uuid"])
        if definition is None:
            raise bad_request(f"{where}.uuid", f"no custom field definition {item['uuid']}")
        value = item["value"]
        if value is None:
            by_uri.pop(definition["uri"], None)
            continue
        _check_field_value(definition, value, f"{where}.value")
        by_uri[definition["uri"]] = _field_value(definition, value)
    return sorted(by_uri.values(), key=lambda field: field["label"])


def _check_field_value(definition: Resource, value: Any, where: str) -> None:
    kind = definition["field_type"]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind in ("number", "currency"):
        ok, expected = number, "a number"
    elif kind == "tags":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        expected = "a list of strings"
    elif kind == "date":
        ok, expected = isinstance(value, str) and bool(DATE_RE.match(value)), "a date YYYY-MM-DD"
    elif kind == "single_select":
        options = {o["uuid"] for o in definition.get("options", [])}
        ok, expected = isinstance(value, str) and value in options, "one of its options' uuid"
    else:
        ok, expected = isinstance(value, str), "a string"
    if not ok:
        raise bad_request(where, f"{definition['label']!r} ({kind}) takes {expected}")


# -- custom field definitions ----------------------------------------------------------------
def list_definitions(ctx: Ctx) -> Any:
    table = ctx.store.contact_custom_field_definitions
    return {"collection": sorted(table.values(), key=lambda d: (d["created_at"], d["uri"]))}


def get_definition(ctx: Ctx) -> Any:
    return resource(
        ctx.lookup("contact_custom_field_definitions", ctx.path["uuid"], "custom field definition")
    )


def create_definition(ctx: Ctx) -> Reply:
    """Not in the spec (release notes 2026-11-17): label, field_type, options (labels)."""
    body = ctx.body if isinstance(ctx.body, dict) else {}
    label, field_type = body.get("label"), body.get("field_type")
    if not isinstance(label, str) or not label.strip():
        raise bad_request("label", "label is required")
    kinds = ("text", "number", "currency", "tags", "date", "single_select")
    if field_type not in kinds:
        raise bad_request("field_type", f"field_type must be one of {', '.join(kinds)}")
    table = ctx.store.contact_custom_field_definitions
    if any(d["label"].lower() == label.strip().lower() for d in table.values()):
        raise ApiError(409, ALREADY_EXISTS, parameter="label", reason=ALREADY_EXISTS)
    options = body.get("options") or []
    if field_type == "single_select" and not options:
        raise bad_request("options", "a single_select field needs options")
    rng = random.Random(new_uuid(ctx, label))
    extra = {"options": options, "currency": body.get("currency", "USD")}
    definition = _definition(ctx.store, rng, label.strip(), field_type, extra, ctx.now())
    return Reply(201, resource(definition))


# Literal paths before templated ones: /contacts/custom_field_definitions is not a contact.
ROUTES: Routes = (
    ("GET", "/contacts/custom_field_definitions", list_definitions),
    ("POST", "/contacts/custom_field_definitions", create_definition),
    ("GET", "/contacts/custom_field_definitions/{uuid}", get_definition),
    ("GET", "/contacts", list_contacts),
    ("POST", "/contacts", create_contact),
    ("GET", "/contacts/{uuid}", get_contact),
    ("PATCH", "/contacts/{uuid}", update_contact),
    ("DELETE", "/contacts/{uuid}", delete_contact),
)
