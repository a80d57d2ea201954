"""In-memory state of the sandbox organization.

One dict per resource kind (named after the URL collection), uuid -> the resource exactly as the
API serves it. Every read and write of the HTTP server holds `store.lock`; tests may take it too.
Sorted indexes are built lazily per (kind, sort order) and kept up to date on inserts.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from calendly_sandbox.paging import Key, SortOrder, build_index

Resource = dict[str, Any]

KINDS = (
    "users",
    "organizations",
    "organization_memberships",
    "organization_invitations",
    "event_types",
    "scheduled_events",
    "invitees",
    "invitee_no_shows",
    "routing_forms",
    "routing_form_submissions",
    "activity_log_entries",
    "groups",
    "group_relationships",
    "event_type_memberships",
    "webhook_subscriptions",
    "user_availability_schedules",
    "outgoing_communications",
    "scheduling_links",
    "shares",
    "data_compliance_requests",
    "contacts",
    "contact_custom_field_definitions",
    "event_type_availability_schedules",
    "meeting_recaps",
    "teams",
)


def uuid_of(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


class Store:
    """All resources plus the secondary maps the handlers need."""

    def __init__(self, base_url: str, seed: int = 0, *, hard: bool = True) -> None:
        self.base_url = base_url
        self.seed = seed
        #: Model what real accounts show where it is harder than the spec (Sandbox realism).
        self.hard = hard
        self.lock = threading.RLock()
        self.users: dict[str, Resource] = {}
        self.organizations: dict[str, Resource] = {}
        self.organization_memberships: dict[str, Resource] = {}
        self.organization_invitations: dict[str, Resource] = {}
        self.event_types: dict[str, Resource] = {}
        self.scheduled_events: dict[str, Resource] = {}
        self.invitees: dict[str, Resource] = {}
        self.invitee_no_shows: dict[str, Resource] = {}
        self.routing_forms: dict[str, Resource] = {}
        self.routing_form_submissions: dict[str, Resource] = {}
        self.activity_log_entries: dict[str, Resource] = {}
        self.groups: dict[str, Resource] = {}
        self.group_relationships: dict[str, Resource] = {}
        self.event_type_memberships: dict[str, Resource] = {}
        self.webhook_subscriptions: dict[str, Resource] = {}
        self.user_availability_schedules: dict[str, Resource] = {}
        self.outgoing_communications: dict[str, Resource] = {}
        self.scheduling_links: dict[str, Resource] = {}
        self.shares: dict[str, Resource] = {}
        self.data_compliance_requests: dict[str, Resource] = {}
        self.contacts: dict[str, Resource] = {}
        self.contact_custom_field_definitions: dict[str, Resource] = {}
        self.event_type_availability_schedules: dict[str, Resource] = {}  # by event type uuid
        self.meeting_recaps: dict[str, Resource] = {}
        self.meeting_recap_hosts: dict[str, set[str]] = {}  # recap uuid -> host user uris
        self.transcripts: dict[str, Resource] = {}  # recap uuid -> transcript
        self.recap_texts: dict[str, Resource] = {}  # recap uuid -> fields set by PATCH
        self.teams: dict[str, Resource] = {}
        self.team_members: dict[str, set[str]] = {}  # team uuid -> user uris
        self.user_locations: dict[str, list[Resource]] = {}  # user uri -> meeting locations
        self.organization: Resource = {}
        self.current_user: Resource = {}
        # Secondary maps (uuid lists), maintained by insert/delete.
        self.invitees_by_event: dict[str, list[str]] = defaultdict(list)
        self.membership_by_user: dict[str, str] = {}  # user uri -> membership uuid
        self.event_hosts: dict[str, frozenset[str]] = {}  # event uuid -> host user uris
        self.group_members: dict[str, set[str]] = defaultdict(set)  # group uri -> user uris
        self.events_by_invitee_email: dict[str, set[str]] = defaultdict(set)  # -> event uuids
        self.event_type_hosts: dict[str, set[str]] = defaultdict(set)  # event type uri -> users
        # (event type uri, start_time) -> event uuids: where a booking joins or collides.
        self.events_by_slot: dict[tuple[str, str], list[str]] = defaultdict(list)
        # Webhooks: subscription uri -> signing key (set on POST, never served), and the sandbox's
        # dispatcher, which announce() hands every change Calendly would send as a webhook.
        self.signing_keys: dict[str, str] = {}
        self.announcer: Callable[[str, Resource, Iterable[str]], object] | None = None
        self._serial = 0
        self._indexes: dict[tuple[str, SortOrder], list[Key]] = {}
        self._counts: dict[tuple[str, str], int] = {}

    def next_serial(self) -> int:
        """A counter for ids minted by writes (deterministic for a given sequence of writes)."""
        with self.lock:
            self._serial += 1
            return self._serial

    def announce(self, event: str, payload: Resource, users: Iterable[str] = ()) -> None:
        """Send `event` to matching webhook subscriptions; `users`: the user uris it concerns."""
        if self.announcer is not None:
            self.announcer(event, payload, users)

    def uri(self, *segments: str) -> str:
        return "/".join((self.base_url, *segments))

    def kind(self, name: str) -> dict[str, Resource]:
        table: dict[str, Resource] = getattr(self, name)
        return table

    # -- mutations ---------------------------------------------------------------------------
    def insert(self, kind: str, uuid: str, resource: Resource) -> Resource:
        with self.lock:
            self.kind(kind)[uuid] = resource
            self._link(kind, uuid, resource)
            if self._counts:
                self._forget_counts(kind)
            if self._indexes:
                for (indexed_kind, order), index in list(self._indexes.items()):
                    if indexed_kind == kind:
                        bisect.insort(index, order.key(resource, uuid))
        return resource

    def delete(self, kind: str, uuid: str) -> Resource | None:
        with self.lock:
            resource = self.kind(kind).pop(uuid, None)
            if resource is not None:
                self._unlink(kind, uuid, resource)
                self.changed(kind)
        return resource

    def changed(self, kind: str, fields: tuple[str, ...] | None = None) -> None:
        """Drop the indexes of `kind` whose sort fields include any of `fields` (all if None)."""
        with self.lock:
            self._forget_counts(kind)
            for indexed_kind, order in list(self._indexes):
                if indexed_kind == kind and (fields is None or set(fields) & set(order.fields)):
                    del self._indexes[(indexed_kind, order)]

    def index(self, kind: str, order: SortOrder) -> list[Key]:
        with self.lock:
            index = self._indexes.get((kind, order))
            if index is None:
                index = build_index(self.kind(kind).items(), order)
                self._indexes[(kind, order)] = index
            return index

    def count(self, kind: str, key: str, compute: Callable[[], int]) -> int:
        """A cached count over `kind` (e.g. a filtered total), recomputed after any change."""
        with self.lock:
            if (kind, key) not in self._counts:
                self._counts[(kind, key)] = compute()
            return self._counts[(kind, key)]

    def _forget_counts(self, kind: str) -> None:
        for cached in [k for k in self._counts if k[0] == kind]:
            del self._counts[cached]

    def _link(self, kind: str, uuid: str, resource: Resource) -> None:
        if kind == "invitees":
            self.invitees_by_event[uuid_of(resource["event"])].append(uuid)
            self.events_by_invitee_email[resource["email"].lower()].add(uuid_of(resource["event"]))
        elif kind == "organization_memberships":
            self.membership_by_user[resource["user"]["uri"]] = uuid
        elif kind == "scheduled_events":
            self.event_hosts[uuid] = frozenset(m["user"] for m in resource["event_memberships"])
            self.events_by_slot[(resource["event_type"], resource["start_time"])].append(uuid)
        elif kind == "event_type_memberships":
            self.event_type_hosts[resource["event_type"]["uri"]].add(resource["member"]["uri"])
        elif kind == "group_relationships" and resource["owner"].get("type") == (
            "OrganizationMembership"
        ):
            self.group_members[resource["group"]].add(resource["owner"]["user"]["uri"])

    def _unlink(self, kind: str, uuid: str, resource: Resource) -> None:
        if kind == "invitees":
            siblings = self.invitees_by_event.get(uuid_of(resource["event"]), [])
            if uuid in siblings:
                siblings.remove(uuid)
            event_uuid = uuid_of(resource["event"])
            if not any(
                self.invitees[i]["email"].lower() == resource["email"].lower() for i in siblings
            ):
                self.events_by_invitee_email[resource["email"].lower()].discard(event_uuid)
        elif kind == "organization_memberships":
            self.membership_by_user.pop(resource["user"]["uri"], None)
        elif kind == "scheduled_events":
            self.event_hosts.pop(uuid, None)
            slot = self.events_by_slot.get((resource["event_type"], resource["start_time"]), [])
            if uuid in slot:
                slot.remove(uuid)
        elif kind == "group_relationships" and resource["owner"].get("type") == (
            "OrganizationMembership"
        ):
            self.group_members[resource["group"]].discard(resource["owner"]["user"]["uri"])

    # -- lookups -----------------------------------------------------------------------------
    def role_of(self, user_uri: str) -> str | None:
        membership = self.organization_memberships.get(self.membership_by_user.get(user_uri, ""))
        return membership["role"] if membership else None

    def is_admin(self, user_uri: str) -> bool:
        return self.role_of(user_uri) in ("admin", "owner")

    def find_by_uri(self, kind: str, uri: str) -> Resource | None:
        return self.kind(kind).get(uuid_of(uri)) if uri else None
