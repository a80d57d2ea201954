"""Calendly streams. Behaviour lives in client.py; each class here is one row of a table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context, Record

from calendly_http import NotFoundError, uuid_of
from tap_calendly.client import CalendlyChildStream, CalendlyStream
from tap_calendly.timestamps import format_timestamp, parse_timestamp


class OrganizationMembershipsStream(CalendlyStream):
    name = "organization_memberships"
    path = "/organization_memberships"


class UsersStream(CalendlyStream):
    """The user of each membership: the organization's members, one request per 100."""

    name = "users"
    path = "/organization_memberships"
    item_key = "user"


class AvailabilitySchedulesStream(CalendlyChildStream):
    """No timestamps on the resource: read in full for every user on every run."""

    name = "availability_schedules"
    path = "/user_availability_schedules"
    parent_stream_type = UsersStream
    replication_key = None

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.path, {"user": parent["uri"]}


class OrganizationInvitationsStream(CalendlyStream):
    name = "organization_invitations"
    path = "/organizations/{organization_uuid}/invitations"
    scoped_to_organization = False


class GroupsStream(CalendlyStream):
    name = "groups"
    path = "/groups"


class GroupRelationshipsStream(CalendlyStream):
    name = "group_relationships"
    path = "/group_relationships"


class EventTypesStream(CalendlyStream):
    """Active and inactive types (no `active` filter)."""

    name = "event_types"
    path = "/event_types"
    params: ClassVar[Mapping[str, str]] = {"sort": "updated_at:desc"}
    sorted_desc_by = "updated_at"


class EventTypeHostsStream(CalendlyChildStream):
    """Hosts of every event type, re-read each run: adding a host need not touch the type."""

    name = "event_type_hosts"
    path = "/event_type_memberships"
    parent_stream_type = EventTypesStream

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.path, {"event_type": parent["uri"], "count": self.page_size}


class ScheduledEventsStream(CalendlyStream):
    """Calendly filters events only by start time.

    First run: every event starting at or after `start_date`, future ones included. Later
    runs: events starting after (bookmark - lookback_days), up to every future event; only
    rows whose updated_at passed the bookmark are emitted. A change to an event that started
    before that window is not seen: that is the trade-off `lookback_days` sets.
    """

    name = "scheduled_events"
    path = "/scheduled_events"
    params: ClassVar[Mapping[str, str]] = {"sort": "start_time:asc"}
    sorted_asc_by = "start_time"

    def window_start(self) -> datetime | None:
        """From the older bookmark of the two streams this listing feeds: a newly selected
        invitees stream (no bookmark yet) reads every event from start_date again."""
        anchors = [
            stream.bookmark for stream in (self, *self._children_to_fetch()) if stream.selected
        ]
        if not anchors or None in anchors:
            return self.start_date
        reach = min(a for a in anchors if a is not None) - self.lookback
        return max(reach, self.start_date) if self.start_date else reach

    def query(self, context: Context | None) -> dict[str, Any]:
        query = super().query(context)
        if (start := self.window_start()) is not None:
            query["min_start_time"] = format_timestamp(start)
        return query

    # -- webhook hints (webhook_inbox; see tap_calendly/webhooks.py) ------------------------------
    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Events named by deliveries that start before the listed window come first (they
        are older than every listed row, so the listing stays in start_time order)."""
        yield from self._named_before_window()
        yield from super().request_records(context)

    def _named_before_window(self) -> Iterator[dict[str, Any]]:
        hints = self.calendly_tap.webhook_hints
        window = self.window_start()
        if hints is None or window is None:
            return
        found = []
        for uri, start in hints.named_events.items():
            known = parse_timestamp(start) if start else None
            if known is not None and known >= window:
                continue  # the listing has it
            try:
                event = self.client.request("GET", uri)["resource"]
            except NotFoundError:
                continue  # deleted since (data-compliance deletion)
            begins = parse_timestamp(event.get("start_time"))
            if begins is None or begins >= window:
                continue
            if self.start_date is None or begins >= self.start_date:
                found.append((begins, event))
        for _, event in sorted(found, key=lambda pair: pair[0]):
            yield event

    def needs_children(self, row: Mapping[str, Any]) -> bool:
        """Invitees are re-read for every listed event, except, with
        skip_unchanged_future_invitees, future events that neither changed since the last run
        nor were named by a delivery."""
        hints = self.calendly_tap.webhook_hints
        if hints is None or hints.names(row["uri"]):
            return True
        if not self.config.get("skip_unchanged_future_invitees"):
            return True
        since = self._children_since()
        starts = parse_timestamp(row.get("start_time"))
        changed = parse_timestamp(row.get("updated_at"))
        future = starts is not None and starts > self.run_started
        unchanged = since is not None and changed is not None and changed <= since
        return not (future and unchanged)

    def _children_since(self) -> datetime | None:
        """The oldest bookmark of the listing and its selected children (None: a first run)."""
        anchors = [s.bookmark for s in (self, *self._children_to_fetch()) if s.selected]
        if not anchors or None in anchors:
            return None
        return min(a for a in anchors if a is not None)

    @cached_property
    def run_started(self) -> datetime:
        return datetime.now(timezone.utc)


class InviteesStream(CalendlyChildStream):
    """The invitees of every event the scheduled_events window lists, changed or not.

    An invitee can change without its event changing (a no-show, one invitee of a group
    event cancelling), so every listed event's invitees are read again; only invitees that
    changed after the bookmark are emitted. Each carries its event's URI in `event`.
    """

    name = "invitees"
    path = "/scheduled_events/{event_uuid}/invitees"
    parent_stream_type = ScheduledEventsStream

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        path = self.path.replace("{event_uuid}", uuid_of(parent["uri"]))
        return path, {"count": self.page_size}

    def changed_at(self, row: Record) -> datetime | None:
        """The latest of updated_at, the no-show's and the cancellation's creation: Calendly
        does not promise that marking a no-show moves the invitee's updated_at."""
        moments = [parse_timestamp(row.get("updated_at"))]
        for part in ("no_show", "cancellation"):
            if isinstance(row.get(part), dict):
                moments.append(parse_timestamp(row[part].get("created_at")))
        known = [moment for moment in moments if moment is not None]
        return max(known) if known else None


