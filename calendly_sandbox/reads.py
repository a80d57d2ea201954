"""GET handlers: single resources and keyset-paginated collections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calendly_sandbox.app import Ctx, page, resource
from calendly_sandbox.errors import (
    FORBIDDEN,
    FORBIDDEN_RESOURCE,
    UPGRADE_ENTERPRISE,
    ApiError,
    bad_request,
)
from calendly_sandbox.paging import SortOrder, TokenCodec
from calendly_sandbox.store import Resource, uuid_of
from calendly_sandbox.timefmt import fmt, parse

ACTIVITY_MAX_TOTAL = 10_000
CREATED_ASC = SortOrder(("created_at",), (False,))
NOT_IN_ORG = "This user is not in your organization"
USER_NEEDS_ORG = (
    "Please also specify organization when requesting events for a user within your organization."
)
GROUP_NEEDS_ORG = (
    "Please also specify organization when requesting events for a group within your organization."
)

Predicate = Callable[[str], bool]


def all_of(*tests: Predicate | None) -> Predicate | None:
    active = [t for t in tests if t is not None]
    if not active:
        return None
    if len(active) == 1:
        return active[0]
    return lambda uuid: all(t(uuid) for t in active)


def field_is(table: dict[str, Resource], field: str, value: Any) -> Predicate | None:
    if value is None:
        return None
    return lambda uuid: table[uuid].get(field) == value


def time_window(
    ctx: Ctx, low_param: str, high_param: str, unit_us: int = 1
) -> tuple[str | None, str | None]:
    """Query bounds as stored strings (`unit_us`: the stored precision, in microseconds):
    (lowest included value, lowest excluded value).

    The spec words min_* as "after this time": hard realism excludes the bound itself,
    lenient includes it (the sandbox's older reading).
    """
    low, high = ctx.params.get(low_param), ctx.params.get(high_param)
    first: str | None = None
    if low:
        micros = to_micros(low)
        if ctx.store.hard:
            first = from_micros((micros // unit_us + 1) * unit_us, unit_us)
        else:
            first = from_micros(micros // unit_us * unit_us, unit_us)
    return first, from_micros(to_micros(high) // unit_us * unit_us, unit_us) if high else None


def to_micros(text: str) -> int:
    whole = parse(text)
    seconds = int(whole // 1)
    fraction = text.strip().rstrip("zZ").partition(".")[2]
    digits = "".join(c for c in fraction if c.isdigit())[:6].ljust(6, "0")
    if "+" in fraction or "-" in fraction:  # an offset after the fraction: trust the float
        return round(whole * 1_000_000)
    return seconds * 1_000_000 + int(digits)


def from_micros(micros: int, unit_us: int = 1) -> str:
    text = fmt(micros // 1_000_000)[:-8] + f".{micros % 1_000_000:06d}Z"
    return text if unit_us == 1 else text[:23] + "Z"


def in_window(table: dict[str, Resource], field: str, window: tuple[Any, Any]) -> Predicate | None:
    low, high = window
    if low is None and high is None:
        return None
    return lambda uuid: (
        (low is None or table[uuid][field] >= low) and (high is None or table[uuid][field] < high)
    )


def org_member(ctx: Ctx, user_uri: str, parameter: str = "user") -> None:
    """404 for a user that does not exist, 403 for one outside the organization."""
    ctx.lookup_uri("users", user_uri, "user", parameter)
    if ctx.store.role_of(user_uri) is None:
        raise ApiError(403, NOT_IN_ORG)


# -- users and the organization ------------------------------------------------------------------
def get_me(ctx: Ctx) -> Any:
    return resource(ctx.store.users[uuid_of(ctx.me)])


def get_user(ctx: Ctx) -> Any:
    uuid = ctx.path["uuid"]
    if uuid == "me":
        return resource(ctx.store.users[uuid_of(ctx.me)])
    user = ctx.lookup("users", uuid, "user")
    if user["uri"] != ctx.me and ctx.store.role_of(user["uri"]) is None:
        raise ApiError(403, FORBIDDEN)  # e.g. a member who was removed from the organization
    return resource(user)


def get_organization(ctx: Ctx) -> Any:
    org = ctx.lookup("organizations", ctx.path["uuid"], "organization")
    ctx.require_own_org(org["uri"])
    return resource(org)


def list_memberships(ctx: Ctx) -> Any:
    org, user = ctx.params.get("organization"), ctx.params.get("user")
    if not org and not user:
        raise bad_request("organization", "Pass organization or user")
    ctx.require_own_org(org)
    table = ctx.store.organization_memberships
    email = ctx.params.get("email")
    return page(
        ctx,
        "organization_memberships",
        CREATED_ASC,
        all_of(
            (lambda u: table[u]["user"]["uri"] == user) if user else None,
            (lambda u: table[u]["user"]["email"].lower() == email.lower()) if email else None,
            field_is(table, "role", ctx.params.get("role")),
        ),
    )


def get_membership(ctx: Ctx) -> Any:
    return resource(ctx.lookup("organization_memberships", ctx.path["uuid"], "membership"))


def own_org_path(ctx: Ctx, key: str = "uuid") -> None:
    org_uuid = ctx.path[key]
    if org_uuid != uuid_of(ctx.store.organization["uri"]):
        ctx.lookup("organizations", org_uuid, "organization")
        raise ApiError(403, FORBIDDEN)


def list_invitations(ctx: Ctx) -> Any:
    own_org_path(ctx)
    ctx.require_admin()
    table = ctx.store.organization_invitations
    email = ctx.params.get("email")
    return page(
        ctx,
        "organization_invitations",
        ctx.sort_order("created_at:asc"),
        all_of(
            field_is(table, "status", ctx.params.get("status")),
            (lambda u: table[u]["email"].lower() == email.lower()) if email else None,
        ),
    )


def get_invitation(ctx: Ctx) -> Any:
    own_org_path(ctx, "org_uuid")
    ctx.require_admin()
    return resource(ctx.lookup("organization_invitations", ctx.path["uuid"], "invitation"))


# -- event types -------------------------------------------------------------------------------
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


# -- scheduled events and invitees --------------------------------------------------------------
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


def get_no_show(ctx: Ctx) -> Any:
    no_show = ctx.lookup("invitee_no_shows", ctx.path["uuid"], "no-show")
    event_uuid = uuid_of(no_show["invitee"].split("/invitees/")[0])
    if not ctx.is_admin and ctx.me not in ctx.store.event_hosts.get(event_uuid, frozenset()):
        raise ApiError(403, FORBIDDEN)
    return resource(no_show)


# -- routing forms -------------------------------------------------------------------------------
def list_routing_forms(ctx: Ctx) -> Any:
    ctx.require_own_org(ctx.params["organization"])
    return page(ctx, "routing_forms", ctx.sort_order("created_at:asc"))


def get_routing_form(ctx: Ctx) -> Any:
    return resource(ctx.lookup("routing_forms", ctx.path["uuid"], "routing form"))


def list_submissions(ctx: Ctx) -> Any:
    form = ctx.lookup_uri("routing_forms", ctx.params["form"], "routing form", "form")
    table = ctx.store.routing_form_submissions
    return page(
        ctx,
        "routing_form_submissions",
        ctx.sort_order("created_at:asc"),
        lambda u: table[u]["routing_form"] == form["uri"],
    )


def get_submission(ctx: Ctx) -> Any:
    return resource(ctx.lookup("routing_form_submissions", ctx.path["uuid"], "submission"))


# -- Enterprise-only audit data ------------------------------------------------------------------
def enterprise_admin(ctx: Ctx) -> None:
    ctx.require_plan("enterprise", UPGRADE_ENTERPRISE)
    ctx.require_own_org(ctx.params["organization"])
    ctx.require_admin(FORBIDDEN_RESOURCE)


def list_activity_log(ctx: Ctx) -> Any:
    enterprise_admin(ctx)
    table, p = ctx.store.activity_log_entries, ctx.params
    # Stored occurred_at has milliseconds; compare on the same precision.
    window = time_window(ctx, "min_occurred_at", "max_occurred_at", unit_us=1000)
    actors, namespaces, actions = (set(p.get(k) or ()) for k in ("actor", "namespace", "action"))
    terms = (p.get("search_term") or "").replace('"', " ").split()
    terms = [t.strip("+-()*|").lower() for t in terms if t.strip("+-()*|")]

    def matches(uuid: str) -> bool:
        entry = table[uuid]
        if actors and entry["actor"].get("uri") not in actors:
            return False
        if namespaces and entry["namespace"] not in namespaces:
            return False
        if actions and entry["action"] not in actions:
            return False
        if terms:
            text = " ".join(
                str(v) for v in (entry["fully_qualified_name"], entry["actor"], entry["details"])
            ).lower()
            return all(t in text for t in terms)
        return True

    predicate = all_of(
        matches if (actors or namespaces or actions or terms) else None,
        in_window(table, "occurred_at", window),
    )
    order = ctx.sort_order("occurred_at:desc")
    # The window can bound the walk only when the index is ordered by occurred_at first;
    # otherwise the predicate alone applies it.
    walk_window = window if order.fields[0] == "occurred_at" else (None, None)
    body = page(ctx, "activity_log_entries", order, predicate, window=walk_window)
    total = filtered_total(ctx, "activity_log_entries", predicate)
    body["last_event_time"] = max((e["occurred_at"] for e in body["collection"]), default=None)
    body["total_count"] = min(total, ACTIVITY_MAX_TOTAL)
    body["exceeds_max_total_count"] = total > ACTIVITY_MAX_TOTAL
    return body


def filtered_total(ctx: Ctx, kind: str, predicate: Predicate | None) -> int:
    """Matches for the request's filters, cached per filter set until the kind changes."""
    table = ctx.store.kind(kind)
    key = TokenCodec.fingerprint(ctx.url_path, ctx.query)
    return ctx.store.count(
        kind, key, lambda: sum(1 for u in table if predicate is None or predicate(u))
    )


def list_outgoing_communications(ctx: Ctx) -> Any:
    enterprise_admin(ctx)
    table = ctx.store.outgoing_communications
    window = time_window(ctx, "min_created_at", "max_created_at")
    predicate = in_window(table, "created_at", window)
    body = page(ctx, "outgoing_communications", CREATED_ASC, predicate, window=window)
    body["total_count"] = filtered_total(ctx, "outgoing_communications", predicate)
    return body


# -- groups --------------------------------------------------------------------------------------
def list_groups(ctx: Ctx) -> Any:
    ctx.require_own_org(ctx.params["organization"])
    return page(ctx, "groups", CREATED_ASC)


def get_group(ctx: Ctx) -> Any:
    return resource(ctx.lookup("groups", ctx.path["uuid"], "group"))


def list_group_relationships(ctx: Ctx) -> Any:
    ctx.require_own_org(ctx.params.get("organization"))
    table = ctx.store.group_relationships
    owner, group = ctx.params.get("owner"), ctx.params.get("group")
    return page(
        ctx,
        "group_relationships",
        CREATED_ASC,
        all_of(
            (lambda u: table[u]["owner"]["uri"] == owner) if owner else None,
            field_is(table, "group", group),
        ),
    )


def get_group_relationship(ctx: Ctx) -> Any:
    return resource(ctx.lookup("group_relationships", ctx.path["uuid"], "group relationship"))


# -- webhooks and availability -------------------------------------------------------------------
def list_webhooks(ctx: Ctx) -> Any:
    p = ctx.params
    ctx.require_own_org(p["organization"])
    scope, user, group = p["scope"], p.get("user"), p.get("group")
    if scope == "user" and not user:
        raise bad_request("user", "user is required when scope is user")
    if scope == "group" and not group:
        raise bad_request("group", "group is required when scope is group")
    if user:
        org_member(ctx, user)
    if group:
        ctx.lookup_uri("groups", group, "group", "group")
    if scope == "organization" or (user and user != ctx.me):
        ctx.require_admin()
    table = ctx.store.webhook_subscriptions
    return page(
        ctx,
        "webhook_subscriptions",
        ctx.sort_order("created_at:asc"),
        all_of(
            field_is(table, "scope", scope),
            field_is(table, "user", user) if scope == "user" else None,
            field_is(table, "group", group) if scope == "group" else None,
        ),
    )


def get_webhook(ctx: Ctx) -> Any:
    hook = ctx.lookup("webhook_subscriptions", ctx.path["webhook_uuid"], "webhook")
    if hook["scope"] != "user" or hook["user"] != ctx.me:
        ctx.require_admin()
    return resource(hook)


def list_availability(ctx: Ctx) -> Any:
    user = ctx.params["user"]
    org_member(ctx, user)
    schedules = [s for s in ctx.store.user_availability_schedules.values() if s["user"] == user]
    return {"collection": sorted(schedules, key=lambda s: (not s["default"], s["uri"]))}


def get_availability(ctx: Ctx) -> Any:
    return resource(
        ctx.lookup("user_availability_schedules", ctx.path["uuid"], "availability schedule")
    )


# (method, path template, handler). The template is the spec's path: it keys the spec facts.
READ_ROUTES: tuple[tuple[str, str, Callable[[Ctx], Any]], ...] = (
    ("GET", "/users/me", get_me),
    ("GET", "/users/{uuid}", get_user),
    ("GET", "/organizations/{uuid}", get_organization),
    ("GET", "/organization_memberships", list_memberships),
    ("GET", "/organization_memberships/{uuid}", get_membership),
    ("GET", "/organizations/{uuid}/invitations", list_invitations),
    ("GET", "/organizations/{org_uuid}/invitations/{uuid}", get_invitation),
    ("GET", "/event_types", list_event_types),
    ("GET", "/event_types/{uuid}", get_event_type),
    ("GET", "/event_type_memberships", list_event_type_memberships),
    ("GET", "/scheduled_events", list_scheduled_events),
    ("GET", "/scheduled_events/{uuid}", get_scheduled_event),
    ("GET", "/scheduled_events/{uuid}/invitees", list_invitees),
    ("GET", "/scheduled_events/{event_uuid}/invitees/{invitee_uuid}", get_invitee),
    ("GET", "/invitee_no_shows/{uuid}", get_no_show),
    ("GET", "/routing_forms", list_routing_forms),
    ("GET", "/routing_forms/{uuid}", get_routing_form),
    ("GET", "/routing_form_submissions", list_submissions),
    ("GET", "/routing_form_submissions/{uuid}", get_submission),
    ("GET", "/activity_log_entries", list_activity_log),
    ("GET", "/outgoing_communications", list_outgoing_communications),
    ("GET", "/groups", list_groups),
    ("GET", "/groups/{uuid}", get_group),
    ("GET", "/group_relationships", list_group_relationships),
    ("GET", "/group_relationships/{uuid}", get_group_relationship),
    ("GET", "/webhook_subscriptions", list_webhooks),
    ("GET", "/webhook_subscriptions/{webhook_uuid}", get_webhook),
    ("GET", "/user_availability_schedules", list_availability),
    ("GET", "/user_availability_schedules/{uuid}", get_availability),
)
