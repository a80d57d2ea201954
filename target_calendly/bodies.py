"""Request bodies the table's actions build from a validated record, and the step before a
webhook subscription is sent."""

from __future__ import annotations

from typing import Any

from calendly_http import ConfigError
from target_calendly import signing_keys
from target_calendly.action import Write, pick
from target_calendly.lookups import LookupFailedError, Values, WriteContext


def scheduling_link(values: Values, ctx: WriteContext) -> dict[str, Any]:
    # The spec types max_event_count as the string "1"; the input accepts 1 or "1".
    return {
        "max_event_count": str(values["max_event_count"]),
        "owner": ctx.uri("event_types", values["event_type"]),
        "owner_type": "EventType",
    }


_SHARE_FIELDS = (
    "name",
    "duration",
    "duration_options",
    "period_type",
    "start_date",
    "end_date",
    "max_booking_time",
    "hide_location",
    "location_configurations",
    "availability_rule",
)


def hand_signing_key(write: Write, ctx: WriteContext) -> str | None:
    """Before the subscription exists, the receiver must know its key: its first delivery
    can follow at once."""
    if ctx.signing_key_file is None or write.body is None:
        return None
    key = str(write.body["signing_key"])
    try:
        signing_keys.hand_to_receiver(ctx.signing_key_file, key)
    except OSError as exc:
        raise ConfigError(
            "webhook_signing_key_file", f"cannot write {ctx.signing_key_file}: {exc.strerror}"
        ) from None
    return (
        f"signing key (sha256 {signing_keys.fingerprint(key)}...) is in "
        f"{ctx.signing_key_file}, the key file calendly-webhooks reads"
    )


def share(values: Values, ctx: WriteContext) -> dict[str, Any]:
    return {
        "event_type": ctx.uri("event_types", values["event_type"]),
        **pick(values, *_SHARE_FIELDS),
    }


def webhook_event_families(values: Values) -> frozenset[str]:
    """A plan refuses some events (routing forms need Teams, meeting recaps a paid plan) and
    allows the rest on every plan: a refusal holds back only subscriptions to the same ones."""
    return frozenset(event.split(".")[0] for event in values["events"])


def webhook(values: Values, ctx: WriteContext) -> dict[str, Any]:
    if "signing_key" not in values and ctx.signing_key_file is None:
        raise LookupFailedError(
            "the record has no signing_key and the target setting webhook_signing_key_file is "
            "not set: a generated key would reach no receiver, and unsigned deliveries cannot "
            "be verified. Set webhook_signing_key_file (the file calendly-webhooks reads) or "
            "give the record a signing_key"
        )
    body = {
        "url": values["url"],
        "events": list(values["events"]),
        "organization": ctx.organization_uri,
        "scope": values["scope"],
        "signing_key": values.get("signing_key") or signing_keys.generate(),
    }
    for scope_field in ("user", "group"):
        if scope_field in values:
            body[scope_field] = ctx.uri(f"{scope_field}s", values[scope_field])
    return body


_INVITEE_FIELDS = ("email", "timezone", "name", "first_name", "last_name", "text_reminder_number")


def booking(values: Values, ctx: WriteContext) -> dict[str, Any]:
    return {
        "event_type": ctx.uri("event_types", values["event_type"]),
        "start_time": values["start_time"],
        "invitee": pick(values, *_INVITEE_FIELDS),
        **pick(values, "location", "questions_and_answers", "tracking", "event_guests"),
    }


def deletion_emails(batch: list[Values]) -> dict[str, Any]:
    return {"emails": list(dict.fromkeys(values["email"] for values in batch))}
