"""tap-calendly with webhook_inbox: webhook_events from the inbox, and the events and invitees
deliveries name re-read whatever their age (sandbox -> receiver -> inbox -> tap, all real)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calendly_http import ConfigError
from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from tap_calendly.tap import TapCalendly
from tests.tap.conftest import Api, run_in_process, tap_config
from tests.tap.test_incremental import first_free_invitee, pick_event
from tests.webhooks.receiver import Receiver, subscribed_receiver

KEY = "tap-test-signing-key"
EVENTS = [
    "invitee.created",
    "invitee.canceled",
    "invitee_no_show.created",
    "invitee_no_show.deleted",
]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, events=120, webhook_time_scale=0) as running:
        yield running


@pytest.fixture
def receiver(tmp_path: Path, sandbox: Sandbox) -> Iterator[Receiver]:
    with subscribed_receiver(sandbox, tmp_path, KEY, EVENTS) as running:
        yield running


def delivered(sandbox: Sandbox) -> None:
    assert sandbox.webhooks.wait_idle(timeout=30)
    assert all(m.state in ("delivered", "skipped") for m in sandbox.webhooks.messages)


def invitee_requests(sandbox: Sandbox, since: int) -> list[str]:
    return [r.path for r in sandbox.request_log[since:] if r.path.endswith("/invitees")]


def test_an_old_no_show_is_picked_up_only_through_the_inbox(sandbox, receiver):
    config = tap_config(sandbox, lookback_days=30, webhook_inbox=str(receiver.inbox))
    first = run_in_process(config)
    assert first.records["webhook_events"] == []
    old = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(45, 75)))
    Api(sandbox).post("/invitee_no_shows", {"invitee": old["uri"]})
    delivered(sandbox)

    without = {k: v for k, v in config.items() if k != "webhook_inbox"}
    blind = run_in_process(without, first.final_state)
    assert old["uri"] not in blind.keys("invitees")  # older than the lookback window

    second = run_in_process(config, first.final_state)
    assert second.keys("invitees") == {old["uri"]}
    [record] = second.records["webhook_events"]
    assert record["event"] == "invitee_no_show.created"
    assert record["payload"]["uri"] == old["uri"]
    assert old["uri"] in record["uris"] and record["scheduled_event_uris"] == [old["event"]]
    assert record["created_by"] == sandbox.store.current_user["uri"]
    assert record["position"] == 1

    third = run_in_process(config, second.final_state)
    assert third.records["webhook_events"] == [] and third.records["invitees"] == []


def test_the_inbox_bookmark_loses_and_repeats_nothing_across_a_crash(sandbox, receiver):
    config = tap_config(sandbox, webhook_inbox=str(receiver.inbox))
    catalog = TapCalendly(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == "webhook_events"
    api = Api(sandbox)
    with sandbox.store.lock:
        free = [
            i["uri"]
            for i in sandbox.store.invitees.values()
            if i["status"] == "active" and i.get("no_show") is None
        ][:6]
    for uri in free:
        api.post("/invitee_no_shows", {"invitee": uri})
    delivered(sandbox)
    crashed = run_in_process(config, catalog=catalog, stop_after_records=3)
    assert crashed.returncode == 1
    state = crashed.states[-1] if crashed.states else None
    resumed = run_in_process(config, state, catalog=catalog)
    seen = [r["position"] for r in crashed.records["webhook_events"]]
    seen += [r["position"] for r in resumed.records["webhook_events"]]
    assert set(seen) == set(range(1, 7))  # nothing lost
    # What the target received after the last STATE it got is sent again; the key makes the
    # load idempotent, and nothing before that STATE is sent twice.
    acknowledged = (state or {}).get("bookmarks", {}).get("webhook_events", {})
    after = acknowledged.get("replication_key_value", 0)
    assert all(r["position"] > after for r in resumed.records["webhook_events"])
    again = run_in_process(config, resumed.final_state, catalog=catalog)
    assert again.records["webhook_events"] == []


def group_event_with_invitees(sandbox: Sandbox) -> dict[str, Any]:
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc).isoformat()
    with sandbox.store.lock:
        return next(
            e
            for e in sandbox.store.scheduled_events.values()
            if e["start_time"] > now
            and e["status"] == "active"
            and any(
                sandbox.store.invitees[i]["status"] == "active"
                and sandbox.store.invitees[i].get("no_show") is None
                for i in sandbox.store.invitees_by_event[uuid_of(e["uri"])]
            )
        )


def test_skipping_unchanged_future_invitees_reads_only_what_changed_or_was_named(sandbox, receiver):
    config = tap_config(
        sandbox, webhook_inbox=str(receiver.inbox), skip_unchanged_future_invitees=True
    )
    first = run_in_process(config)
    quiet_mark = len(sandbox.request_log)
    quiet = run_in_process(config, first.final_state)
    future_reads = invitee_requests(sandbox, quiet_mark)
    safe_mark = len(sandbox.request_log)
    safe = {**config, "webhook_coverage": False}
    run_in_process(safe, first.final_state)
    assert len(invitee_requests(sandbox, safe_mark)) > len(future_reads)
    assert quiet.records["invitees"] == []

    event = group_event_with_invitees(sandbox)
    invitee = first_free_invitee(sandbox, event)
    Api(sandbox).post("/invitee_no_shows", {"invitee": invitee["uri"]})  # the event stays as it was
    delivered(sandbox)
    mark = len(sandbox.request_log)
    second = run_in_process(config, quiet.final_state)
    assert invitee["uri"] in second.keys("invitees")
    reads = invitee_requests(sandbox, mark)
    assert f"/scheduled_events/{uuid_of(event['uri'])}/invitees" in reads
    assert len(reads) == len(future_reads) + 1


def test_bad_inbox_settings_name_the_setting(sandbox, tmp_path: Path):
    with pytest.raises(ConfigError, match="skip_unchanged_future_invitees"):
        TapCalendly(config=tap_config(sandbox, skip_unchanged_future_invitees=True))
    config = tap_config(sandbox, webhook_inbox=str(tmp_path / "missing.sqlite"))
    with pytest.raises(ConfigError, match="webhook_inbox"):
        run_in_process(config)
    assert "webhook_events" in json.dumps(TapCalendly(config=config).catalog_dict)
    assert "webhook_events" not in json.dumps(TapCalendly(config=tap_config(sandbox)).catalog_dict)


def test_a_replaced_inbox_is_read_from_its_start(sandbox, receiver, tmp_path: Path):
    config = tap_config(sandbox, webhook_inbox=str(receiver.inbox))
    first = run_in_process(config)
    state = json.loads(json.dumps(first.final_state))
    state["bookmarks"]["webhook_events"] = {
        "replication_key": "position",
        "replication_key_value": 99,
    }
    Api(sandbox).post(
        "/invitee_no_shows",
        {
            "invitee": first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(2, 20)))[
                "uri"
            ]
        },
    )
    delivered(sandbox)
    second = run_in_process(config, state)
    assert [r["position"] for r in second.records["webhook_events"]] == [1]
