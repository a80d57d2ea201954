"""Invitees: reads, bookings (POST /invitees), no-shows, the invitee bodies the generator and
bookings build, and what invitees do on Calendly's own pages, which no API call does.

Tests and benchmarks call the latter (`sb.cancel_invitee(uri)`, `sb.reschedule_invitee(uri,
start)`); both are announced as webhooks, as Calendly does.

- Cancelling: the invitee is canceled by "invitee". A one-on-one event (or a group event whose
  last active invitee leaves) is canceled with it; a group event with invitees left keeps its
  status and its updated_at (unverified; the harder case: polling sees no change on the event).
- Rescheduling: a new event at the new time with a new invitee (`old_invitee` -> the old one),
  and the old invitee canceled with `rescheduled: true` and `new_invitee` -> the new one.
  Announced as invitee.canceled (old) then invitee.created (new).
"""

from __future__ import annotations

from typing import Any

from calendly_sandbox.app import (
    Ctx,
    Reply,
    Routes,
    all_of,
    body_field,
    field_is,
    new_uuid,
    page,
    resource,
)
from calendly_sandbox.deliveries import announce_invitee
from calendly_sandbox.errors import FORBIDDEN, ApiError, bad_request
from calendly_sandbox.resources.events import (
    cancellation,
    event_for_reader,
    join_or_create_event,
    may_act_on_event,
    scheduled_event,
)
from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import fmt, parse
from calendly_sandbox.uuids import mint_uuid

EMPTY_TRACKING = {
    "utm_campaign": None,
    "utm_source": None,
    "utm_medium": None,
    "utm_content": None,
    "utm_term": None,
    "salesforce_uuid": None,
}


def invitee_body(
    store: Store,
    uuid: str,
    event: Resource,
    *,
    name: str,
    first_name: str | None,
    last_name: str | None,
    email: str,
    timezone: str | None,
    created: float,
) -> Resource:
    created_s = fmt(created)
    event_uuid = event["uri"].rsplit("/", 1)[-1]
    return {
        "uri": store.uri("scheduled_events", event_uuid, "invitees", uuid),
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "name": name,
        "status": "active",
        "questions_and_answers": [],
        "timezone": timezone,
        "event": event["uri"],
        "created_at": created_s,
        "updated_at": created_s,
        "tracking": dict(EMPTY_TRACKING),
        "text_reminder_number": None,
        "rescheduled": False,
        "old_invitee": None,
        "new_invitee": None,
        "cancel_url": f"https://calendly.com/cancellations/{uuid}",
        "reschedule_url": f"https://calendly.com/reschedulings/{uuid}",
        "routing_form_submission": None,
        "payment": None,
        "no_show": None,
        "reconfirmation": None,
        "scheduling_method": None,
        "invitee_scheduled_by": None,
    }


def attach_invitee(event: Resource, invitee_resource: Resource) -> None:
    counter = event["invitees_counter"]
    counter["total"] += 1
    if invitee_resource["status"] == "active":
        counter["active"] += 1


def list_invitees(ctx: Ctx) -> Any:
    event_uuid = ctx.path["uuid"]
    event_for_reader(ctx, event_uuid)
    table = ctx.store.invitees
    email = ctx.params.get("email")
    members = [(u, table[u]) for u in ctx.store.invitees_by_event.get(event_uuid, [])]
    return page(
        ctx,
        "invitees",
        ctx.sort_order("created_at:asc"),
        all_of(
            field_is(table, "status", ctx.params.get("status")),
            (lambda u: table[u]["email"].lower() == email.lower()) if email else None,
        ),
        items=members,
    )


def get_invitee(ctx: Ctx) -> Any:
    event_for_reader(ctx, ctx.path["event_uuid"])
    invitee = ctx.lookup("invitees", ctx.path["invitee_uuid"], "invitee")
    if uuid_of(invitee["event"]) != ctx.path["event_uuid"]:
        raise ApiError(404, reason="invitee not found in this event")
    return resource(invitee)


