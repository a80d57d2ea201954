"""What the tap takes from the webhook inbox (`webhook_inbox`): the `webhook_events` stream and
the hints that make scheduled_events/invitees re-read what deliveries named.

Both read the same slice of the inbox: after the position webhook_events' bookmark holds (the
last run's end) and up to the newest position when the run first looks (a delivery stored later
is the next run's). webhook_events is synced after the streams the hints steer, and its bookmark
moves only as its records are emitted, so a run that dies before the end leaves the hints of its
slice for the next run: nothing named is forgotten. The inbox format is calendly_webhooks.inbox's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.helpers.types import Context

from calendly_http import ConfigError
from calendly_plugin.sdk_compat import tap_of
from calendly_webhooks.inbox import (
    InboxError,
    Uptime,
    is_postgres_url,
    named_events,
    named_uris,
    open_inbox,
)

if TYPE_CHECKING:
    from tap_calendly.tap import TapCalendly

STREAM_NAME = "webhook_events"


@dataclass(frozen=True)
class InboxSlice:
    """The deliveries this run reads: after `after`, up to and including `up_to`; and what the
    inbox showed of its receivers' uptime at that moment (`checked_at`, the inbox's clock)."""

    location: str
    after: int
    up_to: int
    checked_at: datetime
    uptimes: tuple[Uptime, ...]

    def deliveries(self) -> Iterator[Any]:
        with open_inbox(self.location, create=False) as inbox:
            yield from inbox.between(self.after, self.up_to)


class WebhookHints:
    """The scheduled events the run's inbox slice names, with their start times if known, and
    the resources its deliveries are about (`payload.uri`: an event type for event_type.*) and
    the contacts it says were deleted."""

    def __init__(self, deliveries: Iterable[Any]) -> None:
        self.named_events: dict[str, str | None] = {}
        self.subjects: set[str] = set()
        #: Contact URI -> when it was deleted, from `contact.deleted` ({uri, deleted_at}).
        self.deleted_contacts: dict[str, str | None] = {}
        self.deliveries = 0
        for delivery in deliveries:
            self.deliveries += 1
            envelope = delivery.envelope
            payload = envelope.get("payload")
            payload = payload if isinstance(payload, dict) else {}
            if isinstance(subject := payload.get("uri"), str):
                self.subjects.add(subject)
            contact = payload.get("contact")
            if (
                delivery.event == "contact.deleted"
                and isinstance(contact, dict)
                and isinstance(contact.get("uri"), str)
            ):
                self.deleted_contacts[contact["uri"]] = contact.get("deleted_at")
            for uri, start in named_events(envelope).items():
                if start or uri not in self.named_events:
                    self.named_events[uri] = start

    def names(self, event_uri: str) -> bool:
        return event_uri in self.named_events

    def is_about(self, uri: str) -> bool:
        return uri in self.subjects


def open_slice(tap: TapCalendly) -> InboxSlice | None:
    """The run's slice of the inbox, or None without `webhook_inbox`."""
    setting = tap.config.get("webhook_inbox")
    if not setting:
        return None
    try:
        with open_inbox(setting, create=False) as inbox:
            checked_at = inbox.now()
            uptimes = tuple(inbox.uptimes())
            newest = inbox.last_position()
            location = inbox.location
    except InboxError as exc:
        hint = (
            ""
            if is_postgres_url(setting)
            else f" (start calendly-webhooks --inbox {setting} first)"
        )
        raise ConfigError("webhook_inbox", f"{exc}{hint}") from None
    stream = tap.streams.get(STREAM_NAME)
    # The bookmark as the run found it: other streams ask before webhook_events has started.
    state = stream.stream_state if stream is not None else {}
    start = state.get("replication_key_value") if state.get("replication_key") == "position" else 0
    if stream is not None and not stream.selected:
        tap.logger.warning(
            "webhook_inbox is set but stream '%s' is not selected: its bookmark never moves, "
            "so every run treats the whole inbox as new.",
            STREAM_NAME,
        )
    after = int(start or 0)
    if after > newest:
        tap.logger.warning(
            "webhook_inbox %s ends at position %d, before the bookmark %d: a new inbox file? "
            "Reading it from the start (webhook_events rows are keyed by dedupe_key, so rows "
            "already loaded are not duplicated).",
            location,
            newest,
            after,
        )
        after = 0
        state.pop("replication_key_value", None)  # the SDK checks new positions against it
    return InboxSlice(setting, after, newest, checked_at, uptimes)


class WebhookEventsStream(Stream):
    """One record per verified delivery in the inbox, in arrival order."""

    name = STREAM_NAME
    primary_keys: ClassVar[list[str]] = ["dedupe_key"]
    replication_key = "position"
    is_sorted = True
    schema = th.PropertiesList(
        th.Property("position", th.IntegerType, required=True, description="order in the inbox"),
        th.Property("dedupe_key", th.StringType, required=True),
        th.Property("event", th.StringType, required=True, description="e.g. invitee.created"),
        th.Property("created_at", th.DateTimeType, description="when Calendly made the event"),
        th.Property("created_by", th.StringType, description="the subscription's creator"),
        th.Property("received_at", th.DateTimeType, description="when the receiver stored it"),
        th.Property("signed_at", th.IntegerType, description="the signature's t (unix seconds)"),
        th.Property("payload", th.ObjectType(additional_properties=True)),
        th.Property("uris", th.ArrayType(th.StringType), description="API URIs it names"),
        th.Property(
            "scheduled_event_uris",
            th.ArrayType(th.StringType),
            description="scheduled events it names (an invitee URI names its event)",
        ),
    ).to_dict()

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        inbox_slice = cast("TapCalendly", tap_of(self)).webhook_slice
        if inbox_slice is None:
            return
        for delivery in inbox_slice.deliveries():
            envelope = delivery.envelope
            uris = named_uris(envelope)
            payload = envelope.get(
                "payload"
            )  # any signed JSON object is stored, whatever its shape
            yield {
                "position": delivery.position,
                "dedupe_key": delivery.dedupe_key,
                "event": delivery.event,
                "created_at": delivery.created_at or None,
                "created_by": delivery.created_by or None,
                "received_at": delivery.received_at,
                "signed_at": delivery.signed_at,
                "payload": payload if isinstance(payload, dict) else None,
                "uris": uris,
                "scheduled_event_uris": sorted(named_events(envelope)),
            }
