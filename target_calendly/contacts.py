"""Contacts: upsert a CRM row onto the contact with its primary email, or delete one.

A contact is keyed on its primary email, compared lowercased. `GET /contacts?email=` may also
return contacts that only have the email as a secondary one; those are never updated in its
place (the row would overwrite someone else's contact).

What the upsert does with what the contact already has (PATCH replaces `emails` and
`phone_numbers` whole):

- emails are only ever added: the contact keeps its primary and every secondary email it has
  (Calendly adds them as invitees book), and the row's `other_emails` are added as secondaries.
  An email identifies a person across bookings, so a CRM row never removes one;
- `phone_numbers`, when the row has them, replace the contact's (the CRM is the source of truth
  for numbers); a row without them leaves the numbers alone;
- `custom_fields` set only the fields the row names (by definition label, URI or UUID); a null
  value clears a field; single-select fields take an option's label (or uuid);
- every other column the row leaves empty is left alone.

Only what differs is sent; a row that would change nothing is `skipped` with the contact as its
response, so a rerun sends nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from calendly_http import uuid_of
from target_calendly.lookups import LookupFailedError, Skip, Values, WriteContext

MAX_CONTACT_EMAILS = 10
SCALAR_COLUMNS = ("name", "company", "job_title", "city", "state", "country", "timezone")
DEFINITIONS_PATH = "/contacts/custom_field_definitions"

Planned = tuple[str, str, "dict[str, Any] | None"]

_definitions: weakref.WeakKeyDictionary[WriteContext, list[dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def primary_email(contact: Mapping[str, Any]) -> str | None:
    return next((e["email"] for e in contact.get("emails") or [] if e.get("is_primary")), None)


def find_contact(ctx: WriteContext, email: str) -> dict[str, Any] | None:
    """The contact whose primary email is `email` (any case); LookupFailedError when the email
    belongs to another contact as a secondary one."""
    key = email.lower()
    secondary_of: dict[str, Any] | None = None
    for contact in ctx.client.paginate("/contacts", {"email": email, "count": 100}):
        if (primary_email(contact) or "").lower() == key:
            return dict(contact)
        if any(e["email"].lower() == key for e in contact.get("emails") or []):
            secondary_of = contact
    if secondary_of is not None:
        raise LookupFailedError(
            f"the email is a secondary email of contact {secondary_of['uri']} (primary "
            f"{primary_email(secondary_of)}); contacts are keyed on their primary email, so it "
            "is not changed in that contact's place: send that contact's primary email instead"
        )
    return None


# -- upsert_contact ------------------------------------------------------------------------------


def plan_upsert(values: Values, ctx: WriteContext) -> Planned | Skip:
    current = find_contact(ctx, values["email"])
    if current is None:
        if "name" not in values:
            raise LookupFailedError(
                "no contact has this primary email, and field 'name' is required to create one"
            )
        return "POST", "/contacts", _changes(values, ctx, None)
    changes = _changes(values, ctx, current)
    if not changes:
        return Skip("the contact already has these values", current)
    return "PATCH", f"/contacts/{uuid_of(current['uri'])}", changes


def upserted_contact(values: Values, ctx: WriteContext) -> Any:
    """The contact, if it shows every value of the row (the upsert's effect), else None."""
    current = find_contact(ctx, values["email"])
    if current is None or _changes(values, ctx, current):
        return None
    return current


def _changes(
    values: Values, ctx: WriteContext, current: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The body that brings `current` (None: nothing yet) to what the row says."""
    body: dict[str, Any] = {
        name: values[name]
        for name in SCALAR_COLUMNS
        if name in values and (current is None or current.get(name) != values[name])
    }
    emails = _emails(values, current)
    if current is None or _email_set(emails) != _email_set(current.get("emails") or []):
        body["emails"] = emails
    if "phone_numbers" in values:
        numbers = [{"phone_number": str(n)} for n in dict.fromkeys(values["phone_numbers"])]
        had = [p["phone_number"] for p in (current or {}).get("phone_numbers") or []]
        if current is None or had != [n["phone_number"] for n in numbers]:
            body["phone_numbers"] = numbers
    if "custom_fields" in values:
        fields = _custom_fields(values["custom_fields"], ctx, current)
        if fields:
            body["custom_fields"] = fields
    return body


def _emails(values: Values, current: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    primary = values["email"]
    emails = [{"email": primary, "is_primary": True}]
    if current is not None:
        emails = [{"email": primary_email(current) or primary, "is_primary": True}]
        emails += [
            {"email": e["email"], "is_primary": False}
            for e in current.get("emails") or []
            if not e.get("is_primary")
        ]
    known = {e["email"].lower() for e in emails}
    for extra in values.get("other_emails") or []:
        if extra.lower() not in known:
            known.add(extra.lower())
            emails.append({"email": extra, "is_primary": False})
    if len(emails) > MAX_CONTACT_EMAILS:
        raise LookupFailedError(
            f"the contact would have {len(emails)} emails (its own plus field 'other_emails'); "
            f"Calendly allows at most {MAX_CONTACT_EMAILS}, and this action never removes one"
        )
    return emails


def _email_set(emails: Iterable[Mapping[str, Any]]) -> set[tuple[str, bool]]:
    return {(e["email"].lower(), bool(e["is_primary"])) for e in emails}


def _custom_fields(
    wanted: Mapping[str, Any], ctx: WriteContext, current: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    definitions = custom_field_definitions(ctx)
    have = {f["uri"]: f.get("value") for f in (current or {}).get("custom_fields") or []}
    changes = []
    for key, raw in wanted.items():
        definition = _definition(definitions, key)
        value = None if raw is None or raw == "" else _field_value(definition, raw, key)
        if have.get(definition["uri"]) != value:
            changes.append({"uuid": uuid_of(definition["uri"]), "value": value})
    return changes


def custom_field_definitions(ctx: WriteContext) -> list[dict[str, Any]]:
    """The organization's definitions, read once per run."""
    if ctx not in _definitions:
        _definitions[ctx] = ctx.get(DEFINITIONS_PATH).get("collection") or []
    return _definitions[ctx]


def _definition(definitions: list[dict[str, Any]], key: str) -> dict[str, Any]:
    wanted = key.strip().lower()
    for definition in definitions:
        uri = definition["uri"]
        if wanted in (uri.lower(), uuid_of(uri).lower(), definition["label"].lower()):
            return definition
    labels = ", ".join(repr(d["label"]) for d in definitions) or "none"
    raise LookupFailedError(
        f"field 'custom_fields' names {key!r}, which is no custom field definition of the "
        f"organization (by label, URI or UUID); the definitions are: {labels}"
    )


def _field_value(definition: Mapping[str, Any], raw: Any, key: str) -> Any:
    kind = definition["field_type"]
    where = f"field 'custom_fields.{key}' ({kind})"
    if kind in ("number", "currency"):
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise LookupFailedError(f"{where} takes a number") from None
        return int(number) if number.is_integer() and not isinstance(raw, float) else number
    if kind == "tags":
        tags = raw if isinstance(raw, list) else str(raw).split(",")
        return [str(tag).strip() for tag in tags if str(tag).strip()]
    if kind == "single_select":
        for option in definition.get("options") or []:
            if str(raw).strip().lower() in (option["uuid"].lower(), option["label"].lower()):
                return option["uuid"]
        labels = ", ".join(repr(o["label"]) for o in definition.get("options") or [])
        raise LookupFailedError(f"{where} takes one of its options: {labels}")
    if isinstance(raw, list | dict):
        raise LookupFailedError(f"{where} takes a single value")
    return str(raw)


# -- delete_contact ------------------------------------------------------------------------------


def find_contact_to_delete(values: Values, ctx: WriteContext) -> Mapping[str, str] | Skip:
    if "contact" in values:
        return {"contact": uuid_of(values["contact"])}
    contact = find_contact(ctx, values["email"])
    if contact is None:
        return Skip("no contact has this primary email (already deleted, or never created)")
    return {"contact": uuid_of(contact["uri"])}
