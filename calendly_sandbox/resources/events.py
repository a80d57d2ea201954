"""Scheduled events: reads, cancellation, and the event bodies the generator and bookings build."""

from __future__ import annotations

from typing import Any

from calendly_sandbox.app import (
    Ctx,
    Predicate,
    Reply,
    Routes,
    all_of,
    body_field,
    field_is,
    new_uuid,
    page,
    resource,
    time_window,
)
from calendly_sandbox.deliveries import announce_invitee
from calendly_sandbox.errors import FORBIDDEN, ApiError, bad_request
from calendly_sandbox.resources.groups import GROUP_NEEDS_ORG
from calendly_sandbox.resources.organization import NOT_IN_ORG, USER_NEEDS_ORG, org_member
from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import fmt, parse

NOT_ALLOWED_TO_CANCEL = "You are not allowed to cancel this event"


# Event-type location kinds -> the `type` of the scheduled event's location.
LOCATION_TYPES = {"zoom_conference": "zoom", "gotomeeting_conference": "gotomeeting"}
CONFERENCE_TYPES = {
    "google_conference",
    "zoom",
    "gotomeeting",
    "microsoft_teams_conference",
    "webex_conference",
}


def event_location(
    kind: str, detail: str | None, uuid: str, *, hard: bool = False, processing: bool = False
) -> dict[str, Any]:
    """A scheduled event's `location` for a booking of the given location kind.

    Hard realism: pushed Zoom meetings carry Zoom's `data` (numeric id, dial-in numbers,
    password), and a Google Meet still `processing` has no join_url yet.
    """
    loc_type = LOCATION_TYPES.get(kind, kind)
    if loc_type in CONFERENCE_TYPES:
        location: dict[str, Any] = {
            "type": loc_type,
            "status": "pushed",
            "join_url": f"https://meet.example.com/{uuid[:8]}",
        }
        if loc_type == "google_conference" and hard and processing:
            location.update(status="processing", join_url=None)
        if loc_type == "zoom" and hard:
            location["data"] = zoom_data(uuid)
        elif loc_type != "google_conference":
            location["data"] = None
        return location
    if loc_type in ("physical", "inbound_call"):
        return {"type": loc_type, "location": detail or "Main office, 1st floor"}
    if loc_type == "ask_invitee":
        return {"type": loc_type, "location": detail or "+1 415 555 0199"}
    return {"type": loc_type, "location": detail}  # outbound_call, custom (nullable)


def zoom_data(uuid: str) -> dict[str, Any]:
    """What Zoom pushes back for a meeting (the shape published captures show)."""
    meeting_id = int(uuid.replace("-", "")[:9], 16) % 10**11 + 10**10
    return {
        "id": meeting_id,
        "settings": {
            "global_dial_in_numbers": [
                {
                    "number": "+1 646 558 8656",
                    "country": "US",
                    "type": "toll",
                    "city": "New York",
                    "country_name": "US",
                },
                {
                    "number": "+33 1 7095 0103",
                    "country": "FR",
                    "type": "toll",
                    "city": "Paris",
                    "country_name": "France",
                },
            ]
        },
        "extra": {"intl_numbers_url": f"https://zoom.us/u/a{meeting_id}"},
        "password": f"{meeting_id % 1_000_000:06d}",
    }


def scheduled_event(
    store: Store,
    uuid: str,
    event_type: Resource,
    hosts: list[Resource],
    start: float,
    created: float,
    location: dict[str, Any],
    limit: int,
) -> Resource:
    start_s, end_s = fmt(start), fmt(start + float(event_type["duration"]) * 60)
    created_s = fmt(created)
    return {
        "uri": store.uri("scheduled_events", uuid),
        "name": event_type["name"],
        "meeting_notes_plain": None,
        "status": "active",
        "start_time": start_s,
        "end_time": end_s,
        "event_type": event_type["uri"],
        "location": location,
        "invitees_counter": {"total": 0, "active": 0, "limit": limit},
        "created_at": created_s,
        "updated_at": created_s,
        "event_memberships": [
            {
                "user": h["uri"],
                "user_email": h["email"],
                "user_name": h["name"],
                "buffered_start_time": start_s,
                "buffered_end_time": end_s,
            }
            for h in hosts
        ],
        "event_guests": [],
        "calendar_event": {"kind": "google", "external_id": uuid.replace("-", "")[:26]},
    }


def cancellation(canceled_by: str, reason: str | None, canceler_type: str, at: float) -> Resource:
    return {
        "canceled_by": canceled_by,
        "reason": reason,
        "canceler_type": canceler_type,
        "created_at": fmt(at),
    }


