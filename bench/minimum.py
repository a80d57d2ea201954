"""The fewest requests the Calendly API allows for what a sync read, computed from the sandbox store.

Every list is read at the largest page size the API accepts (100; 1000 for the activity log),
each parent's child list once, each single resource once. The tap's own counts are never used:
the sizes come from the store, the list of endpoints from the request log (an endpoint the tap
did not call costs nothing, an endpoint with no rule here is reported, not guessed).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bench.sandbox import Hit
from bench.times import parse_time

Sizes = Callable[[Any, Sequence[Hit]], Iterable[int]]  # (store, hits) -> items per list read


@dataclass(frozen=True)
class Rule:
    endpoint: str  # as Hit.endpoint
    page_size: int | None  # None: one request per list, no paging
    sizes: Sizes
    why: str

    def minimum(self, store: Any, hits: Sequence[Hit]) -> int:
        sizes = list(self.sizes(store, hits))
        if self.page_size is None:
            return len(sizes)
        return sum(max(1, math.ceil(n / self.page_size)) for n in sizes)


def one(_store: Any, _hits: Sequence[Hit]) -> list[int]:
    return [1]


def whole(kind: str) -> Sizes:
    return lambda store, _hits: [len(store.kind(kind))]


def per_parent(parent_kind: str, count: Callable[[Any, str], int]) -> Sizes:
    return lambda store, _hits: [count(store, uuid) for uuid in store.kind(parent_kind)]


def _grouped(kind: str, field: str, parent_kind: str) -> Callable[[Any, str], int]:
    """Children of one parent, by the child's reference field (a URI, or an object with one)."""

    def count(store: Any, parent_uuid: str) -> int:
        counts = _counts_cache(store, kind, field)
        parent_uri = store.uri(parent_kind, parent_uuid)
        return counts.get(parent_uri, 0)

    return count


_CACHE: dict[tuple[int, str, str, int], Counter[str]] = {}


def _counts_cache(store: Any, kind: str, field: str) -> Counter[str]:
    table = store.kind(kind)
    key = (id(store), kind, field, len(table))
    if key not in _CACHE:
        counts: Counter[str] = Counter()
        for item in table.values():
            ref = item.get(field)
            counts[ref["uri"] if isinstance(ref, dict) else ref] += 1
        _CACHE[key] = counts
    return _CACHE[key]


def invitees_per_event(store: Any, event_uuid: str) -> int:
    return len(store.invitees_by_event.get(event_uuid, ()))


def webhooks_per_scope(store: Any, _hits: Sequence[Hit]) -> list[int]:
    """Calendly lists subscriptions per scope: organization, or one user, or one group."""
    hooks = list(store.webhook_subscriptions.values())
    by_user = Counter(w["user"] for w in hooks if w["scope"] == "user")
    by_group = Counter(w["group"] for w in hooks if w["scope"] == "group")
    members = [m["user"]["uri"] for m in store.organization_memberships.values()]
    return [
        sum(1 for w in hooks if w["scope"] == "organization"),
        *(by_user.get(user, 0) for user in members),
        *(by_group.get(store.uri("groups", uuid), 0) for uuid in store.groups),
    ]


def recaps_per_status(store: Any, _hits: Sequence[Hit]) -> list[int]:
    """Calendly lists only `available` recaps unless a status is asked: one list per status, of
    the token user's meetings."""
    me = store.current_user["uri"]
    mine = [
        recap
        for uuid, recap in store.meeting_recaps.items()
        if me in store.meeting_recap_hosts.get(uuid, ())
    ]
    return [sum(1 for r in mine if r["status"] == s) for s in RECAP_STATUSES]


RECAP_STATUSES = ("available", "processing", "unavailable")

