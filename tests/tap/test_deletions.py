"""Rows gone from Calendly reach the warehouse as deletions; events whose invitees changed are
emitted again; deep re-reads make late no-shows on old meetings converge without webhooks.

Changes go through the sandbox's public API (DELETE routes, no-shows) or its helpers (an invitee
cancelling); expectations come from the sandbox's store, not from the tap's logic."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from tap_calendly.deletions import (
    DELETED_AT,
    LISTED_KEYS,
    ListingTracker,
    read_keys,
    written_keys,
)
from tap_calendly.streams import STREAM_TYPES, LocationsStream
from tap_calendly.timestamps import parse_timestamp
from tests.tap.conftest import Api, TapRun, catalog_selecting, key_of, run_in_process, tap_config
from tests.tap.test_incremental import first_free_invitee, now, pick_event, ts
from tests.webhooks.receiver import subscribed_receiver

TRACKED = {s.name for s in STREAM_TYPES if s.tracks_deletions}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, events=120, plan="enterprise", webhook_time_scale=0) as running:
        yield running


def deletions(run: TapRun) -> dict[str, set[str]]:
    """Per stream, the keys of the deletion records a run emitted."""
    found: dict[str, set[str]] = {}
    for stream, rows in run.records.items():
        for row in rows:
            if row.get(DELETED_AT) is not None:
                assert parse_timestamp(row[DELETED_AT]) is not None, row
                found.setdefault(stream, set()).add(key_of(stream, row))
    return found


def removable_member(sandbox: Sandbox) -> dict[str, Any]:
    """A member who is not the owner and not the token's user, with schedules and locations."""
    store = sandbox.store
    me = store.current_user["uri"]
    for membership in sorted(store.organization_memberships.values(), key=lambda m: m["uri"]):
        user = membership["user"]["uri"]
        schedules = [s for s in store.user_availability_schedules.values() if s["user"] == user]
        if (
            membership["role"] != "owner"
            and user != me
            and schedules
            and store.user_locations[user]
        ):
            return membership
    raise AssertionError("no removable member with schedules and locations")


# -- the state form ---------------------------------------------------------------------------


def test_listed_keys_round_trip_compactly() -> None:
    base = "https://api.calendly.com/users/"
    rng = random.Random(19)
    uuids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(50)]
    keys = {(base + u, kind) for u in uuids for kind in ("zoom_conference", "odd kind|*%")}
    keys |= {(base + "ABCDEFGHIJKLMNOP", "physical")}  # older users have no UUID
    saved = written_keys(keys)
    assert read_keys(saved) == keys
    assert saved["prefix"] == base and "https" not in saved["keys"]
    # A key that is a URI ending in a UUID costs 24 bytes (23 characters and a space).
    uris = written_keys({(base + u,) for u in uuids})
    assert uris["prefix"].startswith(base) and len(uris["keys"]) < 24 * len(uuids)
    for few in (set(), {("only",)}, {("a",), ("ab",)}):
        assert read_keys(written_keys(few)) == few
    assert read_keys(None) is None and read_keys({"keys": ["not", "words"]}) is None


def test_only_a_complete_listing_says_what_vanished_and_a_row_back_is_live_again() -> None:
    state: dict[str, Any] = {LISTED_KEYS: written_keys({("a",), ("b",)})}
    tracker = ListingTracker(state, ("uri",))
    for uri in ("b", "c"):
        tracker.saw({"uri": uri})
    assert state[LISTED_KEYS] == written_keys({("a",), ("b",)})  # nothing saved before the end
    gone = list(tracker.complete(state, "updated_at"))
    assert [(row["uri"], row["updated_at"] == row[DELETED_AT]) for row in gone] == [("a", True)]
    assert read_keys(state[LISTED_KEYS]) == {("b",), ("c",)}
    assert tracker.reappeared({"uri": "c"}) and not tracker.reappeared({"uri": "b"})
    # A first run (no keys kept yet) declares nothing gone.
    first = ListingTracker({}, ("uri",))
    assert list(first.complete({}, None)) == [] and not first.reappeared({"uri": "x"})


# -- against the sandbox ------------------------------------------------------------------------


