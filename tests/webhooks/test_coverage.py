"""Webhook coverage end to end (sandbox -> calendly-webhooks -> inbox -> tap, all real): with the
receiver up and the subscription active, an incremental run reads invitees only for the events
changes touched; with the receiver down or the subscription disabled it falls back to the safe
rule; every change arrives either way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from tap_calendly.coverage import RETRY_WINDOW
from tests.tap.conftest import Api, TapRun, run_in_process, tap_config
from tests.tap.test_incremental import book, first_free_invitee, pick_event
from tests.webhooks.receiver import Receiver, subscribed_receiver
from tests.webhooks.test_tap_webhook_events import EVENTS, delivered, group_event_with_invitees

KEY = "coverage-test-signing-key"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, events=120, webhook_time_scale=0) as running:
        yield running


@pytest.fixture
def receiver(tmp_path: Path, sandbox: Sandbox) -> Iterator[Receiver]:
    with subscribed_receiver(sandbox, tmp_path, KEY, EVENTS) as running:
        yield running


def invitee_reads(sandbox: Sandbox, since: int) -> list[str]:
    """The events whose invitees were listed after request `since`, one entry per request."""
    return [
        r.path.split("/")[2] for r in sandbox.request_log[since:] if r.path.endswith("/invitees")
    ]


def run_counting(
    sandbox: Sandbox, config: dict[str, Any], state: dict[str, Any]
) -> tuple[TapRun, list[str]]:
    mark = len(sandbox.request_log)
    run = run_in_process(config, state)
    assert run.returncode == 0, run.stderr
    return run, invitee_reads(sandbox, mark)


def mark_no_show(sandbox: Sandbox, event: dict[str, Any]) -> str:
    invitee = first_free_invitee(sandbox, event)
    Api(sandbox).post("/invitee_no_shows", {"invitee": invitee["uri"]})
    return str(invitee["uri"])


def test_with_coverage_only_the_touched_events_have_their_invitees_read(sandbox, receiver):
    config = tap_config(sandbox, webhook_inbox=str(receiver.inbox))
    first = run_in_process(config)
    # Changes that leave their event as it was (no-shows: recent, old, of one seat of a group
    # event) and one that makes a new event (a booking).
    group = group_event_with_invitees(sandbox)
    old = pick_event(sandbox, started_days_ago=(45, 75))
    recent = pick_event(sandbox, started_days_ago=(2, 20))
    changed = {mark_no_show(sandbox, event) for event in (group, old, recent)}
    booked = book(sandbox, Api(sandbox))
    delivered(sandbox)
    touched = {uuid_of(e["uri"]) for e in (group, old, recent)} | {uuid_of(booked["event"])}

    covered, reads = run_counting(sandbox, config, first.final_state)
    assert sorted(reads) == sorted(touched)  # one request per touched event, nothing else
    assert changed | {booked["uri"]} <= covered.keys("invitees")

    safe, safe_reads = run_counting(
        sandbox, {**config, "webhook_coverage": False}, first.final_state
    )
    assert len(safe_reads) > 4 * len(reads)
    assert covered.keys("invitees") == safe.keys("invitees")  # the same changes caught

    quiet, quiet_reads = run_counting(sandbox, config, covered.final_state)
    assert quiet_reads == [] and quiet.records["invitees"] == []


def test_a_receiver_down_sends_the_run_back_to_the_safe_rule(sandbox, receiver):
    config = tap_config(sandbox, webhook_inbox=str(receiver.inbox))
    first = run_in_process(config)
    receiver.stop()
    future = pick_event(sandbox, started_days_ago=(-40, -1))
    missed = mark_no_show(sandbox, future)  # its delivery fails and waits for a retry
    assert sandbox.webhooks.wait_idle(timeout=30)

    down, reads = run_counting(sandbox, config, first.final_state)
    _, safe_reads = run_counting(sandbox, {**config, "webhook_coverage": False}, first.final_state)
    assert missed in down.keys("invitees")
    assert sorted(reads) == sorted(safe_reads) and uuid_of(future["uri"]) in reads


def test_a_disabled_subscription_sends_the_run_back_to_the_safe_rule(sandbox, receiver, tmp_path):
    config = tap_config(sandbox, webhook_inbox=str(receiver.inbox))
    first = run_in_process(config)
    (tmp_path / "keys.txt").write_text("a-key-calendly-does-not-sign-with\n", encoding="utf-8")
    refused = mark_no_show(sandbox, pick_event(sandbox, started_days_ago=(-40, -1)))
    assert sandbox.webhooks.wait_idle(timeout=30)
    sandbox.webhooks.advance(RETRY_WINDOW.total_seconds() + 3600)  # 24 hours of refusals
    assert sandbox.webhooks.wait_idle(timeout=30)
    listed = Api(sandbox).session.get(
        f"{sandbox.base_url}/webhook_subscriptions",
        params={"organization": sandbox.store.organization["uri"], "scope": "organization"},
        timeout=30,
    )
    [hook] = [h for h in listed.json()["collection"] if h["callback_url"].startswith(receiver.url)]
    assert hook["state"] == "disabled"
    (tmp_path / "keys.txt").write_text(KEY + "\n", encoding="utf-8")
    unsent = mark_no_show(sandbox, pick_event(sandbox, started_days_ago=(2, 20)))

    disabled, reads = run_counting(sandbox, config, first.final_state)
    _, safe_reads = run_counting(sandbox, {**config, "webhook_coverage": False}, first.final_state)
    assert {refused, unsent} <= disabled.keys("invitees")
    assert sorted(reads) == sorted(safe_reads)
