"""Event types: reads, writes (the spec's POST/PATCH /event_types, POST /one_off_event_types),
event type memberships, event type availability (GET/PATCH /event_type_availability_schedules),
and the links that book them (scheduling links, shares).

As the spec says, only one-on-one (solo, not pooled) event types are created or updated; a PATCH
of any other answers 400. Only the owner or an organization admin may change an event type.
An event type's availability starts as a copy of its owner's default schedule; a PATCH replaces
its rules whole (rules left out are gone, the case hardest for a client). One-off event types
are kept with the organization's event types (type `AdhocEventType`): they are listed and
readable like the others.
"""

from __future__ import annotations

import re
from typing import Any

from calendly_sandbox.app import (
    CREATED_ASC,
    Ctx,
    Predicate,
    Reply,
    Routes,
    all_of,
    field_is,
    new_uuid,
    page,
    resource,
)
from calendly_sandbox.errors import FORBIDDEN, ApiError, bad_request
from calendly_sandbox.names import slugify
from calendly_sandbox.resources.organization import org_member
from calendly_sandbox.store import Resource, uuid_of
from calendly_sandbox.timefmt import fmt

SOLO_ONLY = "Currently, this endpoint only supports one-on-one event types (kind: solo)"
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def list_event_types(ctx: Ctx) -> Any:
    org, user = ctx.params.get("organization"), ctx.params.get("user")
    if not org and not user:
        raise bad_request("organization", "Pass organization or user")
    ctx.require_own_org(org)
    store, table = ctx.store, ctx.store.event_types
    hosted: Predicate | None = None
    if user:
        org_member(ctx, user)
        hosted = lambda u: user in store.event_type_hosts.get(table[u]["uri"], ())  # noqa: E731
    schedule = ctx.params.get("user_availability_schedule")
    if schedule:
        owner = store.find_by_uri("user_availability_schedules", schedule)
        if not user or owner is None or owner["user"] != user:
            hosted = lambda u: False  # noqa: E731
    return page(
        ctx,
        "event_types",
        ctx.sort_order("name:asc"),
        all_of(
            hosted,
            field_is(table, "active", ctx.params.get("active")),
            field_is(table, "admin_managed", ctx.params.get("admin_managed")),
        ),
    )


def get_event_type(ctx: Ctx) -> Any:
    return resource(ctx.lookup("event_types", ctx.path["uuid"], "event type"))


def list_event_type_memberships(ctx: Ctx) -> Any:
    event_type = ctx.lookup_uri("event_types", ctx.params["event_type"], "event type", "event_type")
    table = ctx.store.event_type_memberships
    return page(
        ctx,
        "event_type_memberships",
        CREATED_ASC,
        lambda u: table[u]["event_type"]["uri"] == event_type["uri"],
    )


def _owner(ctx: Ctx, uri: str, parameter: str) -> Resource:
    user = ctx.lookup_uri("users", uri, "user", parameter)
    if ctx.store.role_of(user["uri"]) is None:
        raise ApiError(403, "This user is not in your organization")
    if user["uri"] != ctx.me:
        ctx.require_admin()
    return user


def _description(body: dict[str, Any], event_type: Resource) -> None:
    if "description" in body:
        text = body["description"]
        event_type["description_plain"] = text
        event_type["description_html"] = f"<p>{text}</p>" if text else None


def _announce(ctx: Ctx, event: str, event_type: Resource) -> None:
    ctx.store.announce(event, dict(event_type), [event_type["profile"]["owner"]])


