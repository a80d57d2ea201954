"""The API's resources, one module each: its handlers (reads and writes), the bodies it builds and
its routes. A module's ROUTES are (method, path template, handler); the template is the spec's
path, which keys the spec facts."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from calendly_sandbox.app import Ctx
from calendly_sandbox.resources import (
    activity,
    availability,
    compliance,
    contacts,
    event_types,
    events,
    groups,
    invitees,
    locations,
    organization,
    recaps,
    routing,
    teams,
    webhooks,
)
from calendly_sandbox.store import Store

MODULES = (
    activity,
    availability,
    compliance,
    contacts,
    event_types,
    events,
    groups,
    invitees,
    locations,
    organization,
    recaps,
    routing,
    teams,
    webhooks,
)
ROUTES: tuple[tuple[str, str, Callable[[Ctx], Any]], ...] = tuple(
    route for module in MODULES for route in module.ROUTES
)


def seed(store: Store, seed: int, now: float) -> None:
    """What the generator leaves out: contacts, meeting recaps, teams and locations."""
    contacts.seed_contacts(store, seed, now)
    rng = random.Random(f"more-reads-{seed}")
    recaps.seed_recaps(store, rng, now)
    teams.seed_teams(store, rng)
    locations.seed_locations(store, rng)