def test_removed_member_revoked_invitation_deleted_subscription_and_contact_are_emitted_once(
    sandbox: Sandbox,
) -> None:
    config = tap_config(sandbox)
    first = run_in_process(config)
    assert deletions(first) == {}
    assert set(TRACKED) <= {
        s for s, b in first.final_state["bookmarks"].items() if LISTED_KEYS in b
    }
    store, api = sandbox.store, Api(sandbox)

    membership = removable_member(sandbox)
    user = membership["user"]["uri"]
    user_hooks = {h["uri"] for h in store.webhook_subscriptions.values() if h["user"] == user}
    relationships = {
        r["uri"]
        for r in store.group_relationships.values()
        if r["owner"]["uri"] in (membership["uri"], user)
    }
    expected = {
        "organization_memberships": {membership["uri"]},
        "users": {user},
        "availability_schedules": {
            s["uri"] for s in store.user_availability_schedules.values() if s["user"] == user
        },
        "locations": {f"{user}|{loc['kind']}" for loc in store.user_locations[user]},
    }
    api.delete(f"/organization_memberships/{uuid_of(membership['uri'])}")

    invitation = next(
        i
        for i in sorted(store.organization_invitations.values(), key=lambda i: i["uri"])
        if i["status"] == "pending"
    )
    api.delete(invitation["uri"].removeprefix(sandbox.base_url))
    hook = next(
        h
        for h in sorted(store.webhook_subscriptions.values(), key=lambda h: h["uri"])
        if h["scope"] == "organization"
    )
    api.delete(f"/webhook_subscriptions/{uuid_of(hook['uri'])}")
    contact = sorted(store.contacts.values(), key=lambda c: c["uri"])[0]
    api.delete(f"/contacts/{uuid_of(contact['uri'])}")
    expected["organization_invitations"] = {invitation["uri"]}
    expected["webhook_subscriptions"] = {hook["uri"]} | user_hooks
    expected["contacts"] = {contact["uri"]}
    if relationships:
        expected["group_relationships"] = relationships

    second = run_in_process(config, first.final_state)
    assert deletions(second) == expected
    for stream, keys in expected.items():  # the deletion is the only record of the row
        emitted = [key_of(stream, row) for row in second.records[stream]]
        assert all(emitted.count(key) == 1 for key in keys), stream

    third = run_in_process(config, second.final_state)
    assert deletions(third) == {}


def test_an_interrupted_listing_declares_nothing_gone(sandbox: Sandbox) -> None:
    """availability_schedules is re-sent in full every run: cut after two of its records, the
    listing is partial (the removed member's schedules are missing from it, as are others)."""
    config = tap_config(sandbox)
    catalog = catalog_selecting(config, {"users", "availability_schedules"})
    first = run_in_process(config, catalog=catalog)
    user = removable_member(sandbox)["user"]["uri"]
    Api(sandbox).delete(f"/organization_memberships/{uuid_of(removable_member(sandbox)['uri'])}")
    gone = {
        s["uri"] for s in sandbox.store.user_availability_schedules.values() if s["user"] == user
    }

    cut = run_in_process(config, first.final_state, catalog=catalog, stop_after_records=2)
    assert cut.returncode == 1 and len(cut.records["availability_schedules"]) == 2
    assert cut.states
    assert deletions(cut) == {}
    kept = first.final_state["bookmarks"]["availability_schedules"][LISTED_KEYS]
    assert all(s["bookmarks"]["availability_schedules"][LISTED_KEYS] == kept for s in cut.states)

    whole = run_in_process(
        config, cut.final_state if cut.states else first.final_state, catalog=catalog
    )
    assert deletions(whole) == {"users": {user}, "availability_schedules": gone}


def test_a_stream_skipped_for_its_plan_declares_nothing_gone(sandbox: Sandbox) -> None:
    config = tap_config(sandbox)
    catalog = catalog_selecting(config, {"meeting_recaps"})
    first = run_in_process(config, catalog=catalog)
    recap = sorted(first.records["meeting_recaps"], key=lambda r: r["uri"])[0]
    Api(sandbox).delete(f"/meeting_recaps/{uuid_of(recap['uri'])}")

    sandbox.configure(plan="free")
    skipped = run_in_process(config, first.final_state, catalog=catalog)
    assert skipped.records.get("meeting_recaps", []) == []

    sandbox.configure(plan="enterprise")
    back = run_in_process(config, skipped.final_state, catalog=catalog)
    assert deletions(back) == {"meeting_recaps": {recap["uri"]}}