def _new_event_type(ctx: Ctx, owner: Resource, name: str, kind: str) -> Resource:
    store = ctx.store
    uuid = new_uuid(ctx, owner["uri"], name, kind)
    now = fmt(ctx.now())
    slug = f"{slugify(name, 'meeting')}-{uuid[:4]}"
    event_type: Resource = {
        "active": True,
        "admin_managed": False,
        "booking_method": "instant",
        "color": "#8247f5",
        "created_at": now,
        "custom_questions": [],
        "deleted_at": None,
        "description_html": None,
        "description_plain": None,
        "duration": 30,
        "duration_options": None,
        "internal_note": None,
        "is_paid": False,
        "kind": "solo",
        "locale": "en",
        "locations": None,
        "name": name,
        "pooling_type": None,
        "position": len(store.event_types),
        "profile": {"type": "User", "name": owner["name"], "owner": owner["uri"]},
        "scheduling_url": f"https://calendly.com/{owner['slug']}/{slug}",
        "secret": kind == "AdhocEventType",
        "slug": slug,
        "type": kind,
        "updated_at": now,
        "uri": store.uri("event_types", uuid),
    }
    store.insert("event_types", uuid, event_type)
    membership = new_uuid(ctx, event_type["uri"], "host")
    store.insert(
        "event_type_memberships",
        membership,
        {
            "uri": store.uri("event_type_memberships", membership),
            "event_type": event_type,
            "member": owner,
            "created_at": now,
            "updated_at": now,
        },
    )
    return event_type


def _apply(ctx: Ctx, event_type: Resource, body: dict[str, Any]) -> None:
    for name in ("name", "active", "color", "duration", "locale"):
        if name in body:
            event_type[name] = body[name]
    if "duration_options" in body:
        options = body["duration_options"]
        duration = body.get("duration", event_type["duration"])
        if options and duration not in options:
            raise bad_request("duration", "duration must be one of duration_options")
        event_type["duration_options"] = options or None
    if "locations" in body:
        event_type["locations"] = [
            {k: v for k, v in loc.items() if k in ("kind", "location", "additional_info")}
            | ({"phone_number": loc["phone_number"]} if "phone_number" in loc else {})
            for loc in body["locations"]
        ] or None
    _description(body, event_type)
    event_type["updated_at"] = fmt(ctx.now())
    ctx.store.changed("event_types")


def create_event_type(ctx: Ctx) -> Reply:
    owner = _owner(ctx, ctx.body["owner"], "owner")
    name = ctx.body["name"].strip()
    if not name:
        raise bad_request("name", "name must not be empty")
    event_type = _new_event_type(ctx, owner, name, "StandardEventType")
    _apply(ctx, event_type, ctx.body)
    _announce(ctx, "event_type.created", event_type)
    return Reply(201, resource(event_type))


def update_event_type(ctx: Ctx) -> Any:
    event_type = ctx.lookup("event_types", ctx.path["uuid"], "event type")
    if event_type["deleted_at"] is not None:
        raise ApiError(404, reason="event type was deleted")
    if event_type["profile"]["owner"] != ctx.me:
        ctx.require_admin(FORBIDDEN)
    if event_type["kind"] != "solo" or event_type["pooling_type"]:
        raise bad_request("uuid", SOLO_ONLY)
    if not ctx.body:
        raise bad_request("body", "the body must include at least one field")
    _apply(ctx, event_type, ctx.body)
    _announce(ctx, "event_type.updated", event_type)
    return resource(event_type)


def create_one_off(ctx: Ctx) -> Reply:
    body = ctx.body
    host = _owner(ctx, body["host"], "host")
    for index, co_host in enumerate(body.get("co_hosts") or []):
        ctx.lookup_uri("users", co_host, "user", f"co_hosts[{index}]")
        if ctx.store.role_of(co_host) is None:
            raise ApiError(403, "This user is not in your organization")
    setting = body["date_setting"]
    if setting["type"] == "date_range" and setting["end_date"] < setting["start_date"]:
        raise bad_request("date_setting.end_date", "end_date must not be before start_date")
    event_type = _new_event_type(ctx, host, body["name"].strip() or "Meeting", "AdhocEventType")
    event_type["duration"] = int(body["duration"])
    location = body.get("location")
    event_type["locations"] = [dict(location)] if location else None
    _announce(ctx, "event_type.created", event_type)
    return Reply(201, resource(event_type))


