"""Webhook subscriptions (deliveries are calendly_sandbox/deliveries.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calendly_sandbox.store import Resource
from calendly_sandbox.timefmt import fmt

if TYPE_CHECKING:
    from calendly_sandbox.generator import Generator


from calendly_sandbox.app import Ctx, Reply, Routes, all_of, field_is, new_uuid, page, resource
from calendly_sandbox.errors import UPGRADE_PAID, ApiError, bad_request
from calendly_sandbox.resources.activity import log_activity
from calendly_sandbox.resources.organization import org_member
from calendly_sandbox.store import Store

SCOPE_ONLY_EVENTS = {
    "routing_form_submission.created": "organization",
    "meeting_recap.created": "user",
    "meeting_recap.updated": "user",
    "meeting_recap.deleted": "user",
}


# Since 2026-11-03 webhook subscriptions and POST /invitees work on every plan, Free included;
# these events still need the plan of the feature they report (contact.* needs none since 11-19).
EVENT_PLAN_PREFIXES = {"routing_form_submission.": "teams", "meeting_recap.": "standard"}


def webhook_subscription(
    store: Store,
    uuid: str,
    *,
    callback_url: str,
    events: list[str],
    scope: str,
    user: str | None,
    group: str | None,
    creator: str | None,
    created: float,
) -> Resource:
    created_s = fmt(created)
    return {
        "uri": store.uri("webhook_subscriptions", uuid),
        "callback_url": callback_url,
        "created_at": created_s,
        "updated_at": created_s,
        "retry_started_at": None,
        "state": "active",
        "events": events,
        "scope": scope,
        "organization": store.organization["uri"],
        "user": user,
        "group": group,
        "creator": creator,
    }


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
    hook = webhook_subscription(
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


# -- seeded data ----------------------------------------------------------------------------------
def seed_webhooks(gen: Generator, count: int) -> None:
    rng, store = gen.rng, gen.store
    all_events = ["invitee.created", "invitee.canceled", "invitee_no_show.created"]
    groups = list(store.groups.values())
    for i in range(count):
        scope = ("organization", "user", "group")[i % 3]
        user = rng.choice(gen.users)["uri"] if scope == "user" else None
        group = rng.choice(groups)["uri"] if scope == "group" else None
        uuid = gen.uuid()
        events = list(all_events)
        if scope == "organization":
            events.append("routing_form_submission.created")
        hook = webhook_subscription(
            store,
            uuid,
            callback_url=f"https://hooks.example.com/calendly/{i}",
            events=events,
            scope=scope,
            user=user,
            group=group,
            creator=rng.choice(gen.admins)["uri"],
            created=gen.past(300, 10),
        )
        if i % 4 == 3:
            hook["state"] = "disabled"
            hook["retry_started_at"] = fmt(gen.past(9, 2))
            hook["updated_at"] = hook["retry_started_at"]
        store.insert("webhook_subscriptions", uuid, hook)


ROUTES: Routes = (
    ("GET", "/webhook_subscriptions", list_webhooks),
    ("GET", "/webhook_subscriptions/{webhook_uuid}", get_webhook),
    ("POST", "/webhook_subscriptions", create_webhook),
    ("DELETE", "/webhook_subscriptions/{webhook_uuid}", delete_webhook),
)