FULL_SYNC_RULES: tuple[Rule, ...] = (
    Rule("GET /users/me", None, one, "the token's user and organization, once"),
    Rule(
        "GET /organization_memberships",
        100,
        whole("organization_memberships"),
        "members (users come embedded)",
    ),
    Rule(
        "GET /organizations/{uuid}/invitations",
        100,
        whole("organization_invitations"),
        "invitations",
    ),
    Rule("GET /groups", 100, whole("groups"), "groups"),
    Rule("GET /group_relationships", 100, whole("group_relationships"), "group relationships"),
    Rule("GET /event_types", 100, whole("event_types"), "event types"),
    Rule(
        "GET /event_type_memberships",
        100,
        per_parent("event_types", _grouped("event_type_memberships", "event_type", "event_types")),
        "hosts, one list per event type",
    ),
    Rule(
        "GET /user_availability_schedules",
        None,
        per_parent("users", lambda _s, _u: 1),
        "availability, one unpaged list per user",
    ),
    Rule("GET /routing_forms", 100, whole("routing_forms"), "routing forms"),
    Rule(
        "GET /routing_form_submissions",
        100,
        per_parent(
            "routing_forms",
            _grouped("routing_form_submissions", "routing_form", "routing_forms"),
        ),
        "submissions, one list per form",
    ),
    Rule("GET /scheduled_events", 100, whole("scheduled_events"), "events, one org-wide list"),
    Rule(
        "GET /scheduled_events/{uuid}/invitees",
        100,
        per_parent("scheduled_events", invitees_per_event),
        "invitees, one list per event",
    ),
    Rule("GET /activity_log_entries", 1000, whole("activity_log_entries"), "activity log"),
    Rule("GET /outgoing_communications", 100, whole("outgoing_communications"), "communications"),
    Rule(
        "GET /webhook_subscriptions",
        100,
        webhooks_per_scope,
        "webhooks: one list per scope (the organization, each member, each group)",
    ),
    Rule("GET /contacts", 100, whole("contacts"), "contacts"),
    Rule("GET /contacts/custom_field_definitions", None, one, "contact fields, one unpaged list"),
    Rule("GET /teams", 100, whole("teams"), "teams"),
    Rule(
        "GET /locations",
        None,
        per_parent("users", lambda _s, _u: 1),
        "locations, one unpaged list per user",
    ),
    Rule(
        "GET /event_type_availability_schedules",
        None,
        per_parent("event_types", lambda _s, _u: 1),
        "event type availability, one unpaged list per event type",
    ),
    Rule("GET /meeting_recaps", 100, recaps_per_status, "the token user's recaps, per status"),
)


def incremental_rules(
    invitees_bookmark: datetime,
    lookback: timedelta,
    now: datetime,
    *,
    future_invitees_hidden: bool,
) -> tuple[Rule, ...]:
    """The full-sync rules, with the lists the API can narrow narrowed to what the run must see.

    Events: nothing filters on updated_at, so every event since start_date (the tap's
    min_start_time) is listed, or a change to an older event would be missed. Invitees: a
    call for every event that changed after the bookmark (its updated_at moved) and every
    event starting at or after bookmark - lookback that has started (a no-show changes the
    invitee, and need not move any updated_at). With `future_invitees_hidden`, also every
    future event of the window: whether Calendly moves an event's updated_at when one invitee
    of a group event cancels is unverified, and the tap assumes the hardest case. Without it,
    a future event that did not change needs no call.
    """
    window_start_at = invitees_bookmark - lookback

    def window_start(hits: Sequence[Hit], endpoint: str, param: str) -> datetime | None:
        values = {h.param(param) for h in hits if h.endpoint == endpoint}
        values.discard(None)
        return min((parse_time(v) for v in values if v), default=None)

    def listed_events(store: Any, hits: Sequence[Hit]) -> list[dict[str, Any]]:
        low = window_start(hits, "GET /scheduled_events", "min_start_time")
        events = store.scheduled_events.values()
        return [e for e in events if low is None or parse_time(e["start_time"]) >= low]

    def events_sizes(store: Any, hits: Sequence[Hit]) -> list[int]:
        return [len(listed_events(store, hits))]

    def needs_invitees(event: dict[str, Any]) -> bool:
        starts = parse_time(event["start_time"])
        if parse_time(event["updated_at"]) > invitees_bookmark:
            return True
        return starts >= window_start_at and (future_invitees_hidden or starts <= now)

    def invitee_sizes(store: Any, hits: Sequence[Hit]) -> list[int]:
        return [
            invitees_per_event(store, e["uri"].rsplit("/", 1)[-1])
            for e in listed_events(store, hits)
            if needs_invitees(e)
        ]

    def since(kind: str, field: str, endpoint: str, param: str) -> Sizes:
        def sizes(store: Any, hits: Sequence[Hit]) -> list[int]:
            low = window_start(hits, endpoint, param)
            items = store.kind(kind).values()
            return [sum(1 for i in items if low is None or parse_time(i[field]) >= low)]

        return sizes

    def recent_submissions(store: Any, _hits: Sequence[Hit]) -> list[int]:
        floor = invitees_bookmark - lookback  # ~ the submissions bookmark (same sync)
        recent: Counter[str] = Counter(
            s["routing_form"]
            for s in store.routing_form_submissions.values()
            if parse_time(s["created_at"]) >= floor
        )
        return [recent.get(store.uri("routing_forms", uuid), 0) for uuid in store.routing_forms]

    def changed_contacts(store: Any, _hits: Sequence[Hit]) -> list[int]:
        """Newest change first: the changed ones and one at or before the bookmark, which stops
        the paging (the invitees bookmark stands in for the contacts', taken in the same sync)."""
        contacts = store.contacts.values()
        changed = sum(1 for c in contacts if parse_time(c["updated_at"]) > invitees_bookmark)
        return [min(len(contacts), changed + 1)]

    narrowed = {
        rule.endpoint: rule
        for rule in (
            Rule(
                "GET /scheduled_events",
                100,
                events_sizes,
                "every event since start_date (nothing filters on updated_at)",
            ),
            Rule(
                "GET /scheduled_events/{uuid}/invitees",
                100,
                invitee_sizes,
                "invitees of changed events and of the events of the window",
            ),
            Rule(
                "GET /activity_log_entries",
                1000,
                since(
                    "activity_log_entries",
                    "occurred_at",
                    "GET /activity_log_entries",
                    "min_occurred_at",
                ),
                "entries since the bookmark",
            ),
            Rule(
                "GET /outgoing_communications",
                100,
                since(
                    "outgoing_communications",
                    "created_at",
                    "GET /outgoing_communications",
                    "min_created_at",
                ),
                "communications since the bookmark",
            ),
            Rule(
                "GET /routing_form_submissions",
                100,
                recent_submissions,
                "submissions newer than bookmark - lookback, per form",
            ),
            Rule(
                "GET /contacts",
                100,
                changed_contacts,
                "contacts changed since the bookmark, newest first, and one more",
            ),
        )
    }
    return tuple(narrowed.get(rule.endpoint, rule) for rule in FULL_SYNC_RULES)


