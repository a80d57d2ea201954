"""Conformance cases of the contacts routes, appended to test_conformance's table.

Kept as keyword arguments of `Case` so this module needs nothing from test_conformance.
`POST /contacts/custom_field_definitions` is not in the spec: tests/sandbox/test_contacts.py
covers it without a spec check.
"""

from __future__ import annotations

from typing import Any

from calendly_sandbox import Sandbox
from tests.sandbox.moments import in_days

NOWHERE = "00000000-0000-4000-8000-000000000000"
EVERY_PLAN = "contacts are on every plan since 2026-11-19 and scopes are not modeled"

CONTACT_CANNOT_HAPPEN: dict[str, tuple[set[int], str]] = {
    "GET /contacts": ({403, 404}, f"{EVERY_PLAN}; nothing in the query is looked up"),
    "POST /contacts": ({403, 404}, f"{EVERY_PLAN}; nothing in the body is looked up"),
    "GET /contacts/{uuid}": ({400, 403}, f"{EVERY_PLAN}; only the path can be wrong: 404"),
    "PATCH /contacts/{uuid}": ({403}, EVERY_PLAN),
    "DELETE /contacts/{uuid}": ({400, 403}, f"{EVERY_PLAN}; only the path can be wrong: 404"),
    "GET /contacts/custom_field_definitions": ({400, 403, 404}, f"{EVERY_PLAN}; no parameters"),
    "GET /contacts/custom_field_definitions/{uuid}": (
        {400, 403},
        f"{EVERY_PLAN}; only the path can be wrong: 404",
    ),
}


def nth_contact(sb: Sandbox, n: int) -> str:
    return sorted(sb.store.contacts)[n]


def email_of(sb: Sandbox, n: int) -> str:
    return str(sb.store.contacts[nth_contact(sb, n)]["emails"][0]["email"])


def a_definition(sb: Sandbox) -> str:
    return sorted(sb.store.contact_custom_field_definitions)[0]


def new_contact(email: str) -> dict[str, Any]:
    return {"name": "Conformance", "emails": [{"email": email, "is_primary": True}]}


CONTACT_CASES: list[dict[str, Any]] = [
    {"name": "contacts", "method": "GET", "path": lambda sb: "/contacts", "status": 200},
    {
        "name": "contacts by email, newest change first, without custom fields",
        "method": "GET",
        "path": lambda sb: "/contacts",
        "status": 200,
        "params": lambda sb: {
            "email": email_of(sb, 0).upper(),
            "sort": "updated_at:desc",
            "exclude": "custom_fields",
        },
    },
    {
        "name": "contacts count over 100",
        "method": "GET",
        "path": lambda sb: "/contacts",
        "status": 400,
        "params": lambda sb: {"count": 101},
    },
    {
        "name": "contact",
        "method": "GET",
        "path": lambda sb: f"/contacts/{nth_contact(sb, 0)}",
        "status": 200,
    },
    {
        "name": "contact unknown",
        "method": "GET",
        "path": lambda sb: f"/contacts/{NOWHERE}",
        "status": 404,
    },
    {
        "name": "create contact",
        "method": "POST",
        "path": lambda sb: "/contacts",
        "status": 201,
        "body": lambda sb: new_contact("conformance@example.com"),
    },
    {
        "name": "create contact without emails",
        "method": "POST",
        "path": lambda sb: "/contacts",
        "status": 400,
        "body": lambda sb: {"name": "No Email"},
    },
    {
        "name": "create contact whose email another has",
        "method": "POST",
        "path": lambda sb: "/contacts",
        "status": 409,
        "body": lambda sb: new_contact(email_of(sb, 1).upper()),
    },
    {
        "name": "patch contact",
        "method": "PATCH",
        "path": lambda sb: f"/contacts/{nth_contact(sb, 1)}",
        "status": 200,
        "body": lambda sb: {"company": "Conformance Ltd", "phone_numbers": []},
    },
    {
        "name": "patch contact with an unknown key",
        "method": "PATCH",
        "path": lambda sb: f"/contacts/{nth_contact(sb, 1)}",
        "status": 400,
        "body": lambda sb: {"favourite_colour": "green"},
    },
    {
        "name": "patch contact onto another's email",
        "method": "PATCH",
        "path": lambda sb: f"/contacts/{nth_contact(sb, 1)}",
        "status": 409,
        "body": lambda sb: {"emails": [{"email": email_of(sb, 2), "is_primary": True}]},
    },
    {
        "name": "patch contact unknown",
        "method": "PATCH",
        "path": lambda sb: f"/contacts/{NOWHERE}",
        "status": 404,
        "body": lambda sb: {"company": "Nobody"},
    },
    {
        "name": "delete contact",
        "method": "DELETE",
        "path": lambda sb: f"/contacts/{nth_contact(sb, 3)}",
        "status": 204,
    },
    {
        "name": "delete contact unknown",
        "method": "DELETE",
        "path": lambda sb: f"/contacts/{NOWHERE}",
        "status": 404,
    },
    {
        "name": "contact custom field definitions",
        "method": "GET",
        "path": lambda sb: "/contacts/custom_field_definitions",
        "status": 200,
    },
    {
        "name": "contact custom field definition",
        "method": "GET",
        "path": lambda sb: f"/contacts/custom_field_definitions/{a_definition(sb)}",
        "status": 200,
    },
    {
        "name": "contact custom field definition unknown",
        "method": "GET",
        "path": lambda sb: f"/contacts/custom_field_definitions/{NOWHERE}",
        "status": 404,
    },
]


