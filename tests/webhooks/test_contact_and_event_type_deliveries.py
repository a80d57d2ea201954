"""contact.* and event_type.* changes: announced by the sandbox, stored by the receiver, read by
the tap as webhook_events, and the same run's contacts / event_types streams bring the changed
resources (sandbox -> receiver -> inbox -> tap, all real). A deletion reaches the warehouse only
as its delivery: the API no longer lists the resource."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from calendly_sandbox import Sandbox
from tests.tap.conftest import Api, catalog_selecting, run_in_process, tap_config
from tests.webhooks.receiver import Receiver, subscribed_receiver

KEY = "contact-hook-signing-key"
EVENTS = [
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "event_type.created",
    "event_type.updated",
]
STREAMS = {"contacts", "event_types", "webhook_events"}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=4, events=60, webhook_time_scale=0) as running:
        yield running


@pytest.fixture
def receiver(tmp_path: Path, sandbox: Sandbox) -> Iterator[Receiver]:
    with subscribed_receiver(sandbox, tmp_path, KEY, EVENTS) as running:
        yield running


def test_contact_and_event_type_deliveries_and_their_refresh(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    config = tap_config(sandbox, webhook_inbox=str(receiver.inbox))
    catalog = catalog_selecting(config, STREAMS)
    first = run_in_process(config, catalog=catalog)
    api = Api(sandbox)
    created = api.post(
        "/contacts",
        {"name": "Hooked", "emails": [{"email": "hooked@example.com", "is_primary": True}]},
    )
    doomed = sorted(sandbox.store.contacts.values(), key=lambda c: c["uri"])[0]
    api.delete(f"/contacts/{doomed['uri'].rsplit('/', 1)[-1]}")
    event_type = api.post(
        "/event_types", {"owner": sandbox.store.current_user["uri"], "name": "Hooked call"}
    )
    assert sandbox.webhooks.wait_idle(timeout=30)
    assert all(m.state in ("delivered", "skipped") for m in sandbox.webhooks.messages)

    second = run_in_process(config, first.final_state, catalog=catalog)

    events = {
        (
            r["event"],
            r["payload"]["contact"]["uri"] if "contact" in r["payload"] else r["payload"]["uri"],
        )
        for r in second.records["webhook_events"]
    }
    assert events == {
        ("contact.created", created["uri"]),
        ("contact.deleted", doomed["uri"]),
        ("event_type.created", event_type["uri"]),
    }
    # The deleted contact arrives as a deletion (docs/deletions.md), the new one as a row.
    assert {(r["uri"], bool(r["_sdc_deleted_at"])) for r in second.records["contacts"]} == {
        (created["uri"], False),
        (doomed["uri"], True),
    }
    assert event_type["uri"] in {r["uri"] for r in second.records["event_types"]}
    assert all(
        created["uri"] in r["uris"]
        for r in second.records["webhook_events"]
        if r["event"] == "contact.created"
    )