def book_invitee(ctx: Ctx) -> Reply:
    body, store = ctx.body, ctx.store
    person = body["invitee"]
    if not (person.get("name") or person.get("first_name")):
        raise bad_request("invitee.name", "invitee.name or invitee.first_name is required")
    event_type = ctx.lookup_uri("event_types", body["event_type"], "event type", "event_type")
    if not event_type["active"] or event_type["deleted_at"]:
        raise bad_request("event_type", "the event type is not active")
    start = parse(body["start_time"])
    if start <= ctx.now():
        raise bad_request("start_time", "start_time must be in the future")
    answers = body.get("questions_and_answers") or []
    known = {q["name"] for q in event_type["custom_questions"]}
    for i, qa in enumerate(answers):
        if qa["question"] not in known:
            raise bad_request(
                f"questions_and_answers[{i}].question",
                f"{qa['question']!r} is not a question of this event type (case-sensitive)",
            )
    guests = body.get("event_guests") or []
    if len(guests) > 10:
        raise bad_request("event_guests", "at most 10 event guests")
    start_s = fmt(start)
    event = join_or_create_event(ctx, event_type, start, start_s)
    name = person.get("name") or " ".join(
        p for p in (person.get("first_name"), person.get("last_name")) if p
    )
    inv_uuid = new_uuid(ctx, body["event_type"], start_s, person["email"])
    invitee = invitee_body(
        store,
        inv_uuid,
        event,
        name=name,
        first_name=person.get("first_name"),
        last_name=person.get("last_name"),
        email=person["email"],
        timezone=person["timezone"],
        created=ctx.now(),
    )
    invitee["questions_and_answers"] = [
        {"question": qa["question"], "answer": qa["answer"], "position": qa["position"]}
        for qa in answers
    ]
    if body.get("tracking"):
        invitee["tracking"] = {**EMPTY_TRACKING, **body["tracking"]}
    invitee["text_reminder_number"] = person.get("text_reminder_number")
    invitee["scheduling_method"] = "api"
    invitee["invitee_scheduled_by"] = ctx.me
    store.insert("invitees", inv_uuid, invitee)
    attach_invitee(event, invitee)
    for email in guests:
        event["event_guests"].append(
            {
                "email": email,
                "created_at": invitee["created_at"],
                "updated_at": invitee["created_at"],
            }
        )
    event["updated_at"] = invitee["created_at"]
    announce_invitee(ctx.store, "invitee.created", invitee)
    return Reply(201, resource(invitee))


def get_no_show(ctx: Ctx) -> Any:
    no_show = ctx.lookup("invitee_no_shows", ctx.path["uuid"], "no-show")
    event_uuid = uuid_of(no_show["invitee"].split("/invitees/")[0])
    if not ctx.is_admin and ctx.me not in ctx.store.event_hosts.get(event_uuid, frozenset()):
        raise ApiError(403, FORBIDDEN)
    return resource(no_show)


def create_no_show(ctx: Ctx) -> Reply:
    uri = body_field(ctx, "invitee")
    if not uri:
        raise bad_request("invitee", "invitee is required")
    invitee = ctx.lookup_uri("invitees", uri, "invitee", "invitee")
    if invitee["uri"] != uri:
        raise ApiError(404, parameter="invitee", reason=f"invitee {uri} not found")
    if not may_act_on_event(ctx, uuid_of(invitee["event"])):
        raise ApiError(403, FORBIDDEN)
    if invitee.get("no_show") is not None:
        raise bad_request("invitee", "This invitee is already marked as a no-show")
    now = fmt(ctx.now())
    uuid = new_uuid(ctx, uri)
    no_show = {"uri": ctx.store.uri("invitee_no_shows", uuid), "invitee": uri, "created_at": now}
    ctx.store.insert("invitee_no_shows", uuid, no_show)
    invitee["no_show"] = {"uri": no_show["uri"], "created_at": now}
    if not ctx.store.hard:  # real accounts: marking a no-show need not move any updated_at
        invitee["updated_at"] = now  # the event's updated_at deliberately does not move either
    announce_invitee(ctx.store, "invitee_no_show.created", invitee)
    return Reply(201, resource(no_show))