# -- event type writes and event type availability (calendly_sandbox/resources/event_types.py)
def owner_uri(sb: Sandbox) -> str:
    return str(sb.store.current_user["uri"])


def own_solo_type(sb: Sandbox) -> dict[str, Any]:
    return next(
        t
        for _, t in sorted(sb.store.event_types.items())
        if t["kind"] == "solo"
        and not t["pooling_type"]
        and not t["deleted_at"]
        and t["profile"]["owner"] == owner_uri(sb)
    )


def others_solo_type(sb: Sandbox) -> dict[str, Any]:
    member = sb.member["user"]["uri"]
    return next(
        t
        for _, t in sorted(sb.store.event_types.items())
        if t["kind"] == "solo" and not t["pooling_type"] and t["profile"]["owner"] != member
    )


def pooled_type(sb: Sandbox) -> dict[str, Any]:
    return next(
        t
        for _, t in sorted(sb.store.event_types.items())
        if t["pooling_type"] and not t["deleted_at"]
    )


def week(start: str = "09:00") -> list[dict[str, Any]]:
    days = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
    return [
        {"type": "wday", "wday": d, "intervals": [{"from": start, "to": "17:00"}]} for d in days
    ]


EVENT_TYPE_CANNOT_HAPPEN: dict[str, tuple[set[int], str]] = {
    "GET /event_type_availability_schedules": (
        {403},
        "any member may read an event type's schedule",
    ),
}

