"""The API's resources, one module each: its handlers (reads and writes), the bodies it builds,
the records it seeds and its routes. A module's ROUTES are (method, path template, handler); the
template is the spec's path, which keys the spec facts.

A new read-only collection: its kind in store.KINDS, and a module here (or a section of the
resource's module) with the seeding, the list and get handlers and their ROUTES, listed in
MODULES below (and in `seed` when the generator does not seed it)."""

from __future__ import annotations

import random

from calendly_sandbox.app import Routes
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
ROUTES: Routes = tuple(route for module in MODULES for route in module.ROUTES)


def seed(store: Store, seed: int, now: float) -> None:
    """What the generator leaves out: contacts, meeting recaps, teams and locations."""
    contacts.seed_contacts(store, seed, now)
    rng = random.Random(f"more-reads-{seed}")  # an older label, kept so the data stays the same
    recaps.seed_recaps(store, rng, now)
    teams.seed_teams(store, rng)
    locations.seed_locations(store, rng)