def schedule_of(ctx: Ctx, event_type: Resource) -> Resource:
    """The event type's schedule, first made from its owner's default user schedule."""
    table = ctx.store.event_type_availability_schedules
    uuid = uuid_of(event_type["uri"])
    if uuid not in table:
        owner = event_type["profile"]["owner"]
        user_schedules = [
            s for s in ctx.store.user_availability_schedules.values() if s["user"] == owner
        ]
        default = min(user_schedules, key=lambda s: (not s["default"], s["uri"]), default=None)
        user = ctx.store.users.get(uuid_of(owner), {})
        table[uuid] = {
            "event_type": event_type["uri"],
            "availability_setting": "host",
            "availability_rule": {
                "timezone": default["timezone"] if default else user.get("timezone", "UTC"),
                "uri": default["uri"] if default else None,
                "name": default["name"] if default else None,
                "user": owner,
                "rules": [dict(rule) for rule in default["rules"]] if default else [],
            },
        }
        if table[uuid]["availability_rule"]["uri"] is None:
            del table[uuid]["availability_rule"]["uri"]
    return table[uuid]


def get_event_type_availability(ctx: Ctx) -> Any:
    event_type = ctx.lookup_uri("event_types", ctx.params["event_type"], "event type", "event_type")
    schedule = schedule_of(ctx, event_type)
    return {
        "collection": [schedule],
        "pagination": {
            "count": 1,
            "next_page": None,
            "previous_page": None,
            "next_page_token": None,
            "previous_page_token": None,
        },
    }


def update_event_type_availability(ctx: Ctx) -> Any:
    event_type = ctx.lookup_uri("event_types", ctx.params["event_type"], "event type", "event_type")
    if event_type["profile"]["owner"] != ctx.me:
        ctx.require_admin(FORBIDDEN)
    rule = ctx.body["availability_rule"]
    rules = rule.get("rules") or []
    for index, item in enumerate(rules):
        where = f"availability_rule.rules[{index}]"
        if item["type"] == "wday" and item.get("wday") not in WEEKDAYS:
            raise bad_request(f"{where}.wday", "a wday rule names its weekday")
        if item["type"] == "date" and not item.get("date"):
            raise bad_request(f"{where}.date", "a date rule names its date")
        for n, interval in enumerate(item["intervals"]):
            start, end = interval.get("from", ""), interval.get("to", "")
            if not (HHMM.match(start) and HHMM.match(end)) or start >= end:
                raise bad_request(
                    f"{where}.intervals[{n}]", "intervals run from HH:MM to a later HH:MM"
                )
    schedule = schedule_of(ctx, event_type)
    schedule["availability_rule"] = {
        **{k: v for k, v in schedule["availability_rule"].items() if k in ("uri", "name", "user")},
        "timezone": rule["timezone"],
        "rules": [
            {k: item[k] for k in ("type", "wday", "date", "intervals") if k in item}
            for item in rules
        ],
    }
    schedule["availability_setting"] = ctx.body.get("availability_setting", "host")
    event_type["updated_at"] = fmt(ctx.now())
    ctx.store.changed("event_types")
    _announce(ctx, "event_type.updated", event_type)
    return resource(schedule)


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


ROUTES: Routes = (
    ("GET", "/event_types", list_event_types),
    ("GET", "/event_types/{uuid}", get_event_type),
    ("POST", "/event_types", create_event_type),
    ("PATCH", "/event_types/{uuid}", update_event_type),
    ("POST", "/one_off_event_types", create_one_off),
    ("GET", "/event_type_memberships", list_event_type_memberships),
    ("GET", "/event_type_availability_schedules", get_event_type_availability),
    ("PATCH", "/event_type_availability_schedules", update_event_type_availability),
    ("POST", "/scheduling_links", create_scheduling_link),
    ("POST", "/shares", create_share),
)
