"""Incremental behaviour of every stream, against the sandbox.

Changes go through the sandbox's public write endpoints (book, cancel, no-show); "changed rows"
are the resources whose served form differs between snapshots of the sandbox taken before and
after the writes, so the expectation does not re-implement the tap's logic.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from calendly_sandbox import Sandbox
from tap_calendly.streams import STREAM_TYPES
from tests.tap.conftest import (
    Api,
    TapRun,
    as_served,
    catalog_selecting,
    changed_keys,
    key_of,
    run_in_process,
    snapshot,
    tap_config,
)

UTC = timezone.utc
FULL_TABLE = {s.name for s in STREAM_TYPES if not s.replication_key}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def now() -> datetime:
    return datetime.now(UTC)


def pick_event(sandbox: Sandbox, *, started_days_ago: tuple[float, float]) -> dict[str, Any]:
    """An active event that started within the given range of days ago (negative: future),
    with at least one active invitee that is not a no-show."""
    bounds = [now() - timedelta(days=d) for d in started_days_ago]
    oldest, newest = min(bounds), max(bounds)
    store = sandbox.store
    for event in sorted(store.scheduled_events.values(), key=lambda e: e["start_time"]):
        invitees = [
            store.invitees[u]
            for u in store.invitees_by_event.get(event["uri"].rsplit("/", 1)[-1], [])
        ]
        if (
            event["status"] == "active"
            and oldest <= ts(event["start_time"]) <= newest
            and any(i["status"] == "active" and i.get("no_show") is None for i in invitees)
        ):
            return event
    raise AssertionError(
        f"the sandbox has no active event that started {started_days_ago} days ago"
    )


def first_free_invitee(sandbox: Sandbox, event: dict[str, Any]) -> dict[str, Any]:
    uuid = event["uri"].rsplit("/", 1)[-1]
    return next(
        sandbox.store.invitees[u]
        for u in sandbox.store.invitees_by_event[uuid]
        if sandbox.store.invitees[u]["status"] == "active"
        and sandbox.store.invitees[u].get("no_show") is None
    )


def book(sandbox: Sandbox, api: Api) -> dict[str, Any]:
    event_type = next(
        t
        for t in sorted(sandbox.store.event_types.values(), key=lambda t: t["uri"])
        if t["active"] and not t["deleted_at"] and t["kind"] == "solo"
    )
    start = (now() + timedelta(days=9)).replace(minute=17, second=0, microsecond=0)
    return api.post(
        "/invitees",
        {
            "event_type": event_type["uri"],
            "start_time": start.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "invitee": {"name": "Ada Booked", "email": "ada@example.org", "timezone": "UTC"},
        },
    )


def assert_emits_exactly(second: TapRun, changed: dict[str, set[str]]) -> None:
    for stream, expected in changed.items():
        if stream in FULL_TABLE:
            continue
        emitted = second.keys(stream)
        assert emitted == expected, (
            f"{stream}: emitted {len(emitted)} rows, {len(expected)} changed; "
            f"missing {sorted(expected - emitted)[:5]}, extra {sorted(emitted - expected)[:5]}"
        )


def test_a_first_run_emits_every_resource_of_every_stream_exactly_once(sandbox: Sandbox) -> None:
    run = run_in_process(tap_config(sandbox))
    for stream, resources in snapshot(sandbox).items():
        assert len(run.records[stream]) == len(run.keys(stream)), f"{stream}: duplicates"
        assert run.keys(stream) == set(resources), stream
        # Rows are passed on whole: every field the API sent arrives, unchanged.
        for row in run.records[stream]:
            served = as_served(row)
            assert served == resources[key_of(stream, row)], f"{stream}: {key_of(stream, row)}"


def test_a_second_run_without_changes_emits_nothing(sandbox: Sandbox) -> None:
    config = tap_config(sandbox)
    first = run_in_process(config)
    assert len(first.records["scheduled_events"]) == len(sandbox.store.scheduled_events)
    assert len(first.records["invitees"]) == len(sandbox.store.invitees)
    second = run_in_process(config, first.final_state)
    emitted = {s: len(rows) for s, rows in second.records.items() if s not in FULL_TABLE and rows}
    assert emitted == {}
    # Full-table streams are read in full every time.
    assert len(second.records["availability_schedules"]) == len(
        sandbox.store.user_availability_schedules
    )


def test_bookings_cancellations_no_shows_invitations_and_hooks_arrive_in_the_next_run_only(
    sandbox: Sandbox,
) -> None:
    config = tap_config(sandbox)
    first = run_in_process(config)
    before = snapshot(sandbox)
    api = Api(sandbox)

    booked = book(sandbox, api)
    future = pick_event(sandbox, started_days_ago=(-2, -60))
    api.post(f"/scheduled_events/{future['uri'].rsplit('/', 1)[-1]}/cancellation", {"reason": "x"})
    recent = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(1, 10)))
    api.post("/invitee_no_shows", {"invitee": recent["uri"]})
    marked = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(11, 20)))
    no_show = api.post("/invitee_no_shows", {"invitee": marked["uri"]})
    # Undoing a no-show that run 1 did not see (made and undone between the runs).
    api.delete(f"/invitee_no_shows/{no_show['uri'].rsplit('/', 1)[-1]}")

    organization = sandbox.store.organization["uri"]
    invitation = api.post(
        f"/organizations/{organization.rsplit('/', 1)[-1]}/invitations",
        {"email": "new.hire@example.org"},
    )
    hook = api.post(
        "/webhook_subscriptions",
        {
            "url": "https://example.org/calendly-hook",
            "events": ["invitee.created"],
            "organization": organization,
            "scope": "user",
            "user": sandbox.member["user"]["uri"],
        },
    )

    changed = changed_keys(before, snapshot(sandbox))
    assert invitation["uri"] in changed["organization_invitations"]
    assert hook["uri"] in changed["webhook_subscriptions"]
    assert changed["activity_log_entries"]  # the invitation is logged
    assert booked["uri"] in changed["invitees"] and recent["uri"] in changed["invitees"]
    assert future["uri"] in changed["scheduled_events"]
    # Made and undone between the runs: no updated_at moved, so the invitee reads as before.
    assert marked["uri"] not in changed["invitees"]

    second = run_in_process(config, first.final_state)
    assert_emits_exactly(second, changed)
    # And a third run has nothing new to say.
    third = run_in_process(config, second.final_state)
    assert not any(rows for s, rows in third.records.items() if s not in FULL_TABLE)


def test_no_show_on_an_event_older_than_the_lookback_needs_a_longer_lookback(
    sandbox: Sandbox,
) -> None:
    """The trade-off lookback_days makes: the window reaches (bookmark - lookback) back."""
    config = tap_config(sandbox, lookback_days=30)
    first = run_in_process(config)
    old = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(45, 75)))
    Api(sandbox).post("/invitee_no_shows", {"invitee": old["uri"]})

    short = run_in_process(config, first.final_state)
    assert old["uri"] not in short.keys("invitees")

    long = run_in_process({**config, "lookback_days": 90}, first.final_state)
    assert long.keys("invitees") == {old["uri"]}


def test_first_run_reads_from_start_date_including_future_events(sandbox: Sandbox) -> None:
    start = now() - timedelta(days=20)
    run = run_in_process(tap_config(sandbox, start_date=start.isoformat()))
    expected = {
        e["uri"] for e in sandbox.store.scheduled_events.values() if ts(e["start_time"]) >= start
    }
    assert run.keys("scheduled_events") == expected
    assert any(ts(e["start_time"]) > now() for e in run.records["scheduled_events"])
    event_uris = {e["uri"] for e in run.records["scheduled_events"]}
    assert {i["event"] for i in run.records["invitees"]} == event_uris
    expected_invitees = {
        i["uri"] for i in sandbox.store.invitees.values() if i["event"] in event_uris
    }
    assert run.keys("invitees") == expected_invitees


def test_invitees_alone_are_incremental_too(sandbox: Sandbox) -> None:
    """With scheduled_events deselected its bookmark never moves; the invitees re-read follow
    the invitees' own bookmark (events are listed from start_date every run)."""
    config = tap_config(sandbox)
    catalog = catalog_selecting(config, {"invitees"})
    first = run_in_process(config, catalog=catalog)
    assert set(first.records) == {"invitees"}
    assert first.keys("invitees") == set(snapshot(sandbox)["invitees"])
    invitee = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(1, 10)))
    Api(sandbox).post("/invitee_no_shows", {"invitee": invitee["uri"]})
    sandbox.request_log.clear()
    second = run_in_process(config, first.final_state, catalog=catalog)
    assert second.keys("invitees") == {invitee["uri"]}
    listing = next(r for r in sandbox.request_log if r.path == "/scheduled_events")
    assert "min_start_time" not in listing.query  # no start_date: every event is listed
    reach = ts(first.bookmark("invitees") or "") - timedelta(days=30)
    reread = {r.path.split("/")[2] for r in sandbox.request_log if r.path.endswith("/invitees")}
    with sandbox.store.lock:
        in_window = {
            uuid
            for uuid, event in sandbox.store.scheduled_events.items()
            if ts(event["start_time"]) >= reach
        }
    assert reread == in_window


def test_state_stays_small_whatever_the_number_of_events() -> None:
    sizes = {}
    for events in (50, 300):
        with Sandbox(seed=5, events=events) as sandbox:
            run = run_in_process(tap_config(sandbox))
            assert len(run.records["invitees"]) == len(sandbox.store.invitees)
            state = run.final_state
            # No-shows are watched within the re-read window only (bounded by the window).
            watched = state["bookmarks"]["invitees"].pop("watched_no_shows")
            reach = ts(run.bookmark("invitees") or "") - timedelta(days=30)
            assert all(ts(day) >= reach.replace(hour=0, minute=0) for day in watched)
            assert all(len(key) == 12 for keys in watched.values() for key in keys.split())
            # The keys listed by the streams whose rows can vanish grow with the organization's
            # configuration (members, event types), not with its events (tests/tap/test_deletions.py).
            for stream in state["bookmarks"].values():
                stream.pop("listed_keys", None)
            text = json.dumps(state)
            assert "partitions" not in text and "progress_markers" not in text
            sizes[events] = len(text)
    # Same keys, same shape: only timestamp values differ.
    assert abs(sizes[300] - sizes[50]) < 64, sizes
    assert sizes[300] < 4096, sizes
