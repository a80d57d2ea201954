"""Teams (seeded; readable by the organization's members)."""

from __future__ import annotations

import random
from typing import Any

from calendly_sandbox.app import Ctx, Routes, page, resource
from calendly_sandbox.paging import SortOrder
from calendly_sandbox.resources.organization import org_member
from calendly_sandbox.store import Store
from calendly_sandbox.uuids import random_uuid

TEAM_NAMES = ("Sales team", "Customer success", "Onboarding")


def seed_teams(store: Store, rng: random.Random) -> None:
    users = sorted(store.users.values(), key=lambda u: u["uri"])
    members = [u for u in users if store.role_of(u["uri"])]
    for index, name in enumerate(TEAM_NAMES):
        uuid = random_uuid(rng)
        slug = name.lower().replace(" ", "-")
        store.insert(
            "teams",
            uuid,
            {
                "uri": store.uri("teams", uuid),
                "name": name,
                "organization": store.organization["uri"],
                "scheduling_url": f"https://calendly.com/team/{slug}",
            },
        )
        chosen = members[index::2] or members
        store.team_members[uuid] = {u["uri"] for u in chosen}


def list_teams(ctx: Ctx) -> Any:
    user = ctx.params.get("user")
    if user:
        org_member(ctx, user)
    members = ctx.store.team_members
    return page(
        ctx,
        "teams",
        SortOrder(("name",), (False,)),
        (lambda uuid: user in members.get(uuid, set())) if user else None,
    )


def get_team(ctx: Ctx) -> Any:
    return resource(ctx.lookup("teams", ctx.path["team_uuid"], "team"))


ROUTES: Routes = (
    ("GET", "/teams", list_teams),
    ("GET", "/teams/{team_uuid}", get_team),
)
