"""A user's meeting locations (seeded; readable by that user and by organization admins)."""

from __future__ import annotations

import random
from typing import Any

from calendly_sandbox.app import Ctx, Routes
from calendly_sandbox.errors import FORBIDDEN
from calendly_sandbox.resources.organization import org_member
from calendly_sandbox.store import Store

CONFERENCES = {"google_conference", "zoom_conference", "microsoft_teams_conference"}


def seed_locations(store: Store, rng: random.Random) -> None:
    kinds_of: dict[str, set[str]] = {}
    for event_type in store.event_types.values():
        for location in event_type["locations"] or []:
            kinds_of.setdefault(event_type["profile"]["owner"], set()).add(location["kind"])
    for user in store.users.values():
        kinds = sorted(kinds_of.get(user["uri"], set()) | {"ask_invitee"})
        store.user_locations[user["uri"]] = [
            {"kind": kind, "connected": kind not in CONFERENCES or rng.random() < 0.8}
            for kind in kinds
        ]


def list_locations(ctx: Ctx) -> Any:
    user = ctx.params["user"]
    org_member(ctx, user)
    if user != ctx.me:
        ctx.require_admin(FORBIDDEN)
    return {"collection": [dict(loc) for loc in ctx.store.user_locations.get(user, [])]}


ROUTES: Routes = (("GET", "/locations", list_locations),)
