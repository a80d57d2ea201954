"""POST/DELETE handlers. Every side effect is visible on the next read.

Choices where the real API is unverified (API_NOTES.md section 9) model the case hardest for a
client and are listed in the package docstring.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from calendly_sandbox import resources
from calendly_sandbox.app import Ctx, Reply, resource
from calendly_sandbox.errors import (
    FORBIDDEN,
    UPGRADE_ENTERPRISE,
    UPGRADE_PAID,
    ApiError,
    bad_request,
)
from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import fmt, parse
from calendly_sandbox.webhooks import event_hosts, invitee_payload

NOT_ALLOWED_TO_CANCEL = "You are not allowed to cancel this event"
MAX_DELETION_WINDOW_DAYS = 731  # "24 months"
SCOPE_ONLY_EVENTS = {
    "routing_form_submission.created": "organization",
    "meeting_recap.created": "user",
    "meeting_recap.updated": "user",
    "meeting_recap.deleted": "user",
}
# Since 2026-11-03 webhook subscriptions and POST /invitees work on every plan, Free included;
# these events still need the plan of the feature they report (contact.* needs none since 11-19).
EVENT_PLAN_PREFIXES = {"routing_form_submission.": "teams", "meeting_recap.": "standard"}


def new_uuid(ctx: Ctx, *parts: object) -> str:
    """A fresh uuid, deterministic in the store's history (same writes -> same uuids)."""
    return mint_uuid(ctx.store, ctx.op_key, *parts)