def test_deleted_contacts_come_from_the_inbox_and_the_listing_stops_at_the_bookmark(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    with subscribed_receiver(sandbox, tmp_path, "deletions-key", ["contact.deleted"]) as receiver:
        config = tap_config(sandbox, webhook_inbox=str(receiver.inbox))
        catalog = catalog_selecting(config, {"contacts", "webhook_events"})
        first = run_in_process(config, catalog=catalog)
        assert LISTED_KEYS not in first.final_state["bookmarks"]["contacts"]
        contact = sorted(sandbox.store.contacts.values(), key=lambda c: c["uri"])[0]
        Api(sandbox).delete(f"/contacts/{uuid_of(contact['uri'])}")
        assert sandbox.webhooks.wait_idle(timeout=30)
        since = len(sandbox.request_log)

        second = run_in_process(config, first.final_state, catalog=catalog)

    assert deletions(second) == {"contacts": {contact["uri"]}}
    listed = [r for r in sandbox.request_log[since:] if r.path == "/contacts"]
    assert len(listed) == 1, "one page: the deletion came from the delivery, not the listing"


def test_an_event_whose_invitee_cancelled_is_emitted_with_its_current_counters(
    sandbox: Sandbox,
) -> None:
    """One seat of a future group event cancelled: the event's updated_at does not move."""
    store = sandbox.store
    config = tap_config(sandbox)
    first = run_in_process(config)
    event = next(
        e
        for e in sorted(store.scheduled_events.values(), key=lambda e: e["uri"])
        if e["status"] == "active"
        and ts(e["start_time"]) > now()
        and e["invitees_counter"]["active"] >= 2
    )
    before = dict(event["invitees_counter"]), event["updated_at"]
    sandbox.cancel_invitee(first_free_invitee(sandbox, event)["uri"])
    assert event["updated_at"] == before[1]

    second = run_in_process(config, first.final_state)
    (emitted,) = [e for e in second.records["scheduled_events"] if e["uri"] == event["uri"]]
    assert emitted["invitees_counter"] == event["invitees_counter"] != before[0]
    assert emitted["invitees_counter"]["active"] == before[0]["active"] - 1


def test_late_no_shows_on_old_meetings_converge_with_the_deep_reread(sandbox: Sandbox) -> None:
    """Marked on a meeting 45-75 days old, and removed on one 80-110 days old (marked before
    the first run): outside lookback_days, no webhook. A run the deep re-read is not due on
    misses both, as does a run without it; the next due run has both."""
    api = Api(sandbox)
    deep = {"lookback_days": 30, "deep_reread_days": 120, "deep_reread_every_hours": 24}
    config = tap_config(sandbox, **deep)
    old_marked = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(80, 110)))
    api.post("/invitee_no_shows", {"invitee": old_marked["uri"]})
    first = run_in_process(config)
    assert first.final_state["bookmarks"]["invitees"]["deep_reread_at"]

    marked = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(45, 75)))
    api.post("/invitee_no_shows", {"invitee": marked["uri"]})
    api.delete(f"/invitee_no_shows/{uuid_of(old_marked['no_show']['uri'])}")
    changed = {marked["uri"], old_marked["uri"]}

    not_due = run_in_process(config, first.final_state)
    assert not changed & not_due.keys("invitees")
    without = run_in_process(tap_config(sandbox, lookback_days=30), first.final_state)
    assert not changed & without.keys("invitees")

    due = run_in_process({**config, "deep_reread_every_hours": 0}, not_due.final_state)
    rows = {row["uri"]: row for row in due.records["invitees"]}
    assert changed <= set(rows)
    assert rows[marked["uri"]]["no_show"] and rows[old_marked["uri"]]["no_show"] is None
    # Their events come along with their current state.
    assert {rows[u]["event"] for u in changed} <= due.keys("scheduled_events")


def test_a_no_show_removed_on_an_old_meeting_arrives_through_the_inbox(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The delivery names the event; its invitees are re-read and emitted although no updated_at
    moved (the meeting is older than lookback_days, so the no-show was not watched)."""
    events = ["invitee_no_show.created", "invitee_no_show.deleted"]
    with subscribed_receiver(sandbox, tmp_path, "no-show-key", events) as receiver:
        config = tap_config(sandbox, lookback_days=30, webhook_inbox=str(receiver.inbox))
        old = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(45, 110)))
        api = Api(sandbox)
        api.post("/invitee_no_shows", {"invitee": old["uri"]})
        first = run_in_process(config)
        api.delete(f"/invitee_no_shows/{uuid_of(old['no_show']['uri'])}")
        assert sandbox.webhooks.wait_idle(timeout=30)

        second = run_in_process(config, first.final_state)

    rows = {row["uri"]: row for row in second.records["invitees"]}
    assert old["uri"] in rows and rows[old["uri"]]["no_show"] is None


def test_a_capped_dry_run_declares_nothing_gone(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dry run (`--test`, the SDK's record cap) stops a child stream part-way: the rows it did
    not reach are not declared gone, and its kept keys stay those of the last complete run."""
    config = tap_config(sandbox)
    catalog = catalog_selecting(config, {"users", "locations"})
    first = run_in_process(config, catalog=catalog)
    monkeypatch.setattr(LocationsStream, "ABORT_AT_RECORD_COUNT", 3)
    capped = run_in_process(config, first.final_state, catalog=catalog)
    assert len(capped.records["locations"]) == 3 and deletions(capped) == {}
    kept = first.final_state["bookmarks"]["locations"][LISTED_KEYS]
    assert capped.final_state["bookmarks"]["locations"][LISTED_KEYS] == kept