EVENT_TYPE_CASES: list[dict[str, Any]] = [
    {
        "name": "create event type",
        "method": "POST",
        "path": lambda sb: "/event_types",
        "status": 201,
        "body": lambda sb: {"owner": owner_uri(sb), "name": "Conformance call", "duration": 25},
    },
    {
        "name": "create event type without a name",
        "method": "POST",
        "path": lambda sb: "/event_types",
        "status": 400,
        "body": lambda sb: {"owner": owner_uri(sb)},
    },
    {
        "name": "create event type for another user as a member",
        "method": "POST",
        "path": lambda sb: "/event_types",
        "status": 403,
        "body": lambda sb: {"owner": owner_uri(sb), "name": "Not mine"},
        "who": "member",
    },
    {
        "name": "create event type for an unknown user",
        "method": "POST",
        "path": lambda sb: "/event_types",
        "status": 404,
        "body": lambda sb: {"owner": f"{sb.base_url}/users/{NOWHERE}", "name": "Nobody's"},
    },
    {
        "name": "update event type",
        "method": "PATCH",
        "path": lambda sb: f"/event_types/{own_solo_type(sb)['uri'].rsplit('/', 1)[-1]}",
        "status": 200,
        "body": lambda sb: {"duration": 50, "description": "Updated by conformance"},
    },
    {
        "name": "update a pooled event type",
        "method": "PATCH",
        "path": lambda sb: f"/event_types/{pooled_type(sb)['uri'].rsplit('/', 1)[-1]}",
        "status": 400,
        "body": lambda sb: {"duration": 50},
    },
    {
        "name": "update another's event type as a member",
        "method": "PATCH",
        "path": lambda sb: f"/event_types/{others_solo_type(sb)['uri'].rsplit('/', 1)[-1]}",
        "status": 403,
        "body": lambda sb: {"duration": 50},
        "who": "member",
    },
    {
        "name": "update unknown event type",
        "method": "PATCH",
        "path": lambda sb: f"/event_types/{NOWHERE}",
        "status": 404,
        "body": lambda sb: {"duration": 50},
    },
    {
        "name": "create one-off event type",
        "method": "POST",
        "path": lambda sb: "/one_off_event_types",
        "status": 201,
        "body": lambda sb: {
            "name": "Board review",
            "host": owner_uri(sb),
            "duration": 45,
            "date_setting": {"type": "days_in_future", "days": 14, "only_weekdays": True},
            "location": {"kind": "zoom_conference"},
        },
    },
    {
        "name": "create one-off event type without a date setting",
        "method": "POST",
        "path": lambda sb: "/one_off_event_types",
        "status": 400,
        "body": lambda sb: {"name": "Board review", "host": owner_uri(sb), "duration": 45},
    },
    {
        "name": "create one-off event type for another host as a member",
        "method": "POST",
        "path": lambda sb: "/one_off_event_types",
        "status": 403,
        "body": lambda sb: {
            "name": "Not mine",
            "host": owner_uri(sb),
            "duration": 30,
            "date_setting": {"type": "days_in_future", "days": 3, "only_weekdays": False},
        },
        "who": "member",
    },
    {
        "name": "create one-off event type for an unknown host",
        "method": "POST",
        "path": lambda sb: "/one_off_event_types",
        "status": 404,
        "body": lambda sb: {
            "name": "Nobody's",
            "host": f"{sb.base_url}/users/{NOWHERE}",
            "duration": 30,
            "date_setting": {"type": "days_in_future", "days": 3, "only_weekdays": False},
        },
    },
    {
        "name": "event type availability",
        "method": "GET",
        "path": lambda sb: "/event_type_availability_schedules",
        "status": 200,
        "params": lambda sb: {"event_type": own_solo_type(sb)["uri"]},
    },
    {
        "name": "event type availability without event_type",
        "method": "GET",
        "path": lambda sb: "/event_type_availability_schedules",
        "status": 400,
    },
    {
        "name": "event type availability of an unknown type",
        "method": "GET",
        "path": lambda sb: "/event_type_availability_schedules",
        "status": 404,
        "params": lambda sb: {"event_type": f"{sb.base_url}/event_types/{NOWHERE}"},
    },
    {
        "name": "replace event type availability",
        "method": "PATCH",
        "path": lambda sb: "/event_type_availability_schedules",
        "status": 200,
        "params": lambda sb: {"event_type": own_solo_type(sb)["uri"]},
        "body": lambda sb: {"availability_rule": {"timezone": "Europe/Oslo", "rules": week()}},
    },
    {
        "name": "replace event type availability with a backwards interval",
        "method": "PATCH",
        "path": lambda sb: "/event_type_availability_schedules",
        "status": 400,
        "params": lambda sb: {"event_type": own_solo_type(sb)["uri"]},
        "body": lambda sb: {"availability_rule": {"timezone": "UTC", "rules": week("18:00")}},
    },
    {
        "name": "replace another's event type availability as a member",
        "method": "PATCH",
        "path": lambda sb: "/event_type_availability_schedules",
        "status": 403,
        "params": lambda sb: {"event_type": others_solo_type(sb)["uri"]},
        "body": lambda sb: {"availability_rule": {"timezone": "UTC", "rules": week()}},
        "who": "member",
    },
    {
        "name": "replace availability of an unknown type",
        "method": "PATCH",
        "path": lambda sb: "/event_type_availability_schedules",
        "status": 404,
        "params": lambda sb: {"event_type": f"{sb.base_url}/event_types/{NOWHERE}"},
        "body": lambda sb: {"availability_rule": {"timezone": "UTC", "rules": week()}},
    },
]


