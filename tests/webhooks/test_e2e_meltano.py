"""End to end: subscribe through target-calendly, book, cancel and mark a no-show through the
sandbox's API; the deliveries reach calendly-webhooks (one restart in the middle loses nothing,
a forged one is refused); `meltano run tap-calendly target-duckdb` loads webhook_events and the
refreshed invitees into the warehouse."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from calendly_webhooks.inbox import Inbox
from demo import warehouse
from demo.run import EXTRACT, Layout
from tests.e2e.conftest import meltano_for, meltano_sys_dir  # noqa: F401 - the session fixture
from tests.tap.test_incremental import first_free_invitee, pick_event
from tests.target.helpers import config_for, run_cli, stream_of
from tests.webhooks.receiver import encode, envelope, signature, start_receiver
from tests.webhooks.test_sandbox_deliveries import book

pytestmark = pytest.mark.slow
EVENTS = ["invitee.created", "invitee.canceled", "invitee_no_show.created"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, events=60, webhook_time_scale=0) as running:
        yield running


def inbox_events(path: Path) -> list[str]:
    with Inbox(path, create=False) as inbox:
        return [d.event for d in inbox.read_after(0)]


def test_webhooks_from_subscription_to_warehouse(
    sandbox: Sandbox,
    meltano_sys_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    layout = Layout(tmp_path / "output")
    keys, inbox = tmp_path / "webhook-keys.txt", tmp_path / "inbox.sqlite"
    receiver = start_receiver(inbox, key_file=keys)
    port = urlsplit(receiver.url).port
    try:
        # 1. Subscribe through the target: it generates the key and hands it to the receiver.
        subscribe = config_for(
            sandbox, tmp_path / "responses.jsonl", webhook_signing_key_file=str(keys)
        )
        record: dict[str, Any] = {
            "url": receiver.url + "/webhooks",
            "events": EVENTS,
            "scope": "organization",
        }
        done = run_cli(subscribe, stream_of("create_webhook_subscription", record), tmp_path)
        assert done.returncode == 0, done.stderr
        assert keys.read_text(encoding="utf-8").strip() not in done.stderr

        meltano = meltano_for(layout, sandbox, meltano_sys_dir)
        meltano.env = {**meltano.env, "TAP_CALENDLY_WEBHOOK_INBOX": str(inbox)}
        meltano.run(EXTRACT, layout.log("extract-1"))

        # 2. Changes through the sandbox's API; the receiver restarts in the middle.
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {sandbox.token}"
        booked = book(api, sandbox, 3, "e2e.booker@example.com")
        # A no-show on a meeting months old: Calendly retries nothing about a booking past 24 h
        # after its meeting, so this one must find the receiver up.
        old = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=(45, 200)))
        marked = api.post(
            sandbox.base_url + "/invitee_no_shows", json={"invitee": old["uri"]}, timeout=30
        )
        assert marked.status_code == 201, marked.text
        assert sandbox.webhooks.wait_idle(timeout=30)
        # Two independent deliveries: Calendly promises no order between them.
        assert sorted(inbox_events(inbox)) == ["invitee.created", "invitee_no_show.created"]
        receiver.stop()
        canceled = api.post(booked["event"] + "/cancellation", json={"reason": "e2e"}, timeout=30)
        assert canceled.status_code == 201, canceled.text
        assert sandbox.webhooks.wait_idle(timeout=30)
        assert len(inbox_events(inbox)) == 2  # not acknowledged: not stored
        receiver = start_receiver(inbox, key_file=keys, port=port or 0)
        sandbox.webhooks.advance(60)  # the first retry falls due
        assert sandbox.webhooks.wait_idle(timeout=30)
        assert sorted(inbox_events(inbox)) == sorted(EVENTS)

        # 3. A forged delivery is refused and stores nothing.
        forged = encode(envelope(uri=old["uri"], note="forged"))
        answer = receiver.post(forged, signature("not-the-key", forged, time.time()))
        assert answer.status_code == 401
        assert len(inbox_events(inbox)) == 3

        # 4. The next run loads the deliveries and the invitees they name, old ones included.
        second = meltano.run(EXTRACT, layout.log("extract-2"))
        assert second.emitted("tap-calendly").get("webhook_events") == 3
        with warehouse.connect(layout.database) as con:
            loaded = con.execute(
                "SELECT event, payload->>'uri' FROM calendly.webhook_events ORDER BY position"
            ).fetchall()
            no_show = con.execute(
                "SELECT no_show->>'uri' FROM calendly.invitees WHERE uri = ?", [old["uri"]]
            ).fetchone()
            status = con.execute(
                "SELECT status FROM calendly.invitees WHERE uri = ?", [booked["uri"]]
            ).fetchone()
        assert sorted(e for e, _ in loaded) == sorted(EVENTS)
        assert {u for _, u in loaded} == {booked["uri"], old["uri"]}
        assert no_show == (marked.json()["resource"]["uri"],)
        assert status == ("canceled",)
        assert uuid_of(booked["event"]) in sandbox.store.scheduled_events

        # 5. The analysts' staging view of the deliveries, switched on with the inbox.
        meltano.env = {**meltano.env, "CALENDLY_WEBHOOK_EVENTS": "true"}
        model = "stg_calendly__webhook_events"
        meltano.invoke("dbt-duckdb", ["build", "--select", model], layout.log("dbt"))
        with warehouse.connect(layout.database) as con:
            staged = con.execute(
                "SELECT event, event_family, subject_uri, created_at <= received_at"
                " FROM analytics_staging.stg_calendly__webhook_events ORDER BY inbox_position"
            ).fetchall()
        assert sorted(staged) == sorted(
            (event, event.split(".")[0], uri, True) for event, uri in loaded
        )
    finally:
        receiver.stop()
