"""Calendly streams. Behaviour lives in client.py; each class here is one row of a table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
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


class MeetingRecapsStream(CalendlyStream):
    """Paid plans. The token user's recaps of every status: Calendly lists only `available` ones
    unless asked, so each status is one listing (a `processing` recap becomes available later and
    its updated_at moves)."""

    name = "meeting_recaps"
    path = "/meeting_recaps"
    scoped_to_organization = False
    statuses: ClassVar[tuple[str, ...]] = ("available", "processing", "unavailable")

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        for status in self.statuses:
            yield from super().get_records({"status": status})
            if self.skipped:
                return

    def query(self, context: Context | None) -> dict[str, Any]:
        return {**super().query(context), **(context or {})}

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        """The spec lets updated_at be null: such a recap changed last when it was made."""
        if not row.get("updated_at"):
            row["updated_at"] = row.get("created_at")
        return super().post_process(row, context)


class MeetingRecapTranscriptsStream(CalendlyChildStream):
    """Opt-in with `meeting_recap_transcripts` (transcripts are large): the transcript of every
    available recap that changed since the recaps' bookmark, one request each; each row names
    its `meeting_recap`. A setting, not catalog selection, turns it on: Meltano selects every
    stream unless told otherwise."""

    name = "meeting_recap_transcripts"
    path = "/meeting_recaps/{uuid}/transcript"
    parent_stream_type = MeetingRecapsStream
    replication_key = None

    def iter_for(self, parent: Mapping[str, Any]) -> Iterator[Record]:
        if not self.config.get("meeting_recap_transcripts", False):
            return
        bookmark, changed = self.listing.bookmark, parse_timestamp(parent.get("updated_at"))
        if parent.get("status") != "available" or (bookmark and changed and changed <= bookmark):
            return
        path = self.path.replace("{uuid}", uuid_of(parent["uri"]))
        try:
            body = self.client.request("GET", path) or {}
        except NotFoundError:
            return  # the recap became unavailable after it was listed
        yield {**body["resource"], "meeting_recap": parent["uri"]}


class TeamsStream(CalendlyStream):
    """No timestamps on the resource: read in full every run."""

    name = "teams"
    path = "/teams"
    scoped_to_organization = False
    replication_key = None


class LocationsStream(CalendlyChildStream):
    """Each user's configured meeting locations (no uri: keyed on user and kind), every run."""

    name = "locations"
    path = "/locations"
    parent_stream_type = UsersStream
    primary_keys = ("user", "kind")
    replication_key = None

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.path, {"user": parent["uri"]}

    def iter_for(self, parent: Mapping[str, Any]) -> Iterator[Record]:
        for row in super().iter_for(parent):
            yield {**row, "user": parent["uri"]}


class EventTypeAvailabilitySchedulesStream(CalendlyChildStream):
    """Each event type's availability (no timestamps: read in full every run)."""

    name = "event_type_availability_schedules"
    path = "/event_type_availability_schedules"
    parent_stream_type = EventTypesStream
    primary_keys = ("event_type",)
    replication_key = None

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.path, {"event_type": parent["uri"]}


class ForwardSnapshotStream(CalendlyChildStream):
    """Opt-in with `snapshot_days_ahead` > 0: what the next days look like now, read in windows
    of at most `max_window_days` (the API refuses longer ranges and past start times). Every run
    adds a whole snapshot, each row stamped with the run's `captured_at`."""

    replication_key = None
    max_window_days: ClassVar[int]
    parent_key: ClassVar[str]
    _captured_at: datetime

    def prepare_fetch(self) -> None:
        super().prepare_fetch()
        self._captured_at = datetime.now(timezone.utc)

    def windows(self) -> Iterator[tuple[str, str]]:
        """Empty while `snapshot_days_ahead` is 0 (the default): the stream is off."""
        start = self._captured_at + timedelta(minutes=1)  # still in the future when it arrives
        end = start + timedelta(days=self.calendly_tap.snapshot_days_ahead)
        while start < end:
            stop = min(end, start + timedelta(days=self.max_window_days))
            yield format_timestamp(start), format_timestamp(stop)
            start = stop

    def wanted(self, parent: Mapping[str, Any]) -> bool:
        return True

    def iter_for(self, parent: Mapping[str, Any]) -> Iterator[Record]:
        if not self.wanted(parent):
            return
        stamp = {self.parent_key: parent["uri"], "captured_at": format_timestamp(self._captured_at)}
        for start, end in self.windows():
            query = {self.parent_key: parent["uri"], "start_time": start, "end_time": end}
            try:
                body = self.client.request("GET", self.path, params=query) or {}
            except NotFoundError:
                return
            for row in body.get("collection") or []:
                yield {**row, **stamp}


class EventTypeAvailableTimesStream(ForwardSnapshotStream):
    name = "event_type_available_times"
    path = "/event_type_available_times"
    parent_stream_type = EventTypesStream
    primary_keys = ("event_type", "start_time", "captured_at")
    max_window_days = 31
    parent_key = "event_type"

    def wanted(self, parent: Mapping[str, Any]) -> bool:
        return bool(parent.get("active")) and not parent.get("deleted_at")


class UserBusyTimesStream(ForwardSnapshotStream):
    name = "user_busy_times"
    path = "/user_busy_times"
    parent_stream_type = UsersStream
    primary_keys = ("user", "start_time", "captured_at")
    max_window_days = 7
    parent_key = "user"


#: Streams that stay empty unless a setting turns them on.
OPT_IN_STREAMS = ("event_type_available_times", "meeting_recap_transcripts", "user_busy_times")

STREAM_TYPES: tuple[type[CalendlyStream], ...] = (
    ActivityLogEntriesStream,
    AvailabilitySchedulesStream,
    ContactCustomFieldDefinitionsStream,
    ContactsStream,
    EventTypeAvailabilitySchedulesStream,
    EventTypeAvailableTimesStream,
    EventTypeHostsStream,
    EventTypesStream,
    GroupRelationshipsStream,
    GroupsStream,
    InviteesStream,
    LocationsStream,
    MeetingRecapTranscriptsStream,
    MeetingRecapsStream,
    OrganizationInvitationsStream,
    OrganizationMembershipsStream,
    OutgoingCommunicationsStream,
    RoutingFormSubmissionsStream,
    RoutingFormsStream,
    ScheduledEventsStream,
    TeamsStream,
    UserBusyTimesStream,
    UsersStream,
    WebhookSubscriptionsStream,
)