class RoutingFormsStream(CalendlyStream):
    name = "routing_forms"
    path = "/routing_forms"


class RoutingFormSubmissionsStream(CalendlyChildStream):
    """Newest first per form; paging stops at submissions created more than lookback_days
    before the bookmark (a submission changes after creation when its submitter books)."""

    name = "routing_form_submissions"
    path = "/routing_form_submissions"
    parent_stream_type = RoutingFormsStream
    prefetch = False  # a form's submissions grow with the organization

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.path, {
            "form": parent["uri"],
            "sort": "created_at:desc",
            "count": self.page_size,
        }

    def enough(self, page: list[dict[str, Any]]) -> bool:
        if self.bookmark is None or not page:
            return not page
        oldest = parse_timestamp(page[-1].get("created_at"))
        return oldest is not None and oldest < self.bookmark - self.lookback


class ActivityLogEntriesStream(CalendlyStream):
    """Enterprise only; filtered server-side from the bookmark (or start_date)."""

    name = "activity_log_entries"
    path = "/activity_log_entries"
    replication_key = "occurred_at"
    params: ClassVar[Mapping[str, str]] = {"sort": "occurred_at:asc"}
    sorted_asc_by = "occurred_at"
    page_size = 1000

    def query(self, context: Context | None) -> dict[str, Any]:
        query = super().query(context)
        if (since := self.bookmark or self.start_date) is not None:
            query["min_occurred_at"] = format_timestamp(since)
        return query


class OutgoingCommunicationsStream(CalendlyStream):
    """Enterprise only; filtered server-side from the bookmark (or start_date).

    The resource has no `uri`: a message is identified by its event, channel, recipient and
    creation time.
    """

    name = "outgoing_communications"
    path = "/outgoing_communications"
    primary_keys = ("event_uri", "type", "to", "created_at")
    replication_key = "created_at"

    def query(self, context: Context | None) -> dict[str, Any]:
        query = super().query(context)
        if (since := self.bookmark or self.start_date) is not None:
            query["min_created_at"] = format_timestamp(since)
        return query


class WebhookSubscriptionsStream(CalendlyStream):
    """Subscriptions of every scope (paid plans from Standard up). Calendly lists them per
    scope: the organization's, then each member's and each group's (one request each)."""

    name = "webhook_subscriptions"
    path = "/webhook_subscriptions"

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        for scope in self._scopes():
            yield from super().get_records(scope)
            if self.skipped:
                return

    def _scopes(self) -> Iterator[dict[str, str]]:
        yield {"scope": "organization"}
        organization = {"organization": self.organization_uri, "count": self.page_size}
        for membership in self.client.paginate("/organization_memberships", organization):
            yield {"scope": "user", "user": membership["user"]["uri"]}
        for group in self.client.paginate("/groups", organization):
            yield {"scope": "group", "group": group["uri"]}

    def query(self, context: Context | None) -> dict[str, Any]:
        return {**super().query(context), **(context or {})}


class ContactsStream(CalendlyStream):
    """The token's contacts (every plan), newest change first: paging stops at the bookmark."""

    name = "contacts"
    path = "/contacts"
    params: ClassVar[Mapping[str, str]] = {"sort": "updated_at:desc"}
    scoped_to_organization = False
    sorted_desc_by = "updated_at"


class ContactCustomFieldDefinitionsStream(CalendlyStream):
    """One unpaged collection; changed definitions are emitted."""

    name = "contact_custom_field_definitions"
    path = "/contacts/custom_field_definitions"
    scoped_to_organization = False
    paged = False


STREAM_TYPES: tuple[type[CalendlyStream], ...] = (
    ActivityLogEntriesStream,
    AvailabilitySchedulesStream,
    ContactCustomFieldDefinitionsStream,
    ContactsStream,
    EventTypeHostsStream,
    EventTypesStream,
    GroupRelationshipsStream,
    GroupsStream,
    InviteesStream,
    OrganizationInvitationsStream,
    OrganizationMembershipsStream,
    OutgoingCommunicationsStream,
    RoutingFormSubmissionsStream,
    RoutingFormsStream,
    ScheduledEventsStream,
    UsersStream,
    WebhookSubscriptionsStream,
)
