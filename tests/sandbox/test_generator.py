"""Seeded data: deterministic, scaled by --events, and shaped like a real organization."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone

import pytest

from calendly_sandbox import resources
from calendly_sandbox.generator import Scale, generate
from calendly_sandbox.store import KINDS, Store, uuid_of
from calendly_sandbox.timefmt import parse

ANCHOR = datetime(2026, 6, 1, tzinfo=timezone.utc).timestamp()


# Every other kind is seeded, by the generator or beside it (resources.seed), as Sandbox does.
ONLY_WRITES_CREATE = {
    "scheduling_links",
    "shares",
    "data_compliance_requests",
    "event_type_availability_schedules",
}


def build(seed: int, events: int, base_url: str = "http://127.0.0.1:1") -> Store:
    store = Store(base_url, seed)
    generate(store, seed=seed, events=events, now=ANCHOR, plan="enterprise")
    resources.seed(store, seed, ANCHOR)
    return store


@pytest.fixture(scope="module")
def store() -> Store:
    return build(seed=1, events=400)


def test_same_seed_same_data_whatever_the_port():
    first = build(seed=3, events=60, base_url="http://127.0.0.1:1111")
    second = build(seed=3, events=60, base_url="http://127.0.0.1:2222")
    assert list(first.scheduled_events) == list(second.scheduled_events)
    assert [u["name"] for u in first.users.values()] == [u["name"] for u in second.users.values()]
    assert [e["start_time"] for e in first.scheduled_events.values()] == [
        e["start_time"] for e in second.scheduled_events.values()
    ]
    assert next(iter(second.users.values()))["uri"].startswith("http://127.0.0.1:2222/users/")
    assert list(build(seed=4, events=60).scheduled_events) != list(first.scheduled_events)


def test_every_kind_scales_with_events(store):
    scale = Scale.for_events(400)
    assert len(store.scheduled_events) == 400
    assert len(store.users) == scale.users
    for kind in set(KINDS) - ONLY_WRITES_CREATE:
        assert store.kind(kind), kind
    bigger = Scale.for_events(40_000)
    assert bigger.users > scale.users
    assert bigger.activity > scale.activity


def test_past_and_future_around_the_anchor(store):
    starts = [parse(e["start_time"]) for e in store.scheduled_events.values()]
    past = sum(1 for s in starts if s < ANCHOR)
    assert 0.55 < past / len(starts) < 0.85
    assert min(starts) > ANCHOR - 125 * 86_400
    assert max(starts) < ANCHOR + 125 * 86_400
    for event in store.scheduled_events.values():
        assert event["created_at"] <= event["updated_at"]
        assert parse(event["created_at"]) < ANCHOR


def test_realistic_shapes(store):
    invitees = list(store.invitees.values())
    events = list(store.scheduled_events.values())
    per_event = Counter(uuid_of(i["event"]) for i in invitees)
    assert max(per_event.values()) >= 3, "group events with several invitees"
    assert any(e["status"] == "canceled" and e["cancellation"] for e in events)
    assert any(i.get("no_show") for i in invitees)
    assert any(i["tracking"]["utm_source"] for i in invitees)
    assert any(i["questions_and_answers"] for i in invitees)
    assert any(i["payment"] for i in invitees)
    assert any(i["first_name"] is None for i in invitees)
    assert any(i["timezone"] is None for i in invitees)
    assert any(not n.isascii() for n in (u["name"] for u in store.users.values()))
    assert any(t["deleted_at"] for t in store.event_types.values())
    assert any(e["name"] is None for e in events)
    assert any(s["submitter"] for s in store.routing_form_submissions.values())


def test_reschedules_link_both_ways(store):
    moved = [i for i in store.invitees.values() if i["rescheduled"]]
    assert moved
    for old in moved:
        assert old["status"] == "canceled"
        new = store.invitees[uuid_of(old["new_invitee"])]
        assert new["old_invitee"] == old["uri"]
        assert new["email"] == old["email"]


def test_counters_match_invitees(store):
    for uuid, event in store.scheduled_events.items():
        mine = [store.invitees[i] for i in store.invitees_by_event[uuid]]
        counter = event["invitees_counter"]
        assert counter["total"] == len(mine)
        assert counter["active"] == sum(1 for i in mine if i["status"] == "active")


def test_no_shows_move_no_updated_at(store):
    """Hard realism: a no-show is newer than both its invitee's and its event's updated_at
    (unless something else changed the invitee later)."""
    marked = [i for i in store.invitees.values() if i.get("no_show")]
    assert marked
    for invitee in marked:
        event = store.scheduled_events[uuid_of(invitee["event"])]
        assert event["updated_at"] < invitee["no_show"]["created_at"]
    assert any(i["updated_at"] < i["no_show"]["created_at"] for i in marked)


def test_sandboxes_with_the_same_seed_and_anchor_serve_the_same_data():
    from calendly_sandbox import Sandbox

    anchor = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    with (
        Sandbox(seed=8, events=30, now=anchor) as one,
        Sandbox(seed=8, events=30, now=anchor) as two,
    ):
        strip = lambda sb, res: json.dumps(res).replace(sb.base_url, "")  # noqa: E731
        for kind in ("users", "scheduled_events", "invitees", "activity_log_entries"):
            assert [strip(one, r) for r in one.store.kind(kind).values()] == [
                strip(two, r) for r in two.store.kind(kind).values()
            ], kind
