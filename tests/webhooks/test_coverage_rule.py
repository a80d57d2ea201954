"""The coverage rule on its own (tap_calendly/coverage.py): which uptimes and subscriptions prove
which stretch of time, and which events the unproven stretches send back to the safe rule."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from calendly_webhooks.inbox import Uptime
from tap_calendly.coverage import INVITEE_EVENTS, Coverage, assess
from tap_calendly.timestamps import format_timestamp

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
LAST_RUN = NOW - timedelta(hours=1)
URL = "https://hooks.example.com/webhooks"
DAILY = timedelta(hours=24)


def up(start: datetime, seen: datetime, *, stopped: bool = False, url: str = URL) -> Uptime:
    return Uptime(f"r{start.timestamp()}", url, start, seen, stopped)


def live_since(start: datetime) -> Uptime:
    return up(start, NOW - timedelta(seconds=10))


def subscription(**changes: Any) -> dict[str, Any]:
    return {
        "scope": "organization",
        "state": "active",
        "events": [*sorted(INVITEE_EVENTS), "routing_form_submission.created"],
        "callback_url": URL,
        "created_at": format_timestamp(NOW - timedelta(days=30)),
        "retry_started_at": None,
        **changes,
    }


def saved(
    proven: datetime = LAST_RUN, reconciled: datetime = NOW - timedelta(hours=2)
) -> dict[str, str]:
    return {
        "proven_through": format_timestamp(proven),
        "reconciled_at": format_timestamp(reconciled),
    }


def judge(
    uptimes: list[Uptime] | None = None,
    subscriptions: list[dict[str, Any]] | None = None,
    state: dict[str, str] | None = None,
) -> Coverage:
    return assess(
        saved() if state is None else state,
        [live_since(NOW - timedelta(days=3))] if uptimes is None else uptimes,
        [subscription()] if subscriptions is None else subscriptions,
        NOW,
        DAILY,
    )


def event(starts: datetime, created: datetime = NOW - timedelta(days=10)) -> dict[str, str]:
    return {"start_time": format_timestamp(starts), "created_at": format_timestamp(created)}


NEXT_WEEK = event(NOW + timedelta(days=7))
THREE_DAYS_AGO = event(NOW - timedelta(days=3))


def test_a_receiver_up_and_a_subscription_older_than_the_last_run_prove_everything() -> None:
    coverage = judge()
    assert coverage.stretches == () and not coverage.reconciles
    assert not coverage.needs_safe_read(NEXT_WEEK)
    assert not coverage.needs_safe_read(THREE_DAYS_AGO)
    # The next run proves from the last heartbeat: what follows it is not proven yet.
    assert coverage.proven_through == NOW - timedelta(seconds=10)
    assert coverage.state["reconciled_at"] == format_timestamp(NOW - timedelta(hours=2))


def test_no_earlier_check_and_a_due_reconciliation_apply_the_safe_rule() -> None:
    first = assess(None, [live_since(NOW - timedelta(days=3))], [subscription()], NOW, DAILY)
    assert first.reconciles and first.needs_safe_read(NEXT_WEEK)
    assert first.state == {"proven_through": format_timestamp(NOW)} | {
        "reconciled_at": format_timestamp(NOW)
    }
    due = judge(state=saved(reconciled=NOW - DAILY))
    assert due.reconciles and due.needs_safe_read(NEXT_WEEK)
    assert due.state["reconciled_at"] == format_timestamp(NOW)


def test_a_short_outage_is_bridged_by_retries_only_for_events_still_retried() -> None:
    down_at, back_at = NOW - timedelta(minutes=40), NOW - timedelta(minutes=30)
    restarted = [up(NOW - timedelta(days=3), down_at, stopped=True), live_since(back_at)]
    coverage = judge(uptimes=restarted)
    assert not coverage.reconciles
    assert not coverage.needs_safe_read(NEXT_WEEK)  # retried for 24 hours
    assert coverage.needs_safe_read(THREE_DAYS_AGO)  # a no-show on it gets one attempt
    assert not coverage.needs_safe_read(event(NOW - timedelta(days=3), created=back_at))
    # A retry of a delivery from the gap lands by back_at + 10 minutes + 1: proven from there.
    assert coverage.proven_through == back_at + timedelta(minutes=11)


def test_an_outage_retries_cannot_outlast_is_not_bridged() -> None:
    since = NOW - timedelta(hours=30)
    down_at, back_at = since + timedelta(minutes=5), since + timedelta(hours=14, minutes=5)
    restarted = [up(since - timedelta(days=1), down_at), live_since(back_at)]
    coverage = judge(uptimes=restarted, state=saved(proven=since))
    assert coverage.needs_safe_read(NEXT_WEEK)  # the retry after 14 hours falls past 24
    assert not coverage.needs_safe_read(event(NOW + timedelta(days=7), created=back_at))


def test_a_receiver_down_now_proves_nothing_after_its_last_heartbeat() -> None:
    for gone in (
        up(NOW - timedelta(days=3), NOW - timedelta(minutes=5)),  # died silently
        up(NOW - timedelta(days=3), NOW - timedelta(seconds=5), stopped=True),
    ):
        coverage = judge(uptimes=[gone])
        assert coverage.reconciles and coverage.needs_safe_read(NEXT_WEEK)
        assert coverage.proven_through == NOW
    assert judge(uptimes=[]).reconciles  # a format-1 inbox records no uptime


def test_a_subscription_that_does_not_deliver_every_invitee_event_to_the_receiver() -> None:
    missing_one = sorted(INVITEE_EVENTS - {"invitee_no_show.deleted"})
    for subscriptions in (
        [],
        [subscription(state="disabled")],
        [subscription(events=missing_one)],
        [subscription(callback_url="https://elsewhere.example.com/hooks")],
        [subscription(scope="user")],
        [subscription(retry_started_at=format_timestamp(NOW - timedelta(minutes=3)))],
    ):
        coverage = judge(subscriptions=subscriptions)
        assert coverage.reconciles, subscriptions
        assert coverage.needs_safe_read(NEXT_WEEK)


def test_a_subscription_created_since_the_last_run_proves_only_what_followed() -> None:
    created = NOW - timedelta(minutes=20)
    coverage = judge(subscriptions=[subscription(created_at=format_timestamp(created))])
    assert not coverage.reconciles
    assert coverage.needs_safe_read(NEXT_WEEK)
    assert not coverage.needs_safe_read(event(NOW + timedelta(days=7), created=created))


def test_one_good_subscription_among_failing_ones_is_enough() -> None:
    failing = subscription(retry_started_at=format_timestamp(NOW - timedelta(minutes=3)))
    coverage = judge(subscriptions=[failing, subscription()])
    assert coverage.stretches == () and not coverage.reconciles
