"""Users, the organization, its memberships and its invitations."""

from __future__ import annotations

from typing import Any

from calendly_sandbox.app import (
    CREATED_ASC,
    Ctx,
    Reply,
    Routes,
    all_of,
    field_is,
    new_uuid,
    page,
    resource,
)
from calendly_sandbox.errors import FORBIDDEN, ApiError, bad_request
from calendly_sandbox.resources.activity import log_activity
from calendly_sandbox.resources.groups import drop_group_relationships
from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import fmt

NOT_IN_ORG = "This user is not in your organization"
USER_NEEDS_ORG = (
    "Please also specify organization when requesting events for a user within your organization."
)


def org_member(ctx: Ctx, user_uri: str, parameter: str = "user") -> None:
    """404 for a user that does not exist, 403 for one outside the organization."""
    ctx.lookup_uri("users", user_uri, "user", parameter)
    if ctx.store.role_of(user_uri) is None:
        raise ApiError(403, NOT_IN_ORG)


def own_org_path(ctx: Ctx, key: str = "uuid") -> None:
    org_uuid = ctx.path[key]
    if org_uuid != uuid_of(ctx.store.organization["uri"]):
        ctx.lookup("organizations", org_uuid, "organization")
        raise ApiError(403, FORBIDDEN)


def membership_user(user: Resource) -> Resource:
    """The user object embedded in a membership (a subset of User)."""
    keys = ("uri", "name", "slug", "email", "scheduling_url", "timezone", "avatar_url", "locale")
    embedded = {k: user[k] for k in keys if k in user}
    embedded["created_at"] = user["created_at"]
    embedded["updated_at"] = user["updated_at"]
    return embedded


def invitation_body(
    store: Store, uuid: str, email: str, status: str, created: float, user_uri: str | None
) -> Resource:
    org_uuid = store.organization["uri"].rsplit("/", 1)[-1]
    created_s = fmt(created)
    resource: Resource = {
        "uri": store.uri("organizations", org_uuid, "invitations", uuid),
        "organization": store.organization["uri"],
        "email": email,
        "status": status,
        "created_at": created_s,
        "updated_at": created_s,
        "last_sent_at": created_s if status == "pending" else None,
    }
    if user_uri:
        resource["user"] = user_uri
    return resource


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


def remove_membership(ctx: Ctx) -> Reply:
    uuid = ctx.path["uuid"]
    membership = ctx.lookup("organization_memberships", uuid, "membership")
    ctx.require_admin()
    if membership["role"] == "owner":
        raise ApiError(403, "The organization owner cannot be removed from the organization")
    ctx.store.delete("organization_memberships", uuid)
    drop_group_relationships(ctx, membership["uri"])
    log_activity(ctx, "User", "Remove", {"user": membership["user"]["uri"]})
    return Reply(204)


def _members(ctx: Ctx) -> list[Resource]:
    return [m["user"] for m in ctx.store.organization_memberships.values()]


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


def create_invitation(ctx: Ctx) -> Reply:
    own_org_path(ctx)
    ctx.require_admin()
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
    invitation = invitation_body(store, uuid, email, "pending", ctx.now(), None)
    store.insert("organization_invitations", uuid, invitation)
    log_activity(ctx, "Invitation", "Send", {"email": email})
    return Reply(201, resource(invitation))


def revoke_invitation(ctx: Ctx) -> Reply:
    own_org_path(ctx, "org_uuid")
    ctx.require_admin()
    uuid = ctx.path["uuid"]
    invitation = ctx.lookup("organization_invitations", uuid, "invitation")
    if invitation["status"] != "pending":
        raise bad_request(
            "uuid", f"only pending invitations can be revoked, this one is {invitation['status']}"
        )
    ctx.store.delete("organization_invitations", uuid)
    drop_group_relationships(ctx, invitation["uri"])
    log_activity(ctx, "Invitation", "Revoke", {"email": invitation["email"]})
    return Reply(204)


ROUTES: Routes = (
    ("GET", "/users/me", get_me),
    ("GET", "/users/{uuid}", get_user),
    ("GET", "/organizations/{uuid}", get_organization),
    ("GET", "/organization_memberships", list_memberships),
    ("GET", "/organization_memberships/{uuid}", get_membership),
    ("DELETE", "/organization_memberships/{uuid}", remove_membership),
    ("GET", "/organizations/{uuid}/invitations", list_invitations),
    ("GET", "/organizations/{org_uuid}/invitations/{uuid}", get_invitation),
    ("POST", "/organizations/{uuid}/invitations", create_invitation),
    ("DELETE", "/organizations/{org_uuid}/invitations/{uuid}", revoke_invitation),
)
