"""Calendly streams. Behaviour lives in client.py; each class here is one row of a table.

A new read-only list stream is a class here (`name`, `path` spelt as in the spec, its keys;
`envelope` or `item_key` when rows are not the collection's items) and its schema, which
`scripts/derive_tap_schemas.py` writes from the spec; `scripts/sync_docs.py` adds its row to
docs/streams.md. STREAM_TYPES finds the class.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, ClassVar

from singer_sdk import metrics
from singer_sdk.helpers.types import Context, Record

from calendly_http import NotFoundError
from calendly_plugin.sdk_compat import progress_marker
from tap_calendly.client import CalendlyChildStream, CalendlyStream
from tap_calendly.coverage import STATE_KEY as COVERAGE_STATE
from tap_calendly.deletions import LISTED_KEYS, deletion_record
from tap_calendly.dimensions import DimensionStream, RefreshedOnCadence
from tap_calendly.noshows import WATCHED_NO_SHOWS, NoShowWatch
from tap_calendly.reread import DeepReread
from tap_calendly.snapshots import ForwardSnapshotStream
from tap_calendly.timestamps import format_timestamp, listing_from, parse_timestamp


class OrganizationMembershipsStream(CalendlyStream):
    name = "organization_memberships"
    path = "/organization_memberships"
    tracks_deletions = True


class UsersStream(CalendlyStream):
    """The user of each membership: the organization's members, one request per 100."""

    name = "users"
    path = "/organization_memberships"
    item_key = "user"
    tracks_deletions = True


class AvailabilitySchedulesStream(DimensionStream):
    """No timestamps on the resource: read in full for every user on every run."""

    name = "availability_schedules"
    path = "/user_availability_schedules"
    parent_stream_type = UsersStream
    replication_key = None
    tracks_deletions = True

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.path, {"user": parent["uri"]}


class OrganizationInvitationsStream(CalendlyStream):
    name = "organization_invitations"
    path = "/organizations/{uuid}/invitations"
    scoped_to_organization = False
    tracks_deletions = True


class GroupsStream(CalendlyStream):
    name = "groups"
    path = "/groups"
    tracks_deletions = True


class GroupRelationshipsStream(CalendlyStream):
    name = "group_relationships"
    path = "/group_relationships"
    tracks_deletions = True


class EventTypesStream(CalendlyStream):
    """Active and inactive types (no `active` filter). Whether Calendly lists deleted types (with
    `deleted_at`) is unverified: tracked, a type that leaves the listing is emitted as deleted."""

    name = "event_types"
    path = "/event_types"
    params: ClassVar[Mapping[str, str]] = {"sort": "updated_at:desc"}
    sorted_desc_by = "updated_at"
    tracks_deletions = True


class EventTypeHostsStream(DimensionStream):
    """Hosts of every event type, re-read each run: adding a host need not touch the type."""

    name = "event_type_hosts"
    path = "/event_type_memberships"
    parent_stream_type = EventTypesStream
    tracks_deletions = True

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.path, {"event_type": parent["uri"], "count": self.page_size}


class ScheduledEventsStream(CalendlyStream):
    """Every event starting at or after `start_date` (future ones included), on every run.

    Calendly filters events only by start time and nothing filters on updated_at, so the
    whole list is read each time (one request per 100 events) and only the events whose
    updated_at passed the bookmark are emitted: a change to an event of any age arrives.
    """

    name = "scheduled_events"
    path = "/scheduled_events"
    params: ClassVar[Mapping[str, str]] = {"sort": "start_time:asc"}
    sorted_asc_by = "start_time"

    def query(self, context: Context | None) -> dict[str, Any]:
        query = super().query(context)
        if self.start_date is not None:
            query["min_start_time"] = listing_from(self.start_date)
        return query

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        """An event whose invitees this run emitted is emitted too, with its current counters
        and status: one invitee of a group event cancelling does not move the event's updated_at.
        """
        invitees = self.calendly_tap.streams.get("invitees")
        if isinstance(invitees, InviteesStream) and row.get("uri") in invitees.changed_events:
            invitees.changed_events.discard(row["uri"])
            return row
        return super().post_process(row, context)