# -- recaps, teams, locations, available and busy times (calendly_sandbox/resources/)
ON_FREE = "answered on a Free plan: tests/sandbox/test_more_reads.py checks it against the spec"
RATE_LIMIT = "the rate limit is the same on every route: checked on /users/me in this module"

MORE_READ_CANNOT_HAPPEN: dict[str, tuple[set[int], str]] = {
    "GET /meeting_recaps": ({403, 404}, f"403 {ON_FREE}; nothing in the query is looked up"),
    "GET /meeting_recaps/{uuid}": ({400, 403}, f"403 {ON_FREE}; only the path can be wrong"),
    "GET /meeting_recaps/{uuid}/transcript": ({400, 403}, f"403 {ON_FREE}; path only"),
    "PATCH /meeting_recaps/{uuid}": ({403}, ON_FREE),
    "DELETE /meeting_recaps/{uuid}": ({400, 403}, f"403 {ON_FREE}; only the path can be wrong"),
    "GET /teams": ({429}, RATE_LIMIT),
    "GET /teams/{team_uuid}": ({400, 403, 429}, f"any member may read teams; {RATE_LIMIT}"),
    "GET /event_type_available_times": ({403}, "any member may read an event type's times"),
    "GET /user_busy_times": ({424}, "no external calendar is connected in the sandbox"),
}


def a_visible_recap(sb: Sandbox, status: str = "available") -> str:
    me = owner_uri(sb)
    return next(
        u
        for u, r in sorted(sb.store.meeting_recaps.items())
        if r["status"] == status and me in sb.store.meeting_recap_hosts[u]
    )


def removed_user_uri(sb: Sandbox) -> str:
    return next(u["uri"] for u in sb.store.users.values() if sb.store.role_of(u["uri"]) is None)


