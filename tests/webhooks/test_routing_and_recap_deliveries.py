"""What happens on Calendly without an API call: a routing form submitted and a meeting's recap
finished. Both are delivered (organization scope and the host's user scope), stored by the
receiver, read by the tap as webhook_events, and the same run's routing_form_submissions and
meeting_recaps streams bring the new rows (sandbox -> receiver -> inbox -> tap, all real)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from calendly_sandbox.timefmt import fmt
from tests.tap.conftest import catalog_selecting, run_in_process, tap_config
from tests.webhooks.receiver import Receiver, subscribe_receiver, subscribed_receiver

KEY = "routing-hook-signing-key"
STREAMS = {"routing_form_submissions", "meeting_recaps", "webhook_events"}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=6, events=200, webhook_time_scale=0) as running:
        yield running


@pytest.fixture
def receiver(tmp_path: Path, sandbox: Sandbox) -> Iterator[Receiver]:
    with subscribed_receiver(
        sandbox, tmp_path, KEY, ["routing_form_submission.created"]
    ) as running:
        yield running


def test_submissions_and_recaps_arrive_as_deliveries_and_rows(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    config = tap_config(sandbox, webhook_inbox=str(receiver.inbox))
    catalog = catalog_selecting(config, STREAMS)
    first = run_in_process(config, catalog=catalog)
    form = next(f for f in sandbox.store.routing_forms.values() if f["status"] == "published")
    submission = sandbox.submit_routing_form(
        form["uri"], {"Name": "Ada Lovelace", "Email": "ada@example.org"}
    )
    owner = sandbox.store.current_user["uri"]  # the tap lists the token user's recaps
    recapped = {r["event"] for r in sandbox.store.meeting_recaps.values()}
    meeting = min(
        (
            e
            for e in sandbox.store.scheduled_events.values()
            if e["status"] == "active"
            and e["end_time"] < fmt(time.time())
            and e["uri"] not in recapped
            and owner in sandbox.store.event_hosts[uuid_of(e["uri"])]
        ),
        key=lambda e: e["uri"],
    )
    # recap events exist only with user scope
    subscribe_receiver(sandbox, receiver, KEY, ["meeting_recap.created"], user=owner)
    recap = sandbox.finish_recap(meeting["uri"])
    assert sandbox.webhooks.wait_idle(timeout=30)
    assert [m.state for m in sandbox.webhooks.messages if m.url.startswith(receiver.url)] == [
        "delivered",
        "delivered",
    ]

    second = run_in_process(config, first.final_state, catalog=catalog)

    delivered = {r["event"]: r for r in second.records["webhook_events"]}
    assert set(delivered) == {"routing_form_submission.created", "meeting_recap.created"}
    assert submission["uri"] in delivered["routing_form_submission.created"]["uris"]
    assert {recap["uri"], meeting["uri"]} <= set(delivered["meeting_recap.created"]["uris"])
    assert submission["uri"] in {r["uri"] for r in second.records["routing_form_submissions"]}
    assert recap["uri"] in {r["uri"] for r in second.records["meeting_recaps"]}