class InviteesStream(CalendlyChildStream):
    """Invitees, read per event for the events `reads_children_of` selects.

    An invitee can change without its event changing (a no-show marked or removed, one
    invitee of a group event cancelling), and a no-show need not move any updated_at, so:
    invitees are emitted when their `changed_at` passed the bookmark, and, for no-shows
    removed, when an invitee last read with a no-show is read without it (the invitees read
    with a no-show in the re-read window are kept in state: bounded by the window, not by
    history). Each invitee carries its event's URI in `event`.
    """

    name = "invitees"
    path = "/scheduled_events/{uuid}/invitees"
    parent_stream_type = ScheduledEventsStream

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The events whose invitees this run emitted (their event is emitted again).
        self.changed_events: set[str] = set()

    def window_start(self, bookmark: datetime | None) -> datetime | None:
        """Events starting at or after this moment have their invitees re-read: bookmark -
        lookback_days, or further back on a run the deep re-read falls on."""
        if bookmark is None:
            return None
        regular = bookmark - self.lookback
        deep = self.deep_reread.window_start(self.run_started) if self.deep_reread.due else None
        return min(regular, deep) if deep is not None else regular

    @cached_property
    def deep_reread(self) -> DeepReread:
        return DeepReread.of(self.config, self.stream_state, self.run_started)

    @cached_property
    def run_started(self) -> datetime:
        return datetime.now(timezone.utc)

    def reads_children_of(self, parent: Mapping[str, Any]) -> bool:
        """THE re-read rule: which listed events have their invitees read this run.

        Every event on a first run (no bookmark); then the events webhook deliveries named
        since the last run (webhook_inbox), the events that changed since the bookmark (a
        booking or cancellation moves the event) and the events starting within the window
        (bookmark - lookback_days, future ones included: their invitees may change without
        the event changing), except where webhook coverage proves that deliveries would have
        named them (coverage.py).
        """
        bookmark = self.bookmark
        window_start = self.window_start(bookmark)
        if bookmark is None or window_start is None:
            return True
        hints = self.calendly_tap.webhook_hints
        if hints is not None and hints.names(parent["uri"]):
            return True
        changed = parse_timestamp(parent.get("updated_at"))
        if changed is not None and changed > bookmark:
            return True
        started = parse_timestamp(parent.get("start_time"))
        if started is None or started < window_start:
            return False
        coverage = self.calendly_tap.webhook_coverage
        return coverage is None or coverage.needs_safe_read(parent)

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        path = self.path_under(parent["uri"])
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

    def prepare_fetch(self) -> None:
        super().prepare_fetch()
        self._no_shows = NoShowWatch(self.stream_state.get(WATCHED_NO_SHOWS))
        _ = self.calendly_tap.webhook_coverage  # judged before any invitee is read

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        emitted = self._changed_or_unmarked(row, context)
        if emitted is not None and isinstance(row.get("event"), str):
            self.changed_events.add(row["event"])
        return emitted

    def _changed_or_unmarked(self, row: Record, context: Context | None) -> Record | None:
        parent = self.current_parent or {}
        if self._no_shows.removed(row, parent.get("start_time")):
            return row  # its no-show was removed: nothing else says so
        hints = self.calendly_tap.webhook_hints
        if hints is not None and hints.names(str(parent.get("uri"))):
            return row  # a delivery says it changed (a no-show removed moves no updated_at)
        return super().post_process(row, context)

    def listing_done(self) -> None:
        """Watch what this run read with a no-show and what it did not reach (a resumed run
        starts past part of the listing), within the window the next run will re-read."""
        progress = parse_timestamp(progress_marker(self.stream_state))
        signpost = self.get_replication_key_signpost()
        next_bookmark = self.bookmark
        if progress is not None and isinstance(signpost, datetime):
            next_bookmark = min(progress, signpost)
        horizon = next_bookmark - self.lookback if next_bookmark is not None else None
        horizon = self.deep_reread.watch_horizon(horizon, self.run_started)
        floor = format_timestamp(horizon)[:10] if horizon is not None else ""
        self.stream_state[WATCHED_NO_SHOWS] = self._no_shows.to_state(floor)
        if (coverage := self.calendly_tap.webhook_coverage) is not None:
            self.stream_state[COVERAGE_STATE] = coverage.state
        self.deep_reread.done(self.stream_state, self.run_started)


class RoutingFormsStream(CalendlyStream):
    name = "routing_forms"
    path = "/routing_forms"
    tracks_deletions = True


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
            query["min_occurred_at"] = listing_from(since)
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
            query["min_created_at"] = listing_from(since)
        return query