def delete_no_show(ctx: Ctx) -> Reply:
    uuid = ctx.path["uuid"]
    no_show = ctx.lookup("invitee_no_shows", uuid, "no-show")
    invitee = ctx.store.find_by_uri("invitees", no_show["invitee"])
    if invitee is not None and not may_act_on_event(ctx, uuid_of(invitee["event"])):
        raise ApiError(403, FORBIDDEN)
    ctx.store.delete("invitee_no_shows", uuid)
    if invitee is not None:
        invitee["no_show"] = None
        if not ctx.store.hard:  # real accounts: removing it need not move updated_at either
            invitee["updated_at"] = fmt(ctx.now())
        announce_invitee(ctx.store, "invitee_no_show.deleted", invitee)
    return Reply(204)


def cancel_invitee(store: Store, invitee_uri: str, *, reason: str | None, now: float) -> Resource:
    invitee = _active_invitee(store, invitee_uri)
    _cancel(store, invitee, reason, now)
    announce_invitee(store, "invitee.canceled", invitee)
    return invitee


def reschedule_invitee(store: Store, invitee_uri: str, new_start: float, *, now: float) -> Resource:
    """The new invitee, booked at `new_start` on the same event type."""
    old = _active_invitee(store, invitee_uri)
    if new_start <= now:
        raise ValueError("a reschedule must move the booking to a future time")
    old_event = store.scheduled_events[uuid_of(old["event"])]
    event_type = store.find_by_uri("event_types", old_event["event_type"])
    if event_type is None:
        raise ValueError(f"the event type of {invitee_uri} no longer exists")
    hosts = [
        store.users[uuid_of(m["user"])]
        for m in old_event["event_memberships"]
        if uuid_of(m["user"]) in store.users
    ]
    event_uuid = mint_uuid(store, "reschedule-event", invitee_uri, new_start)
    event = scheduled_event(
        store,
        event_uuid,
        event_type,
        hosts,
        new_start,
        now,
        dict(old_event["location"]),
        limit=old_event["invitees_counter"]["limit"],
    )
    store.insert("scheduled_events", event_uuid, event)
    invitee_uuid = mint_uuid(store, "reschedule-invitee", invitee_uri, new_start)
    new = invitee_body(
        store,
        invitee_uuid,
        event,
        name=old.get("name") or old["email"],  # older records may lack keys or name (hard mode)
        first_name=old.get("first_name"),
        last_name=old.get("last_name"),
        email=old["email"],
        timezone=old.get("timezone"),
        created=now,
    )
    for kept in ("questions_and_answers", "tracking", "text_reminder_number"):
        if kept in old:
            new[kept] = old[kept]
    new["old_invitee"] = old["uri"]
    store.insert("invitees", invitee_uuid, new)
    attach_invitee(event, new)
    _cancel(store, old, None, now)
    old["rescheduled"] = True
    old["new_invitee"] = new["uri"]
    announce_invitee(store, "invitee.canceled", old)
    announce_invitee(store, "invitee.created", new)
    return new


def _active_invitee(store: Store, uri: str) -> Resource:
    invitee = store.find_by_uri("invitees", uri)
    if invitee is None or invitee["uri"] != uri:
        raise ValueError(f"no invitee {uri}")
    if invitee["status"] != "active":
        raise ValueError(f"invitee {uri} is already {invitee['status']}")
    return invitee


def _cancel(store: Store, invitee: Resource, reason: str | None, now: float) -> None:
    record = cancellation(invitee.get("name") or invitee["email"], reason, "invitee", now)
    invitee["status"] = "canceled"
    invitee["cancellation"] = record
    invitee["updated_at"] = record["created_at"]
    event = store.scheduled_events[uuid_of(invitee["event"])]
    counter = event["invitees_counter"]
    counter["active"] = max(0, counter["active"] - 1)
    if counter["active"] == 0:
        event["status"] = "canceled"
        event["cancellation"] = dict(record)
        event["updated_at"] = fmt(now)


ROUTES: Routes = (
    ("GET", "/scheduled_events/{uuid}/invitees", list_invitees),
    ("GET", "/scheduled_events/{event_uuid}/invitees/{invitee_uuid}", get_invitee),
    ("POST", "/invitees", book_invitee),
    ("GET", "/invitee_no_shows/{uuid}", get_no_show),
    ("POST", "/invitee_no_shows", create_no_show),
    ("DELETE", "/invitee_no_shows/{uuid}", delete_no_show),
)