@dataclass(frozen=True)
class EndpointCount:
    endpoint: str
    actual: int
    minimum: int | None  # None: no rule for this endpoint
    why: str

    @property
    def extra(self) -> int | None:
        return None if self.minimum is None else self.actual - self.minimum


def compare(
    hits: Sequence[Hit], store: Any, rules: Sequence[Rule] = FULL_SYNC_RULES
) -> list[EndpointCount]:
    """Per endpoint the tap called: its requests (all statuses) next to the minimum."""
    by_endpoint = {rule.endpoint: rule for rule in rules}
    actual = Counter(hit.endpoint for hit in hits)
    counts = []
    for endpoint, n in sorted(actual.items()):
        rule = by_endpoint.get(endpoint)
        if rule is None:
            counts.append(EndpointCount(endpoint, n, None, "no rule: not counted in the minimum"))
        else:
            counts.append(EndpointCount(endpoint, n, rule.minimum(store, hits), rule.why))
    return counts


def listed_event_kinds(
    store: Any,
    hits: Sequence[Hit],
    invitees_bookmark: datetime,
    lookback: timedelta,
    now: datetime,
) -> dict[str, int]:
    """The events an incremental run listed, by whether their invitees need reading again."""
    lows = [parse_time(v) for h in hits if (v := h.param("min_start_time"))]
    low = min(lows, default=None)
    window_start_at = invitees_bookmark - lookback
    kinds = {
        "changed since the bookmark": 0,
        "unchanged, started before the window (no invitee call)": 0,
        "unchanged, in the window, started (a no-show may have been marked)": 0,
        "unchanged, future, one invitee": 0,
        "unchanged, future, group event": 0,
    }
    for event in store.scheduled_events.values():
        starts = parse_time(event["start_time"])
        if low is not None and starts < low:
            continue
        if parse_time(event["updated_at"]) > invitees_bookmark:
            kinds["changed since the bookmark"] += 1
        elif starts < window_start_at:
            kinds["unchanged, started before the window (no invitee call)"] += 1
        elif starts <= now:
            kinds["unchanged, in the window, started (a no-show may have been marked)"] += 1
        elif event["invitees_counter"]["limit"] > 1:
            kinds["unchanged, future, group event"] += 1
        else:
            kinds["unchanged, future, one invitee"] += 1
    return kinds