class WebhookSubscriptionsStream(RefreshedOnCadence):
    """Subscriptions of every scope (every plan since 2026-11-03). Calendly lists them per
    scope: the organization's, then each member's and each group's (one request each; those
    wait for a refresh with dimension_refresh_hours)."""

    name = "webhook_subscriptions"
    path = "/webhook_subscriptions"
    tracks_deletions = True

    def lists_deletions(self) -> bool:
        """Only a refresh lists every scope; the organization's alone cannot tell what vanished."""
        return super().lists_deletions() and self.cadence.due

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        yield from super().get_records(context)
        if not self.skipped:
            self.record_refresh()

    def listings(self, context: Context | None) -> Iterator[dict[str, str]]:
        yield {"scope": "organization"}
        if not self.cadence.due:
            return
        for membership in self._every("/organization_memberships"):
            yield {"scope": "user", "user": membership["user"]["uri"]}
        for group in self._every("/groups"):
            yield {"scope": "group", "group": group["uri"]}

    def _every(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of an organization-wide list, its requests counted in the metrics."""
        organization = {"organization": self.organization_uri, "count": self.page_size}
        with metrics.http_request_counter(self.name, endpoint=path) as counter:
            yield from self.client.paginate(path, organization, on_page=counter.increment)

    def query(self, context: Context | None) -> dict[str, Any]:
        return {**super().query(context), **(context or {})}


class ContactsStream(CalendlyStream):
    """The token's contacts (every plan), newest change first. Deleted contacts are learnt from
    the `contact.deleted` deliveries of webhook_inbox (paging then stops at the bookmark), else
    from the whole listing, read every run."""

    name = "contacts"
    path = "/contacts"
    params: ClassVar[Mapping[str, str]] = {"sort": "updated_at:desc"}
    scoped_to_organization = False
    sorted_desc_by = "updated_at"
    tracks_deletions = True

    def lists_deletions(self) -> bool:
        return self.calendly_tap.webhook_hints is None

    def delivered_deletions(self) -> Iterator[dict[str, Any]]:
        hints = self.calendly_tap.webhook_hints
        if hints is None or not self.selected:
            return
        self.stream_state.pop(LISTED_KEYS, None)  # kept only while the listing tells
        for uri, deleted_at in sorted(hints.deleted_contacts.items()):
            at = parse_timestamp(deleted_at) or datetime.now(timezone.utc)
            yield deletion_record((uri,), self.primary_keys, self.replication_key, at)


class ContactCustomFieldDefinitionsStream(CalendlyStream):
    """One unpaged collection; changed definitions are emitted."""

    name = "contact_custom_field_definitions"
    path = "/contacts/custom_field_definitions"
    tracks_deletions = True
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
    tracks_deletions = True

    def listings(self, context: Context | None) -> Iterator[dict[str, str]]:
        for status in self.statuses:
            yield {"status": status}

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
    envelope = "resource"
    replication_key = None
    enabled_by = "meeting_recap_transcripts"

    def iter_for(self, parent: Mapping[str, Any]) -> Iterator[Record]:
        bookmark, changed = self.listing.bookmark, parse_timestamp(parent.get("updated_at"))
        if parent.get("status") != "available" or (bookmark and changed and changed <= bookmark):
            return
        path = self.path_under(parent["uri"])
        try:
            body = self.client.request("GET", path) or {}
        except NotFoundError:
            return  # the recap became unavailable after it was listed
        yield {**body[self.envelope], "meeting_recap": parent["uri"]}


class TeamsStream(CalendlyStream):
    """No timestamps on the resource: read in full every run."""

    name = "teams"
    path = "/teams"
    scoped_to_organization = False
    replication_key = None
    tracks_deletions = True


class LocationsStream(DimensionStream):
    """Each user's configured meeting locations (no uri: keyed on user and kind), every run."""

    name = "locations"
    path = "/locations"
    parent_stream_type = UsersStream
    primary_keys = ("user", "kind")
    replication_key = None
    tracks_deletions = True

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.path, {"user": parent["uri"]}

    def iter_for(self, parent: Mapping[str, Any]) -> Iterator[Record]:
        for row in super().iter_for(parent):
            yield {**row, "user": parent["uri"]}


class EventTypeAvailabilitySchedulesStream(DimensionStream):
    """Each event type's availability (no timestamps: read in full every run)."""

    name = "event_type_availability_schedules"
    path = "/event_type_availability_schedules"
    parent_stream_type = EventTypesStream
    primary_keys = ("event_type",)
    replication_key = None
    tracks_deletions = True

    def child_request(self, parent: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.path, {"event_type": parent["uri"]}


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


#: Every stream class above that names a stream (in class-name order, the SDK's sync order).
STREAM_TYPES: tuple[type[CalendlyStream], ...] = tuple(
    sorted(
        (
            value
            for value in list(globals().values())
            if isinstance(value, type)
            and issubclass(value, CalendlyStream)
            and isinstance(vars(value).get("name"), str)
        ),
        key=lambda stream_type: stream_type.__name__,
    )
)

#: Streams that stay empty unless a setting turns them on (`enabled_by`).
OPT_IN_STREAMS = tuple(stream.name for stream in STREAM_TYPES if stream.enabled_by)