def mint_uuid(store: Store, label: str, *parts: object) -> str:
    seed = f"{store.seed}|{store.next_serial()}|{label}|{parts}"
    digest = bytearray(hashlib.sha256(seed.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def log_activity(ctx: Ctx, namespace: str, action: str, details: dict[str, Any]) -> None:
    """Admin actions appear in the activity log, as they do in Calendly."""
    store = ctx.store
    actor = store.users[uuid_of(ctx.me)]
    uuid = new_uuid(ctx, namespace, action)
    store.insert(
        "activity_log_entries",
        uuid,
        {
            "occurred_at": fmt(ctx.now())[:23] + "Z",
            "actor": {
                "uri": actor["uri"],
                "type": "User",
                "organization": {
                    "uri": store.organization["uri"],
                    "role": store.role_of(actor["uri"]) or "user",
                },
                "display_name": actor["name"],
                "alternative_identifier": actor["email"],
            },
            "details": details,
            "fully_qualified_name": f"{namespace}.{action}",
            "uri": store.uri("activity_log_entries", uuid),
            "namespace": namespace,
            "action": action,
            "organization": store.organization["uri"],
        },
    )


def body_field(ctx: Ctx, name: str) -> Any:
    return ctx.body.get(name) if isinstance(ctx.body, dict) else None


def announce_invitee(ctx: Ctx, event: str, invitee: Resource) -> None:
    ctx.store.announce(event, invitee_payload(ctx.store, invitee), event_hosts(ctx.store, invitee))


def may_act_on_event(ctx: Ctx, event_uuid: str) -> bool:
    return ctx.is_admin or ctx.me in ctx.store.event_hosts.get(event_uuid, frozenset())


# -- scheduled events ----------------------------------------------------------------------------
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
    record = resources.cancellation(me["name"], body_field(ctx, "reason"), "host", now)
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
        announce_invitee(ctx, "invitee.canceled", invitee)
    return Reply(201, resource(record))


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
    announce_invitee(ctx, "invitee_no_show.created", invitee)
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
        announce_invitee(ctx, "invitee_no_show.deleted", invitee)
    return Reply(204)


# -- organization --------------------------------------------------------------------------------
def own_org(ctx: Ctx, key: str) -> None:
    if ctx.path[key] != uuid_of(ctx.store.organization["uri"]):
        ctx.lookup("organizations", ctx.path[key], "organization")
        raise ApiError(403, FORBIDDEN)
    ctx.require_admin()


def create_invitation(ctx: Ctx) -> Reply:
    own_org(ctx, "uuid")
    email: str = ctx.body["email"]  # a valid email address: checked with the body
    store = ctx.store
    lowered = email.lower()
    if any(u["email"].lower() == lowered for u in _members(ctx)):
        raise bad_request("email", f"{email} is already a member of this organization")
    if any(
        i["email"].lower() == lowered and i["status"] == "pending"
        for i in store.organization_invitations.values()
    ):
        raise bad_request("email", f"{email} already has a pending invitation")
    uuid = new_uuid(ctx, lowered)
    invitation = resources.invitation(store, uuid, email, "pending", ctx.now(), None)
    store.insert("organization_invitations", uuid, invitation)
    log_activity(ctx, "Invitation", "Send", {"email": email})
    return Reply(201, resource(invitation))


def _members(ctx: Ctx) -> list[Resource]:
    return [m["user"] for m in ctx.store.organization_memberships.values()]


def revoke_invitation(ctx: Ctx) -> Reply:
    own_org(ctx, "org_uuid")
    uuid = ctx.path["uuid"]
    invitation = ctx.lookup("organization_invitations", uuid, "invitation")
    if invitation["status"] != "pending":
        raise bad_request(
            "uuid", f"only pending invitations can be revoked, this one is {invitation['status']}"
        )
    ctx.store.delete("organization_invitations", uuid)
    _drop_group_relationships(ctx, invitation["uri"])
    log_activity(ctx, "Invitation", "Revoke", {"email": invitation["email"]})
    return Reply(204)


def remove_membership(ctx: Ctx) -> Reply:
    uuid = ctx.path["uuid"]
    membership = ctx.lookup("organization_memberships", uuid, "membership")
    ctx.require_admin()
    if membership["role"] == "owner":
        raise ApiError(403, "The organization owner cannot be removed from the organization")
    ctx.store.delete("organization_memberships", uuid)
    _drop_group_relationships(ctx, membership["uri"])
    log_activity(ctx, "User", "Remove", {"user": membership["user"]["uri"]})
    return Reply(204)


def _drop_group_relationships(ctx: Ctx, owner_uri: str) -> None:
    store = ctx.store
    for rel_uuid, rel in list(store.group_relationships.items()):
        if rel["owner"]["uri"] == owner_uri:
            store.delete("group_relationships", rel_uuid)
            group = store.find_by_uri("groups", rel["group"])
            if group is not None:
                group["member_count"] = max(0, group.get("member_count", 1) - 1)
                group["updated_at"] = fmt(ctx.now())


# -- links and shares ----------------------------------------------------------------------------
def event_type_for_link(ctx: Ctx, uri: str, parameter: str) -> Resource:
    event_type = ctx.lookup_uri("event_types", uri, "event type", parameter)
    hosts = ctx.store.event_type_hosts.get(event_type["uri"], set())
    if not ctx.is_admin and ctx.me not in hosts:
        raise ApiError(403, FORBIDDEN)
    if event_type["deleted_at"] is not None:
        raise ApiError(404, parameter=parameter, reason="event type was deleted")
    return event_type


def booking_url(event_type: Resource, key: str) -> str:
    return (
        f"https://calendly.com/d/{key[:4]}-{key[4:8]}-{key[8:11]}/{event_type['slug'] or 'meeting'}"
    )


def create_scheduling_link(ctx: Ctx) -> Reply:
    event_type = event_type_for_link(ctx, ctx.body["owner"], "owner")
    key = new_uuid(ctx, event_type["uri"], len(ctx.store.scheduling_links)).replace("-", "")
    link = {
        "booking_url": booking_url(event_type, key),
        "owner": event_type["uri"],
        "owner_type": "EventType",
    }
    ctx.store.insert("scheduling_links", key, link)
    return Reply(201, resource(link))


def create_share(ctx: Ctx) -> Reply:
    body = ctx.body
    event_type = event_type_for_link(ctx, body["event_type"], "event_type")
    if event_type["kind"] != "solo" or event_type["pooling_type"]:
        raise bad_request("event_type", "shares work for one-on-one event types only")
    duration = body.get("duration", int(event_type["duration"]))
    options = body.get("duration_options", event_type["duration_options"])
    if options is not None:
        if len(options) > 4 or len(set(options)) != len(options):
            raise bad_request("duration_options", "at most 4 unique duration options")
        if any(not 1 <= o <= 720 for o in options):
            raise bad_request("duration_options", "each duration option must be within 1..720")
        if duration not in options:
            raise bad_request("duration", "duration must be one of duration_options")
    period = body.get("period_type", "available_moving")
    if period == "fixed" and not (body.get("start_date") and body.get("end_date")):
        raise bad_request("start_date", "start_date and end_date are required when fixed")
    if period in ("moving", "available_moving") and "max_booking_time" not in body:
        max_booking: int | None = 60
    else:
        max_booking = body.get("max_booking_time")
    key = new_uuid(ctx, event_type["uri"], len(ctx.store.shares)).replace("-", "")
    locations = body.get("location_configurations") or [
        {"kind": loc["kind"], "location": loc.get("location"), "position": i}
        for i, loc in enumerate(event_type["locations"] or [])
        if loc["kind"] != "webex_conference"
    ]
    share = {
        "scheduling_links": [
            {
                "booking_url": booking_url(event_type, key),
                "owner": event_type["uri"],
                "owner_type": "EventType",
            }
        ],
        "share_override": {
            "name": body.get("name", event_type["name"] or "Meeting")[:55],
            "duration": duration,
            "duration_options": options,
            "period_type": period,
            "start_date": body.get("start_date"),
            "end_date": body.get("end_date"),
            "max_booking_time": max_booking,
            "hide_location": body.get("hide_location", False),
            "location_configurations": locations,
            "availability_rule": body.get("availability_rule")
            or {"rules": [], "timezone": ctx.store.users[uuid_of(ctx.me)]["timezone"]},
        },
    }
    ctx.store.insert("shares", key, share)
    return Reply(201, resource(share))


# -- data compliance -----------------------------------------------------------------------------
def compliance_admin(ctx: Ctx) -> None:
    ctx.require_plan("enterprise", UPGRADE_ENTERPRISE)
    ctx.require_admin()


def delete_invitee_data(ctx: Ctx) -> Reply:
    compliance_admin(ctx)
    emails = {e.lower() for e in ctx.body["emails"]}
    if not emails:
        raise bad_request("emails", "emails must not be empty")
    store = ctx.store
    doomed = [u for u, inv in store.invitees.items() if inv["email"].lower() in emails]
    remove_invitees(ctx, doomed)
    drop_communications(ctx, lambda comm: comm["to"].lower() in emails)
    record_request(ctx, "invitees", {"emails": sorted(emails), "invitees_removed": len(doomed)})
    return Reply(202, {})


def remove_invitees(ctx: Ctx, uuids: list[str]) -> None:
    """Erase invitees and what points at them; one pass over the other kinds."""
    store = ctx.store
    removed: set[str] = set()
    for inv_uuid in uuids:
        invitee = store.delete("invitees", inv_uuid)
        if invitee is None:
            continue
        removed.add(invitee["uri"])
        if invitee.get("no_show"):
            store.delete("invitee_no_shows", uuid_of(invitee["no_show"]["uri"]))
        event = store.find_by_uri("scheduled_events", invitee["event"])
        if event is not None:
            counter = event["invitees_counter"]
            counter["total"] = max(0, counter["total"] - 1)
            if invitee["status"] == "active":
                counter["active"] = max(0, counter["active"] - 1)
    for submission in store.routing_form_submissions.values():
        if submission["submitter"] in removed:
            submission["submitter"] = None
            submission["submitter_type"] = None


def drop_communications(ctx: Ctx, doomed: Callable[[Resource], bool]) -> None:
    store = ctx.store
    for uuid, comm in list(store.outgoing_communications.items()):
        if doomed(comm):
            store.delete("outgoing_communications", uuid)


def delete_event_data(ctx: Ctx) -> Reply:
    compliance_admin(ctx)
    start, end = parse(ctx.body["start_time"]), parse(ctx.body["end_time"])
    if end <= start:
        raise bad_request("end_time", "end_time must be after start_time")
    if end > ctx.now():
        raise bad_request("end_time", "the range must be in the past")
    if end - start > MAX_DELETION_WINDOW_DAYS * 86_400:
        raise bad_request("end_time", "the range must not exceed 24 months")
    low, high = fmt(start), fmt(end)
    store = ctx.store
    doomed = [u for u, e in store.scheduled_events.items() if low <= e["start_time"] < high]
    remove_invitees(ctx, [i for u in doomed for i in store.invitees_by_event.get(u, [])])
    doomed_uris = {store.scheduled_events[u]["uri"] for u in doomed}
    for uuid in doomed:
        store.delete("scheduled_events", uuid)
    drop_communications(ctx, lambda comm: comm["event_uri"] in doomed_uris)
    record_request(
        ctx, "events", {"start_time": low, "end_time": high, "events_removed": len(doomed)}
    )
    return Reply(202, {})


def record_request(ctx: Ctx, kind: str, detail: dict[str, Any]) -> None:
    log_activity(ctx, "DataCompliance", f"Delete{kind.title()}", detail)
    uuid = new_uuid(ctx, kind, len(ctx.store.data_compliance_requests))
    ctx.store.insert(
        "data_compliance_requests",
        uuid,
        {"kind": kind, "requested_by": ctx.me, "created_at": fmt(ctx.now()), **detail},
    )


# -- webhooks ------------------------------------------------------------------------------------
def create_webhook(ctx: Ctx) -> Reply:
    body, store = ctx.body, ctx.store
    ctx.require_own_org(body["organization"])
    scope = body["scope"]
    user, group = body.get("user"), body.get("group")
    if scope == "user":
        if not user:
            raise bad_request("user", "user is required when scope is user")
        if user != ctx.me:
            ctx.require_admin()
        if store.role_of(user) is None:
            raise ApiError(404, parameter="user", reason=f"user {user} not found")
    elif scope == "group":
        if not group:
            raise bad_request("group", "group is required when scope is group")
        ctx.lookup_uri("groups", group, "group", "group")
        ctx.require_admin()
    else:
        ctx.require_admin()
    events = list(dict.fromkeys(body["events"]))
    if not events:
        raise bad_request("events", "events must not be empty")
    for name in events:
        only = SCOPE_ONLY_EVENTS.get(name)
        if only and only != scope:
            raise bad_request("events", f"{name} is only available with scope {only}")
        for prefix, plan in EVENT_PLAN_PREFIXES.items():
            if name.startswith(prefix):
                ctx.require_plan(plan, UPGRADE_PAID)
    owner = (scope, user if scope == "user" else None, group if scope == "group" else None)
    for hook in store.webhook_subscriptions.values():
        if (
            hook["callback_url"] == body["url"]
            and (hook["scope"], hook["user"], hook["group"]) == owner
        ):
            raise ApiError(409, reason="Hook with this url already exists")
    uuid = new_uuid(ctx, body["url"], scope, user, group)
    hook = resources.webhook_subscription(
        store,
        uuid,
        callback_url=body["url"],
        events=events,
        scope=scope,
        user=owner[1],
        group=owner[2],
        creator=ctx.me,
        created=ctx.now(),
    )
    store.insert("webhook_subscriptions", uuid, hook)
    if body.get("signing_key"):
        store.signing_keys[hook["uri"]] = body["signing_key"]
    log_activity(ctx, "Webhook", "Create", {"callback_url": hook["callback_url"], "scope": scope})
    return Reply(201, resource(hook))


def delete_webhook(ctx: Ctx) -> Reply:
    uuid = ctx.path["webhook_uuid"]
    hook = ctx.lookup("webhook_subscriptions", uuid, "webhook subscription")
    if hook["scope"] != "user" or hook["user"] != ctx.me:
        ctx.require_admin()
    ctx.store.delete("webhook_subscriptions", uuid)
    ctx.store.signing_keys.pop(hook["uri"], None)
    log_activity(ctx, "Webhook", "Delete", {"callback_url": hook["callback_url"]})
    return Reply(204)


# -- booking (Scheduling API) ----------------------------------------------------------------
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
    invitee = resources.invitee(
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
        invitee["tracking"] = {**resources.EMPTY_TRACKING, **body["tracking"]}
    invitee["text_reminder_number"] = person.get("text_reminder_number")
    invitee["scheduling_method"] = "api"
    invitee["invitee_scheduled_by"] = ctx.me
    store.insert("invitees", inv_uuid, invitee)
    resources.attach_invitee(event, invitee)
    for email in guests:
        event["event_guests"].append(
            {
                "email": email,
                "created_at": invitee["created_at"],
                "updated_at": invitee["created_at"],
            }
        )
    event["updated_at"] = invitee["created_at"]
    announce_invitee(ctx, "invitee.created", invitee)
    return Reply(201, resource(invitee))


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
    event = resources.scheduled_event(
        store,
        uuid,
        event_type,
        hosts,
        start,
        ctx.now(),
        # A new Google Meet starts as "processing" under hard realism (no join_url yet).
        resources.event_location(
            kind, location.get("location"), uuid, hard=store.hard, processing=True
        ),
        limit=10 if event_type["kind"] == "group" else 1,
    )
    store.insert("scheduled_events", uuid, event)
    return event


WRITE_ROUTES: tuple[tuple[str, str, Callable[[Ctx], Reply]], ...] = (
    ("POST", "/scheduled_events/{uuid}/cancellation", cancel_event),
    ("POST", "/invitee_no_shows", create_no_show),
    ("DELETE", "/invitee_no_shows/{uuid}", delete_no_show),
    ("POST", "/organizations/{uuid}/invitations", create_invitation),
    ("DELETE", "/organizations/{org_uuid}/invitations/{uuid}", revoke_invitation),
    ("DELETE", "/organization_memberships/{uuid}", remove_membership),
    ("POST", "/scheduling_links", create_scheduling_link),
    ("POST", "/shares", create_share),
    ("POST", "/data_compliance/deletion/invitees", delete_invitee_data),
    ("POST", "/data_compliance/deletion/events", delete_event_data),
    ("POST", "/webhook_subscriptions", create_webhook),
    ("DELETE", "/webhook_subscriptions/{webhook_uuid}", delete_webhook),
    ("POST", "/invitees", book_invitee),
)
