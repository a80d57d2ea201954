"""Dimension reads on a cadence (`dimension_refresh_hours`, tap_calendly/dimensions.py): between
refreshes only the parents that changed are re-read; a change that moves no parent arrives at the
next refresh (sandbox, real tap runs)."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from tap_calendly.dimensions import STATE_KEY, DimensionStream
from tap_calendly.timestamps import format_timestamp
from tap_calendly.webhooks import WebhookHints
from tests.tap.conftest import Api, TapRun, run_in_process, tap_config
from tests.tap.test_stream_units import make_tap

DIMENSIONS = {
    "/event_type_memberships": "event_type_hosts",
    "/event_type_availability_schedules": "event_type_availability_schedules",
    "/user_availability_schedules": "availability_schedules",
    "/locations": "locations",
    "/webhook_subscriptions": "webhook_subscriptions",  # one list per scope
}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, events=30) as running:
        yield running


def reads(sandbox: Sandbox, config: dict[str, Any], state: Any) -> tuple[TapRun, Counter[str]]:
    mark = len(sandbox.request_log)
    run = run_in_process(config, state)
    assert run.returncode == 0, run.stderr
    hits = [r for r in sandbox.request_log[mark:] if r.method == "GET"]
    return run, Counter(DIMENSIONS[r.path] for r in hits if r.path in DIMENSIONS)


def solo_event_types(sandbox: Sandbox) -> list[dict[str, Any]]:
    me = sandbox.store.current_user["uri"]
    return [
        t
        for t in sorted(sandbox.store.event_types.values(), key=lambda t: t["uri"])
        if t["kind"] == "solo"
        and not t["pooling_type"]
        and not t["deleted_at"]
        and t["profile"]["owner"] == me
    ]


def refreshed_long_ago(state: dict[str, Any]) -> dict[str, Any]:
    older = copy.deepcopy(state)
    then = format_timestamp(datetime.now(timezone.utc) - timedelta(hours=25))
    for stream in DIMENSIONS.values():
        older["bookmarks"][stream][STATE_KEY] = then
    return older


def test_between_refreshes_only_changed_parents_are_reread(sandbox: Sandbox) -> None:
    config = tap_config(sandbox, dimension_refresh_hours=24)
    first, full = reads(sandbox, config, None)
    event_types, users = len(sandbox.store.event_types), len(sandbox.store.users)
    assert full["event_type_hosts"] == full["event_type_availability_schedules"] == event_types
    assert full["availability_schedules"] == full["locations"] == users

    assert full["webhook_subscriptions"] > 1 + users  # the organization, members, groups
    quiet, none = reads(sandbox, config, first.final_state)
    assert none == Counter({"webhook_subscriptions": 1})  # the organization's only

    renamed, reshaped = solo_event_types(sandbox)[:2]
    session = Api(sandbox).session
    answer = session.patch(
        f"{sandbox.base_url}/event_types/{uuid_of(renamed['uri'])}",
        json={"name": "Renamed by the test"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    rule = {
        "timezone": "UTC",
        "rules": [
            {"type": "wday", "wday": "monday", "intervals": [{"from": "07:00", "to": "08:00"}]}
        ],
    }
    answer = session.patch(
        f"{sandbox.base_url}/event_type_availability_schedules",
        params={"event_type": reshaped["uri"]},
        json={"availability_rule": rule},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text

    # A change Calendly makes without moving any updated_at (the sandbox's API has no such
    # write): a user's schedule edited in place.
    with sandbox.store.lock:
        schedule = min(sandbox.store.user_availability_schedules.values(), key=lambda s: s["uri"])
        schedule["timezone"] = "Pacific/Chatham"

    changed, only = reads(sandbox, config, quiet.final_state)
    assert only == Counter(
        {"event_type_hosts": 2, "event_type_availability_schedules": 2, "webhook_subscriptions": 1}
    )
    assert {r["event_type"] for r in changed.records["event_type_availability_schedules"]} == {
        renamed["uri"],
        reshaped["uri"],
    }
    assert changed.records["availability_schedules"] == []

    # It arrives with the next refresh.
    due, everything = reads(sandbox, config, refreshed_long_ago(changed.final_state))
    assert everything == full
    [edited] = [r for r in due.records["availability_schedules"] if r["uri"] == schedule["uri"]]
    assert edited["timezone"] == "Pacific/Chatham"
    _, nothing = reads(sandbox, config, due.final_state)
    assert nothing == none


def test_without_a_cadence_every_parent_is_read_every_run(sandbox: Sandbox) -> None:
    config = tap_config(sandbox)
    first, full = reads(sandbox, config, None)
    _, again = reads(sandbox, config, first.final_state)
    assert again == full


def test_a_refresh_emits_what_was_skipped_even_behind_a_newer_bookmark(sandbox: Sandbox) -> None:
    """A host row skipped between refreshes can be older than the bookmark another event type's
    host rows moved meanwhile: the refresh still emits it."""
    config = tap_config(sandbox, dimension_refresh_hours=24)
    first = run_in_process(config)
    skipped_type, renamed = solo_event_types(sandbox)[:2]

    def touch_host_of(event_type: dict[str, Any]) -> str:
        with sandbox.store.lock:
            membership = next(
                m
                for m in sandbox.store.event_type_memberships.values()
                if m["event_type"]["uri"] == event_type["uri"]
            )
            membership["updated_at"] = format_timestamp(datetime.now(timezone.utc))
            sandbox.store.changed("event_type_memberships")
        return str(membership["uri"])

    skipped = touch_host_of(skipped_type)  # its event type does not move
    newer = touch_host_of(renamed)
    answer = Api(sandbox).session.patch(
        f"{sandbox.base_url}/event_types/{uuid_of(renamed['uri'])}",
        json={"name": "Renamed by the test"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    between = run_in_process(config, first.final_state)
    assert between.keys("event_type_hosts") == {newer}

    refresh = run_in_process(config, refreshed_long_ago(between.final_state))
    assert skipped in refresh.keys("event_type_hosts")


def test_between_refreshes_an_event_type_a_delivery_is_about_is_reread() -> None:
    refreshed = format_timestamp(datetime.now(timezone.utc) - timedelta(hours=1))
    state = {"bookmarks": {"event_type_hosts": {STATE_KEY: refreshed}}}
    tap = make_tap(state, dimension_refresh_hours=24)
    hosts = tap.streams["event_type_hosts"]
    assert isinstance(hosts, DimensionStream)
    hosts.prepare_fetch()
    quiet = {
        "uri": "https://api.calendly.com/event_types/QUIET",
        "updated_at": "2024-01-01T00:00:00Z",
    }
    announced = {**quiet, "uri": "https://api.calendly.com/event_types/ANNOUNCED"}
    hints = WebhookHints(())
    hints.subjects.add(announced["uri"])  # an event_type.updated delivery's payload.uri
    tap.webhook_hints = hints  # type: ignore[misc]
    assert not hosts.reads_children_of(quiet)
    assert hosts.reads_children_of(announced)
    assert hosts.reads_children_of(
        {**quiet, "updated_at": format_timestamp(datetime.now(timezone.utc))}
    )
