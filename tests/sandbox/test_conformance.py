"""Conformance table: every route the sandbox serves, its success and each documented error it
can send, validated against the spec. The last test proves the table covers every route.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from calendly_sandbox import Sandbox, facts
from calendly_sandbox.server import ROUTES, match
from calendly_sandbox.store import uuid_of
from calendly_sandbox.timefmt import fmt
from tests.sandbox.conftest import OwnSandbox
from tests.sandbox.contact_cases import (
    CONTACT_CANNOT_HAPPEN,
    CONTACT_CASES,
    EVENT_TYPE_CANNOT_HAPPEN,
    EVENT_TYPE_CASES,
    MORE_READ_CANNOT_HAPPEN,
    MORE_READ_CASES,
)
from tests.sandbox.moments import slot
from tests.sandbox.spec_check import SpecChecker, checked_session

NOWHERE = "00000000-0000-4000-8000-000000000000"
# Documented statuses this sandbox has no way to produce for an operation, and why.
SINGLE_ORG = "the sandbox has one organization; a foreign one answers 403, never 404"
CANNOT_HAPPEN: dict[str, tuple[set[int], str]] = {
    "GET /users/me": ({403, 404}, "the token's own user always exists and is readable"),
    "GET /organizations/{uuid}": ({400, 403}, SINGLE_ORG),
    "GET /organization_memberships": ({404}, SINGLE_ORG),
    "GET /routing_forms": ({404}, SINGLE_ORG),
    "GET /activity_log_entries": ({404}, SINGLE_ORG),
    "GET /outgoing_communications": ({404}, SINGLE_ORG),
    "GET /groups": ({404}, SINGLE_ORG),
    "GET /organization_memberships/{uuid}": ({400, 403}, "any member may read memberships"),
    "GET /organizations/{org_uuid}/invitations/{uuid}": ({400}, "only the path can be wrong: 404"),
    "GET /event_types/{uuid}": ({400, 403}, "any member may read event types"),
    "GET /event_type_memberships": ({403}, "any member may read event type hosts"),
    "GET /scheduled_events/{event_uuid}/invitees/{invitee_uuid}": ({400}, "path only: 404"),
    "GET /invitee_no_shows/{uuid}": ({400}, "only the path can be wrong: 404"),
    "GET /routing_forms/{uuid}": ({400, 403}, "any member may read routing forms"),
    "GET /routing_form_submissions": ({403}, "any member may read routing form submissions"),
    "GET /routing_form_submissions/{uuid}": ({400, 403}, "any member may read submissions"),
    "GET /groups/{uuid}": ({403}, "any member may read groups"),
    "GET /group_relationships/{uuid}": ({400, 403}, "any member may read group relationships"),
    "GET /user_availability_schedules/{uuid}": ({400, 403}, "any member may read schedules"),
    "DELETE /organization_memberships/{uuid}": ({400}, "only the path can be wrong: 404"),
    "POST /data_compliance/deletion/invitees": ({404}, "nothing in the request is looked up"),
    "POST /data_compliance/deletion/events": ({404}, "nothing in the request is looked up"),
    "POST /invitees": ({403}, "every plan may book since 2026-11-03; scopes are not modeled"),
}
CANNOT_HAPPEN.update(CONTACT_CANNOT_HAPPEN | EVENT_TYPE_CANNOT_HAPPEN | MORE_READ_CANNOT_HAPPEN)
OBSERVED: set[tuple[str, int]] = set()


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[Sandbox], str]
    status: int
    params: Callable[[Sandbox], dict[str, Any]] = lambda sb: {}
    body: Callable[[Sandbox], Any] = lambda sb: None
    who: str = "owner"  # owner | member | none | bad


def org(sb: Sandbox) -> str:
    return sb.store.organization["uri"]


def org_uuid(sb: Sandbox) -> str:
    return uuid_of(org(sb))


def first(sb: Sandbox, kind: str, test: Callable[[dict[str, Any]], bool] = lambda r: True) -> str:
    return next(u for u, r in sb.store.kind(kind).items() if test(r))


def future_event(sb: Sandbox) -> str:
    now = fmt(time.time() + 3600)
    return first(
        sb, "scheduled_events", lambda e: e["status"] == "active" and e["start_time"] > now
    )


def past_event(sb: Sandbox) -> str:
    now = fmt(time.time())
    return first(
        sb, "scheduled_events", lambda e: e["status"] == "active" and e["start_time"] < now
    )


def canceled_event(sb: Sandbox) -> str:
    return first(sb, "scheduled_events", lambda e: e["status"] == "canceled")


def an_invitee(sb: Sandbox, *, not_hosted_by: str | None = None) -> tuple[str, str]:
    def fits(invitee: dict[str, Any]) -> bool:
        hosts = sb.store.event_hosts[uuid_of(invitee["event"])]
        return (
            invitee.get("no_show") is None
            and invitee["status"] == "active"
            and (not_hosted_by is None or not_hosted_by not in hosts)
        )

    uuid = first(sb, "invitees", fits)
    return uuid_of(sb.store.invitees[uuid]["event"]), uuid


def solo_type(sb: Sandbox) -> str:
    return sb.store.event_types[
        first(
            sb,
            "event_types",
            lambda t: t["kind"] == "solo" and t["active"] and not t["pooling_type"],
        )
    ]["uri"]


def plain_member(sb: Sandbox) -> str:
    return first(
        sb,
        "organization_memberships",
        lambda m: m["role"] == "user" and m["uri"] != sb.member["uri"],
    )


def others_event(sb: Sandbox) -> str:
    """An event with invitees that the plain member (member_token) does not host."""
    member = sb.member["user"]["uri"]
    return next(
        u
        for u, hosts in sb.store.event_hosts.items()
        if member not in hosts and sb.store.invitees_by_event.get(u)
    )


def others_no_show(sb: Sandbox) -> str:
    member = sb.member["user"]["uri"]
    return next(
        u
        for u, ns in sb.store.invitee_no_shows.items()
        if member not in sb.store.event_hosts[uuid_of(ns["invitee"].split("/invitees/")[0])]
    )


def removed_user(sb: Sandbox) -> str:
    return next(u for u, user in sb.store.users.items() if sb.store.role_of(user["uri"]) is None)


def owner_membership(sb: Sandbox) -> str:
    return first(sb, "organization_memberships", lambda m: m["role"] == "owner")


def hook_body(sb: Sandbox) -> dict[str, Any]:
    return {
        "url": "https://hooks.example.org/conformance",
        "events": ["invitee.created"],
        "organization": org(sb),
        "scope": "organization",
    }


def booking(sb: Sandbox, days: float = 4.2) -> dict[str, Any]:
    return {
        "event_type": solo_type(sb),
        "start_time": slot(days),
        "invitee": {"name": "Ægir Þór", "email": "aegir@example.is", "timezone": "UTC"},
    }


def no_show_of_invitee(sb: Sandbox) -> str:
    return first(sb, "invitee_no_shows")


ORG_Q = lambda sb: {"organization": org(sb)}  # noqa: E731

CASES: list[Case] = [
    # -- reads: success ------------------------------------------------------------------------
    Case("me", "GET", lambda sb: "/users/me", 200),
    Case("user", "GET", lambda sb: f"/users/{first(sb, 'users')}", 200),
    Case("organization", "GET", lambda sb: f"/organizations/{org_uuid(sb)}", 200),
    Case("memberships", "GET", lambda sb: "/organization_memberships", 200, ORG_Q),
    Case("membership", "GET", lambda sb: f"/organization_memberships/{owner_membership(sb)}", 200),
    Case("invitations", "GET", lambda sb: f"/organizations/{org_uuid(sb)}/invitations", 200),
    Case(
        "invitation",
        "GET",
        lambda sb: (
            f"/organizations/{org_uuid(sb)}/invitations/{first(sb, 'organization_invitations')}"
        ),
        200,
    ),
    Case("event types", "GET", lambda sb: "/event_types", 200, ORG_Q),
    Case("event type", "GET", lambda sb: f"/event_types/{first(sb, 'event_types')}", 200),
    Case(
        "hosts",
        "GET",
        lambda sb: "/event_type_memberships",
        200,
        lambda sb: {"event_type": solo_type(sb)},
    ),
    Case("events", "GET", lambda sb: "/scheduled_events", 200, ORG_Q),
    Case("event", "GET", lambda sb: f"/scheduled_events/{past_event(sb)}", 200),
    Case("invitees", "GET", lambda sb: f"/scheduled_events/{past_event(sb)}/invitees", 200),
    Case(
        "invitee",
        "GET",
        lambda sb: "/scheduled_events/{}/invitees/{}".format(*an_invitee(sb)),
        200,
    ),
    Case("no-show", "GET", lambda sb: f"/invitee_no_shows/{no_show_of_invitee(sb)}", 200),
    Case("forms", "GET", lambda sb: "/routing_forms", 200, ORG_Q),
    Case("form", "GET", lambda sb: f"/routing_forms/{first(sb, 'routing_forms')}", 200),
    Case(
        "submissions",
        "GET",
        lambda sb: "/routing_form_submissions",
        200,
        lambda sb: {"form": sb.store.routing_forms[first(sb, "routing_forms")]["uri"]},
    ),
    Case(
        "submission",
        "GET",
        lambda sb: f"/routing_form_submissions/{first(sb, 'routing_form_submissions')}",
        200,
    ),
    Case("activity", "GET", lambda sb: "/activity_log_entries", 200, ORG_Q),
    Case("communications", "GET", lambda sb: "/outgoing_communications", 200, ORG_Q),
    Case("groups", "GET", lambda sb: "/groups", 200, ORG_Q),
    Case("group", "GET", lambda sb: f"/groups/{first(sb, 'groups')}", 200),
    Case("relationships", "GET", lambda sb: "/group_relationships", 200, ORG_Q),
    Case(
        "relationship",
        "GET",
        lambda sb: f"/group_relationships/{first(sb, 'group_relationships')}",
        200,
    ),
    Case(
        "webhooks",
        "GET",
        lambda sb: "/webhook_subscriptions",
        200,
        lambda sb: {"organization": org(sb), "scope": "organization"},
    ),
    Case(
        "webhook",
        "GET",
        lambda sb: f"/webhook_subscriptions/{first(sb, 'webhook_subscriptions')}",
        200,
    ),
    Case(
        "availability",
        "GET",
        lambda sb: "/user_availability_schedules",
        200,
        lambda sb: {"user": sb.store.current_user["uri"]},
    ),
    Case(
        "schedule",
        "GET",
        lambda sb: f"/user_availability_schedules/{first(sb, 'user_availability_schedules')}",
        200,
    ),
    # -- reads: documented errors --------------------------------------------------------------
    Case(
        "count too big",
        "GET",
        lambda sb: "/scheduled_events",
        400,
        lambda sb: {"organization": org(sb), "count": 101},
    ),
    Case(
        "activity count too big",
        "GET",
        lambda sb: "/activity_log_entries",
        400,
        lambda sb: {"organization": org(sb), "count": 1001},
    ),
    Case(
        "invitees count",
        "GET",
        lambda sb: f"/scheduled_events/{past_event(sb)}/invitees",
        400,
        lambda sb: {"count": 0},
    ),
    Case(
        "memberships count",
        "GET",
        lambda sb: "/organization_memberships",
        400,
        lambda sb: {"organization": org(sb), "count": 500},
    ),
    Case(
        "event types sort",
        "GET",
        lambda sb: "/event_types",
        400,
        lambda sb: {"organization": org(sb), "sort": "colour:asc"},
    ),
    Case(
        "webhooks scope",
        "GET",
        lambda sb: "/webhook_subscriptions",
        400,
        lambda sb: {"organization": org(sb), "scope": "galaxy"},
    ),
    Case(
        "invitations status",
        "GET",
        lambda sb: f"/organizations/{org_uuid(sb)}/invitations",
        400,
        lambda sb: {"status": "maybe"},
    ),
    Case(
        "forms count",
        "GET",
        lambda sb: "/routing_forms",
        400,
        lambda sb: {"organization": org(sb), "count": -1},
    ),
    Case("submissions no form", "GET", lambda sb: "/routing_form_submissions", 400),
    Case(
        "groups count",
        "GET",
        lambda sb: "/groups",
        400,
        lambda sb: {"organization": org(sb), "count": 1000},
    ),
    Case(
        "relationships count",
        "GET",
        lambda sb: "/group_relationships",
        400,
        lambda sb: {"count": 1000},
    ),
    Case("hosts no event type", "GET", lambda sb: "/event_type_memberships", 400),
    Case(
        "communications count",
        "GET",
        lambda sb: "/outgoing_communications",
        400,
        lambda sb: {"organization": org(sb), "count": 101},
    ),
    Case("availability no user", "GET", lambda sb: "/user_availability_schedules", 400),
    Case(
        "events of member, no org",
        "GET",
        lambda sb: "/scheduled_events",
        403,
        lambda sb: {"user": sb.member["user"]["uri"]},
    ),
    Case(
        "events org-wide as member", "GET", lambda sb: "/scheduled_events", 403, ORG_Q, who="member"
    ),
    Case("activity as member", "GET", lambda sb: "/activity_log_entries", 403, ORG_Q, who="member"),
    Case(
        "communications as member",
        "GET",
        lambda sb: "/outgoing_communications",
        403,
        ORG_Q,
        who="member",
    ),
    Case(
        "invitations as member",
        "GET",
        lambda sb: f"/organizations/{org_uuid(sb)}/invitations",
        403,
        who="member",
    ),
    Case(
        "org webhooks as member",
        "GET",
        lambda sb: "/webhook_subscriptions",
        403,
        lambda sb: {"organization": org(sb), "scope": "organization"},
        who="member",
    ),
    Case(
        "event of others as member",
        "GET",
        lambda sb: f"/scheduled_events/{others_event(sb)}",
        403,
        who="member",
    ),
    Case(
        "event types of a foreign org",
        "GET",
        lambda sb: "/event_types",
        403,
        lambda sb: {"organization": sb.base_url + "/organizations/" + NOWHERE},
    ),
    Case(
        "groups of a foreign org",
        "GET",
        lambda sb: "/groups",
        403,
        lambda sb: {"organization": sb.base_url + "/organizations/" + NOWHERE},
    ),
    Case(
        "forms of a foreign org",
        "GET",
        lambda sb: "/routing_forms",
        403,
        lambda sb: {"organization": sb.base_url + "/organizations/" + NOWHERE},
    ),
    Case(
        "memberships of a foreign org",
        "GET",
        lambda sb: "/organization_memberships",
        403,
        lambda sb: {"organization": sb.base_url + "/organizations/" + NOWHERE},
    ),
    Case(
        "relationships of a foreign org",
        "GET",
        lambda sb: "/group_relationships",
        403,
        lambda sb: {"organization": sb.base_url + "/organizations/" + NOWHERE},
    ),
    Case(
        "availability of an unknown user",
        "GET",
        lambda sb: "/user_availability_schedules",
        404,
        lambda sb: {"user": sb.base_url + "/users/" + NOWHERE},
    ),
    Case(
        "event types of an unknown user",
        "GET",
        lambda sb: "/event_types",
        404,
        lambda sb: {"user": sb.base_url + "/users/" + NOWHERE},
    ),
    Case(
        "events of an unknown group",
        "GET",
        lambda sb: "/scheduled_events",
        404,
        lambda sb: {"organization": org(sb), "group": sb.base_url + "/groups/" + NOWHERE},
    ),
    Case(
        "user webhooks of an unknown user",
        "GET",
        lambda sb: "/webhook_subscriptions",
        404,
        lambda sb: {
            "organization": org(sb),
            "scope": "user",
            "user": sb.base_url + "/users/" + NOWHERE,
        },
    ),
    Case(
        "invitations of an unknown org",
        "GET",
        lambda sb: f"/organizations/{NOWHERE}/invitations",
        404,
    ),
    Case(
        "invitation as member",
        "GET",
        lambda sb: (
            f"/organizations/{org_uuid(sb)}/invitations/{first(sb, 'organization_invitations')}"
        ),
        403,
        who="member",
    ),
    Case(
        "invitees of others' event as member",
        "GET",
        lambda sb: f"/scheduled_events/{others_event(sb)}/invitees",
        403,
        who="member",
    ),
    Case(
        "invitee of others' event as member",
        "GET",
        lambda sb: (
            f"/scheduled_events/{others_event(sb)}/invitees/{sb.store.invitees_by_event[others_event(sb)][0]}"
        ),
        403,
        who="member",
    ),
    Case(
        "no-show of others' event as member",
        "GET",
        lambda sb: f"/invitee_no_shows/{others_no_show(sb)}",
        403,
        who="member",
    ),
    Case(
        "undo no-show of others' event as member",
        "DELETE",
        lambda sb: f"/invitee_no_shows/{others_no_show(sb)}",
        403,
        who="member",
    ),
    Case(
        "org webhook as member",
        "GET",
        lambda sb: (
            "/webhook_subscriptions/"
            + first(sb, "webhook_subscriptions", lambda h: h["scope"] == "organization")
        ),
        403,
        who="member",
    ),
    Case(
        "hosts of unknown type",
        "GET",
        lambda sb: "/event_type_memberships",
        404,
        lambda sb: {"event_type": sb.base_url + "/event_types/" + NOWHERE},
    ),
    Case(
        "submissions of unknown form",
        "GET",
        lambda sb: "/routing_form_submissions",
        404,
        lambda sb: {"form": sb.base_url + "/routing_forms/" + NOWHERE},
    ),
    Case(
        "invitees of unknown event", "GET", lambda sb: f"/scheduled_events/{NOWHERE}/invitees", 404
    ),
    *(
        Case(f"unknown {template}", "GET", lambda sb, t=template: t.format(NOWHERE), 404)
        for template in (
            "/users/{}",
            "/organizations/{}",
            "/organization_memberships/{}",
            "/event_types/{}",
            "/scheduled_events/{}",
            "/invitee_no_shows/{}",
            "/routing_forms/{}",
            "/routing_form_submissions/{}",
            "/groups/{}",
            "/group_relationships/{}",
            "/webhook_subscriptions/{}",
            "/user_availability_schedules/{}",
        )
    ),
    Case(
        "unknown invitation",
        "GET",
        lambda sb: f"/organizations/{org_uuid(sb)}/invitations/{NOWHERE}",
        404,
    ),
    Case(
        "unknown invitee",
        "GET",
        lambda sb: f"/scheduled_events/{past_event(sb)}/invitees/{NOWHERE}",
        404,
    ),
    # -- writes: success then documented errors ------------------------------------------------
    Case(
        "cancel",
        "POST",
        lambda sb: f"/scheduled_events/{future_event(sb)}/cancellation",
        201,
        body=lambda sb: {"reason": "Conformance"},
    ),
    Case(
        "cancel canceled",
        "POST",
        lambda sb: f"/scheduled_events/{canceled_event(sb)}/cancellation",
        403,
    ),
    Case("cancel past", "POST", lambda sb: f"/scheduled_events/{past_event(sb)}/cancellation", 403),
    Case("cancel unknown", "POST", lambda sb: f"/scheduled_events/{NOWHERE}/cancellation", 404),
    Case(
        "cancel too long reason",
        "POST",
        lambda sb: f"/scheduled_events/{future_event(sb)}/cancellation",
        400,
        body=lambda sb: {"reason": "x" * 10_001},
    ),
    Case(
        "no-show",
        "POST",
        lambda sb: "/invitee_no_shows",
        201,
        body=lambda sb: {"invitee": sb.store.invitees[an_invitee(sb)[1]]["uri"]},
    ),
    Case(
        "no-show unknown",
        "POST",
        lambda sb: "/invitee_no_shows",
        404,
        body=lambda sb: {"invitee": f"{sb.base_url}/scheduled_events/x/invitees/{NOWHERE}"},
    ),
    Case("no-show missing", "POST", lambda sb: "/invitee_no_shows", 400, body=lambda sb: {}),
    Case(
        "no-show as member",
        "POST",
        lambda sb: "/invitee_no_shows",
        403,
        who="member",
        body=lambda sb: {
            "invitee": sb.store.invitees[an_invitee(sb, not_hosted_by=sb.member["user"]["uri"])[1]][
                "uri"
            ]
        },
    ),
    Case("undo no-show", "DELETE", lambda sb: f"/invitee_no_shows/{no_show_of_invitee(sb)}", 204),
    Case("undo unknown no-show", "DELETE", lambda sb: f"/invitee_no_shows/{NOWHERE}", 404),
    Case(
        "invite",
        "POST",
        lambda sb: f"/organizations/{org_uuid(sb)}/invitations",
        201,
        body=lambda sb: {"email": "conformance@example.com"},
    ),
    Case(
        "invite again",
        "POST",
        lambda sb: f"/organizations/{org_uuid(sb)}/invitations",
        400,
        body=lambda sb: {"email": "conformance@example.com"},
    ),
    Case(
        "invite as member",
        "POST",
        lambda sb: f"/organizations/{org_uuid(sb)}/invitations",
        403,
        who="member",
        body=lambda sb: {"email": "nobody@example.com"},
    ),
    Case(
        "invite into unknown org",
        "POST",
        lambda sb: f"/organizations/{NOWHERE}/invitations",
        404,
        body=lambda sb: {"email": "nobody@example.com"},
    ),
    Case(
        "revoke",
        "DELETE",
        lambda sb: (
            f"/organizations/{org_uuid(sb)}/invitations/"
            + first(sb, "organization_invitations", lambda i: i["status"] == "pending")
        ),
        204,
    ),
    Case(
        "revoke accepted",
        "DELETE",
        lambda sb: (
            f"/organizations/{org_uuid(sb)}/invitations/"
            + first(sb, "organization_invitations", lambda i: i["status"] == "accepted")
        ),
        400,
    ),
    Case(
        "revoke unknown",
        "DELETE",
        lambda sb: f"/organizations/{org_uuid(sb)}/invitations/{NOWHERE}",
        404,
    ),
    Case(
        "revoke as member",
        "DELETE",
        lambda sb: (
            f"/organizations/{org_uuid(sb)}/invitations/"
            + first(sb, "organization_invitations", lambda i: i["status"] == "pending")
        ),
        403,
        who="member",
    ),
    Case(
        "remove member", "DELETE", lambda sb: f"/organization_memberships/{plain_member(sb)}", 204
    ),
    Case("removed member's user", "GET", lambda sb: f"/users/{removed_user(sb)}", 403),
    Case(
        "availability of a removed member",
        "GET",
        lambda sb: "/user_availability_schedules",
        403,
        lambda sb: {"user": sb.store.users[removed_user(sb)]["uri"]},
    ),
    Case(
        "remove owner",
        "DELETE",
        lambda sb: f"/organization_memberships/{owner_membership(sb)}",
        403,
    ),
    Case("remove unknown", "DELETE", lambda sb: f"/organization_memberships/{NOWHERE}", 404),
    Case(
        "link",
        "POST",
        lambda sb: "/scheduling_links",
        201,
        body=lambda sb: {"max_event_count": "1", "owner": solo_type(sb), "owner_type": "EventType"},
    ),
    Case(
        "link with integer count",
        "POST",
        lambda sb: "/scheduling_links",
        400,
        body=lambda sb: {"max_event_count": 1, "owner": solo_type(sb), "owner_type": "EventType"},
    ),
    Case(
        "link to unknown type",
        "POST",
        lambda sb: "/scheduling_links",
        404,
        body=lambda sb: {
            "max_event_count": "1",
            "owner": f"{sb.base_url}/event_types/{NOWHERE}",
            "owner_type": "EventType",
        },
    ),
    Case(
        "link as a stranger to the type",
        "POST",
        lambda sb: "/scheduling_links",
        403,
        who="member",
        body=lambda sb: {"max_event_count": "1", "owner": solo_type(sb), "owner_type": "EventType"},
    ),
    Case("share", "POST", lambda sb: "/shares", 201, body=lambda sb: {"event_type": solo_type(sb)}),
    Case(
        "share bad duration",
        "POST",
        lambda sb: "/shares",
        400,
        body=lambda sb: {"event_type": solo_type(sb), "duration": 721},
    ),
    Case(
        "share unknown type",
        "POST",
        lambda sb: "/shares",
        404,
        body=lambda sb: {"event_type": f"{sb.base_url}/event_types/{NOWHERE}"},
    ),
    Case(
        "share as a stranger to the type",
        "POST",
        lambda sb: "/shares",
        403,
        who="member",
        body=lambda sb: {"event_type": solo_type(sb)},
    ),
    Case(
        "erase invitees",
        "POST",
        lambda sb: "/data_compliance/deletion/invitees",
        202,
        body=lambda sb: {"emails": ["nobody-at-all@example.com"]},
    ),
    Case(
        "erase invitees bad body",
        "POST",
        lambda sb: "/data_compliance/deletion/invitees",
        400,
        body=lambda sb: {"emails": "a@example.com"},
    ),
    Case(
        "erase invitees as member",
        "POST",
        lambda sb: "/data_compliance/deletion/invitees",
        403,
        who="member",
        body=lambda sb: {"emails": ["a@example.com"]},
    ),
    Case(
        "erase events",
        "POST",
        lambda sb: "/data_compliance/deletion/events",
        202,
        body=lambda sb: {
            "start_time": fmt(time.time() - 400 * 86_400),
            "end_time": fmt(time.time() - 390 * 86_400),
        },
    ),
    Case(
        "erase future events",
        "POST",
        lambda sb: "/data_compliance/deletion/events",
        400,
        body=lambda sb: {"start_time": fmt(time.time()), "end_time": fmt(time.time() + 86_400)},
    ),
    Case(
        "erase events as member",
        "POST",
        lambda sb: "/data_compliance/deletion/events",
        403,
        who="member",
        body=lambda sb: {
            "start_time": fmt(time.time() - 86_400),
            "end_time": fmt(time.time() - 3600),
        },
    ),
    Case("hook", "POST", lambda sb: "/webhook_subscriptions", 201, body=hook_body),
    Case("hook duplicate", "POST", lambda sb: "/webhook_subscriptions", 409, body=hook_body),
    Case(
        "hook bad scope",
        "POST",
        lambda sb: "/webhook_subscriptions",
        400,
        body=lambda sb: {**hook_body(sb), "scope": "planet"},
    ),
    Case(
        "hook as member",
        "POST",
        lambda sb: "/webhook_subscriptions",
        403,
        who="member",
        body=hook_body,
    ),
    Case(
        "hook for unknown group",
        "POST",
        lambda sb: "/webhook_subscriptions",
        404,
        body=lambda sb: {
            **hook_body(sb),
            "scope": "group",
            "group": f"{sb.base_url}/groups/{NOWHERE}",
        },
    ),
    Case(
        "unhook",
        "DELETE",
        lambda sb: f"/webhook_subscriptions/{first(sb, 'webhook_subscriptions')}",
        204,
    ),
    Case("unhook unknown", "DELETE", lambda sb: f"/webhook_subscriptions/{NOWHERE}", 404),
    Case(
        "unhook org hook as member",
        "DELETE",
        lambda sb: (
            "/webhook_subscriptions/"
            + first(sb, "webhook_subscriptions", lambda h: h["scope"] == "organization")
        ),
        403,
        who="member",
    ),
    Case("book", "POST", lambda sb: "/invitees", 201, body=booking),
    Case(
        "book in the past",
        "POST",
        lambda sb: "/invitees",
        400,
        body=lambda sb: {**booking(sb), "start_time": fmt(time.time() - 86_400)},
    ),
    Case(
        "book unknown type",
        "POST",
        lambda sb: "/invitees",
        404,
        body=lambda sb: {**booking(sb), "event_type": f"{sb.base_url}/event_types/{NOWHERE}"},
    ),
]
CASES += [Case(**case) for case in CONTACT_CASES + EVENT_TYPE_CASES + MORE_READ_CASES]

ROUTE_TEMPLATES = {
    # One concrete path per route for the unauthenticated sweep (401 comes before any lookup).
    route.op_key: route.template.replace("{org_uuid}", NOWHERE)
    .replace("{uuid}", NOWHERE)
    .replace("{event_uuid}", NOWHERE)
    .replace("{invitee_uuid}", NOWHERE)
    .replace("{webhook_uuid}", NOWHERE)
    for route in ROUTES
}


@pytest.fixture(scope="module")
def conformance_sandbox():
    with Sandbox(seed=11, events=150) as sb:
        yield sb


def token_for(sb: Sandbox, who: str) -> str | None:
    return {"owner": sb.token, "member": sb.member_token, "none": None, "bad": "not-a-token"}[who]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, spec: SpecChecker, conformance_sandbox: Sandbox) -> None:
    sb = conformance_sandbox
    path = case.path(sb)
    with checked_session(spec, token_for(sb, case.who)) as session:
        response = session.request(
            case.method, sb.base_url + path, params=case.params(sb), json=case.body(sb), timeout=30
        )
    assert response.status_code == case.status, response.text
    route, _ = match(case.method, path.rstrip("/"))
    assert route is not None
    OBSERVED.add((route.op_key, case.status))


@pytest.mark.parametrize("op_key", sorted(ROUTE_TEMPLATES))
@pytest.mark.parametrize("who", ["none", "bad"])
def test_unauthenticated(op_key: str, who: str, spec: SpecChecker, conformance_sandbox) -> None:
    sb = conformance_sandbox
    method = op_key.split(" ", 1)[0]
    with checked_session(spec, token_for(sb, who)) as session:
        response = session.request(
            method,
            sb.base_url + ROUTE_TEMPLATES[op_key],
            json={} if method != "GET" else None,
            timeout=30,
        )
    assert response.status_code == 401
    OBSERVED.add((op_key, 401))


def test_rate_limited_and_faulted_answers_are_spec_shaped(spec: SpecChecker) -> None:
    with Sandbox(seed=11, events=10, rate_limit=1, rate_window_seconds=600) as sb:
        with checked_session(spec, sb.token) as session:
            assert session.get(sb.base_url + "/users/me", timeout=30).status_code == 200
            assert session.get(sb.base_url + "/users/me", timeout=30).status_code == 429
        sb.configure(rate_limit=0, fault_rate=1.0, fault_kinds=("500", "503"))
        with checked_session(spec, sb.token) as session:
            statuses = {
                session.get(sb.base_url + "/scheduled_events", timeout=30).status_code
                for _ in range(12)
            }
        assert statuses == {500, 503}


@pytest.fixture(scope="module")
def failing_sandbox():
    with Sandbox(seed=11, events=10, fault_rate=1.0, fault_kinds=("500", "503")) as sb:
        yield sb


@pytest.mark.parametrize("op_key", sorted(ROUTE_TEMPLATES))
def test_server_errors_are_spec_shaped_on_every_route(op_key, spec, failing_sandbox) -> None:
    sb = failing_sandbox
    method = op_key.split(" ", 1)[0]
    with checked_session(spec, sb.token) as session:
        statuses = {
            session.request(method, sb.base_url + ROUTE_TEMPLATES[op_key], timeout=30).status_code
            for _ in range(6)
        }
    assert statuses <= {500, 503}
    OBSERVED.update((op_key, status) for status in statuses)


def test_free_plan_may_book_since_2026_11_03(own_sandbox: OwnSandbox) -> None:
    """The spec's note (Free answers 403) is outdated: the release note opens it to every plan."""
    sb, api = own_sandbox(seed=11, events=10, plan="free")
    response = api.post(sb.base_url + "/invitees", json=booking(sb), timeout=30)
    assert response.status_code == 201, response.text
    assert response.json()["resource"]["email"] == "aegir@example.is"


def test_every_route_is_covered_with_success_and_401() -> None:
    """Runs last in this module: the table above must exercise every route."""
    if not OBSERVED:
        pytest.skip("the cases above were deselected")
    missing = []
    for route in ROUTES:
        codes = {status for op, status in OBSERVED if op == route.op_key}
        documented = set(facts.operation(route.op_key)["statuses"])
        expected = {status for status in documented if status < 500} | {401}
        expected -= CANNOT_HAPPEN.get(route.op_key, (set(), ""))[0]
        if expected - codes:
            missing.append(f"{route.op_key}: {sorted(expected - codes)}")
    assert not missing, "statuses never exercised:\n" + "\n".join(missing)