MORE_READ_CASES: list[dict[str, Any]] = [
    {"name": "recaps", "method": "GET", "path": lambda sb: "/meeting_recaps", "status": 200},
    {
        "name": "processing recaps",
        "method": "GET",
        "path": lambda sb: "/meeting_recaps",
        "status": 200,
        "params": lambda sb: {"status": "processing", "start_time": in_days(-400)},
    },
    {
        "name": "recaps with a bad status",
        "method": "GET",
        "path": lambda sb: "/meeting_recaps",
        "status": 400,
        "params": lambda sb: {"status": "done"},
    },
    {
        "name": "recap",
        "method": "GET",
        "path": lambda sb: f"/meeting_recaps/{a_visible_recap(sb)}",
        "status": 200,
    },
    {
        "name": "recap unknown",
        "method": "GET",
        "path": lambda sb: f"/meeting_recaps/{NOWHERE}",
        "status": 404,
    },
    {
        "name": "transcript",
        "method": "GET",
        "path": lambda sb: f"/meeting_recaps/{a_visible_recap(sb)}/transcript",
        "status": 200,
    },
    {
        "name": "transcript of a processing recap",
        "method": "GET",
        "path": lambda sb: f"/meeting_recaps/{a_visible_recap(sb, 'processing')}/transcript",
        "status": 404,
    },
    {
        "name": "patch recap",
        "method": "PATCH",
        "path": lambda sb: f"/meeting_recaps/{a_visible_recap(sb)}",
        "status": 200,
        "body": lambda sb: {"summary_md": "## Edited", "action_items_md": None},
    },
    {
        "name": "patch recap with an unknown key",
        "method": "PATCH",
        "path": lambda sb: f"/meeting_recaps/{a_visible_recap(sb)}",
        "status": 400,
        "body": lambda sb: {"title": "x"},
    },
    {
        "name": "patch recap unknown",
        "method": "PATCH",
        "path": lambda sb: f"/meeting_recaps/{NOWHERE}",
        "status": 404,
        "body": lambda sb: {"summary_md": "x"},
    },
    {
        "name": "delete recap",
        "method": "DELETE",
        "path": lambda sb: f"/meeting_recaps/{a_visible_recap(sb, 'unavailable')}",
        "status": 204,
    },
    {
        "name": "delete recap unknown",
        "method": "DELETE",
        "path": lambda sb: f"/meeting_recaps/{NOWHERE}",
        "status": 404,
    },
    {"name": "teams", "method": "GET", "path": lambda sb: "/teams", "status": 200},
    {
        "name": "teams of a user",
        "method": "GET",
        "path": lambda sb: "/teams",
        "status": 200,
        "params": lambda sb: {"user": owner_uri(sb)},
    },
    {
        "name": "teams count over 100",
        "method": "GET",
        "path": lambda sb: "/teams",
        "status": 400,
        "params": lambda sb: {"count": 101},
    },
    {
        "name": "teams of a removed user",
        "method": "GET",
        "path": lambda sb: "/teams",
        "status": 403,
        "params": lambda sb: {"user": removed_user_uri(sb)},
    },
    {
        "name": "teams of an unknown user",
        "method": "GET",
        "path": lambda sb: "/teams",
        "status": 404,
        "params": lambda sb: {"user": f"{sb.base_url}/users/{NOWHERE}"},
    },
    {
        "name": "team",
        "method": "GET",
        "path": lambda sb: f"/teams/{sorted(sb.store.teams)[0]}",
        "status": 200,
    },
    {
        "name": "team unknown",
        "method": "GET",
        "path": lambda sb: f"/teams/{NOWHERE}",
        "status": 404,
    },
    {
        "name": "locations",
        "method": "GET",
        "path": lambda sb: "/locations",
        "status": 200,
        "params": lambda sb: {"user": owner_uri(sb)},
    },
    {
        "name": "locations without user",
        "method": "GET",
        "path": lambda sb: "/locations",
        "status": 400,
    },
    {
        "name": "locations of another user as a member",
        "method": "GET",
        "path": lambda sb: "/locations",
        "status": 403,
        "params": lambda sb: {"user": owner_uri(sb)},
        "who": "member",
    },
    {
        "name": "locations of an unknown user",
        "method": "GET",
        "path": lambda sb: "/locations",
        "status": 404,
        "params": lambda sb: {"user": f"{sb.base_url}/users/{NOWHERE}"},
    },
    {
        "name": "available times",
        "method": "GET",
        "path": lambda sb: "/event_type_available_times",
        "status": 200,
        "params": lambda sb: {
            "event_type": own_solo_type(sb)["uri"],
            "start_time": in_days(0.01),
            "end_time": in_days(31),
        },
    },
    {
        "name": "available times over 31 days",
        "method": "GET",
        "path": lambda sb: "/event_type_available_times",
        "status": 400,
        "params": lambda sb: {
            "event_type": own_solo_type(sb)["uri"],
            "start_time": in_days(0.01),
            "end_time": in_days(32),
        },
    },
    {
        "name": "available times of an unknown type",
        "method": "GET",
        "path": lambda sb: "/event_type_available_times",
        "status": 404,
        "params": lambda sb: {
            "event_type": f"{sb.base_url}/event_types/{NOWHERE}",
            "start_time": in_days(0.01),
            "end_time": in_days(3),
        },
    },
    {
        "name": "busy times",
        "method": "GET",
        "path": lambda sb: "/user_busy_times",
        "status": 200,
        "params": lambda sb: {
            "user": owner_uri(sb),
            "start_time": in_days(0.01),
            "end_time": in_days(7),
        },
    },
    {
        "name": "busy times from the past",
        "method": "GET",
        "path": lambda sb: "/user_busy_times",
        "status": 400,
        "params": lambda sb: {
            "user": owner_uri(sb),
            "start_time": in_days(-1),
            "end_time": in_days(3),
        },
    },
    {
        "name": "busy times of another user as a member",
        "method": "GET",
        "path": lambda sb: "/user_busy_times",
        "status": 403,
        "params": lambda sb: {
            "user": owner_uri(sb),
            "start_time": in_days(0.01),
            "end_time": in_days(3),
        },
        "who": "member",
    },
    {
        "name": "busy times of an unknown user",
        "method": "GET",
        "path": lambda sb: "/user_busy_times",
        "status": 404,
        "params": lambda sb: {
            "user": f"{sb.base_url}/users/{NOWHERE}",
            "start_time": in_days(0.01),
            "end_time": in_days(3),
        },
    },
]
