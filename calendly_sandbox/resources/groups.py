"""Groups and group relationships (which users own, admin or belong to a group)."""

from __future__ import annotations

from typing import Any

from calendly_sandbox.app import CREATED_ASC, Ctx, Routes, all_of, field_is, page, resource
from calendly_sandbox.timefmt import fmt

GROUP_NEEDS_ORG = (
    "Please also specify organization when requesting events for a group within your organization."
)


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


def drop_group_relationships(ctx: Ctx, owner_uri: str) -> None:
    store = ctx.store
    for rel_uuid, rel in list(store.group_relationships.items()):
        if rel["owner"]["uri"] == owner_uri:
            store.delete("group_relationships", rel_uuid)
            group = store.find_by_uri("groups", rel["group"])
            if group is not None:
                group["member_count"] = max(0, group.get("member_count", 1) - 1)
                group["updated_at"] = fmt(ctx.now())


ROUTES: Routes = (
    ("GET", "/groups", list_groups),
    ("GET", "/groups/{uuid}", get_group),
    ("GET", "/group_relationships", list_group_relationships),
    ("GET", "/group_relationships/{uuid}", get_group_relationship),
)