def list_scheduled_events(ctx: Ctx) -> Any:
    store, p = ctx.store, ctx.params
    org, user, group = p.get("organization"), p.get("user"), p.get("group")
    if not (org or user or group):
        raise bad_request("organization", "Pass organization, user or group")
    if org:
        ctx.require_own_org(org)
        if user:
            org_member(ctx, user)
        if not ctx.is_admin and (user != ctx.me or group):
            raise ApiError(403, FORBIDDEN)
    elif user and user != ctx.me:
        raise ApiError(403, USER_NEEDS_ORG if store.role_of(user) else NOT_IN_ORG)
    elif group:
        raise ApiError(403, GROUP_NEEDS_ORG)
    events = store.scheduled_events
    hosts = store.event_hosts
    host_test: Predicate | None = None
    if user:
        host_test = lambda u: user in hosts[u]  # noqa: E731
    if group:
        ctx.lookup_uri("groups", group, "group", "group")
        members = store.group_members.get(group, set())
        group_test: Predicate = lambda u: not members.isdisjoint(hosts[u])  # noqa: E731
        host_test = all_of(host_test, group_test)
    email_test: Predicate | None = None
    if p.get("invitee_email"):
        with_email = store.events_by_invitee_email.get(p["invitee_email"].lower(), set())
        email_test = with_email.__contains__
    window = time_window(ctx, "min_start_time", "max_start_time")
    return page(
        ctx,
        "scheduled_events",
        ctx.sort_order("start_time:asc"),
        all_of(host_test, email_test, field_is(events, "status", p.get("status"))),
        window=window,
    )


def event_for_reader(ctx: Ctx, uuid: str) -> Resource:
    event = ctx.lookup("scheduled_events", uuid, "scheduled event")
    if not ctx.is_admin and ctx.me not in ctx.store.event_hosts[uuid]:
        raise ApiError(403, FORBIDDEN)
    return event


def get_scheduled_event(ctx: Ctx) -> Any:
    return resource(event_for_reader(ctx, ctx.path["uuid"]))


def may_act_on_event(ctx: Ctx, event_uuid: str) -> bool:
    return ctx.is_admin or ctx.me in ctx.store.event_hosts.get(event_uuid, frozenset())


def cancel_event(ctx: Ctx) -> Reply:
    uuid = ctx.path["uuid"]
    event = ctx.lookup("scheduled_events", uuid, "scheduled event")
    if not may_act_on_event(ctx, uuid):
        raise ApiError(403, NOT_ALLOWED_TO_CANCEL)
    if event["status"] == "canceled":
        raise ApiError(403, "Event is already canceled")
    now = ctx.now()
    if parse(event["start_time"]) <= now:
        raise ApiError(403, "Event in the past")
    me = ctx.store.users[uuid_of(ctx.me)]
    record = cancellation(me["name"], body_field(ctx, "reason"), "host", now)
    event["status"] = "canceled"
    event["cancellation"] = record
    event["updated_at"] = record["created_at"]
    canceled = []
    for inv_uuid in ctx.store.invitees_by_event.get(uuid, []):
        invitee = ctx.store.invitees[inv_uuid]
        if invitee["status"] == "active":
            invitee["status"] = "canceled"
            invitee["cancellation"] = dict(record)
            invitee["updated_at"] = record["created_at"]
            canceled.append(invitee)
    event["invitees_counter"]["active"] = 0
    for invitee in canceled:
        announce_invitee(ctx.store, "invitee.canceled", invitee)
    return Reply(201, resource(record))


def join_or_create_event(ctx: Ctx, event_type: Resource, start: float, start_s: str) -> Resource:
    store = ctx.store
    same_slot = [
        store.scheduled_events[u]
        for u in store.events_by_slot.get((event_type["uri"], start_s), [])
        if store.scheduled_events[u]["status"] == "active"
    ]
    for event in same_slot:
        counter = event["invitees_counter"]
        if event_type["kind"] == "group" and counter["active"] < counter["limit"]:
            return event
    if same_slot:
        raise bad_request("start_time", "this time slot is no longer available")
    location = body_field(ctx, "location") or {}
    kind = location.get("kind") or ((event_type["locations"] or [{"kind": "custom"}])[0]["kind"])
    uuid = new_uuid(ctx, event_type["uri"], start_s, "event")
    hosts_uris = sorted(
        store.event_type_hosts.get(event_type["uri"], {event_type["profile"]["owner"]})
    )
    hosts = [store.users[uuid_of(u)] for u in hosts_uris if uuid_of(u) in store.users]
    if event_type["pooling_type"] and hosts:
        hosts = hosts[:1]
    event = scheduled_event(
        store,
        uuid,
        event_type,
        hosts,
        start,
        ctx.now(),
        # A new Google Meet starts as "processing" under hard realism (no join_url yet).
        event_location(kind, location.get("location"), uuid, hard=store.hard, processing=True),
        limit=10 if event_type["kind"] == "group" else 1,
    )
    store.insert("scheduled_events", uuid, event)
    return event


ROUTES: Routes = (
    ("GET", "/scheduled_events", list_scheduled_events),
    ("GET", "/scheduled_events/{uuid}", get_scheduled_event),
    ("POST", "/scheduled_events/{uuid}/cancellation", cancel_event),
)
