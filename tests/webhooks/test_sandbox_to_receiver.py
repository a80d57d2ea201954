"""The sandbox's deliveries reach the real receiver; a restart of the receiver loses nothing."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from calendly_webhooks.inbox import Inbox, named_uris, scheduled_event_uris
from tests.webhooks.receiver import start_receiver
from tests.webhooks.test_sandbox_deliveries import book, settle, subscribe

KEY = "sandbox-to-receiver-key"


def positions(inbox: Path) -> list[str]:
    with Inbox(inbox, create=False) as reader:
        return [d.event for d in reader.read_after(0)]


def test_bookings_reach_the_inbox_and_a_restart_loses_nothing(api, sandbox, tmp_path: Path):
    keys = tmp_path / "keys.txt"
    keys.write_text(KEY + "\n", encoding="utf-8")
    inbox = tmp_path / "inbox.sqlite"
    receiver = start_receiver(inbox, key_file=keys)
    port = urlsplit(receiver.url).port
    assert port is not None
    try:
        events = ["invitee.created", "invitee.canceled"]
        subscribe(api, sandbox, receiver.url + "/webhooks", events, signing_key=KEY)
        first = book(api, sandbox, 3, "one@example.com")
        settle(sandbox)
        assert positions(inbox) == ["invitee.created"]
        receiver.stop()  # down: the next deliveries fail and wait for a retry
        canceled = api.post(first["event"] + "/cancellation", json={"reason": "moved"})
        assert canceled.status_code == 201
        book(api, sandbox, 4, "two@example.com")
        settle(sandbox)
        assert positions(inbox) == ["invitee.created"]
        receiver = start_receiver(inbox, key_file=keys, port=port)
        sandbox.webhooks.advance(60)
        settle(sandbox)
        assert sorted(positions(inbox)) == sorted(
            ["invitee.created", "invitee.canceled", "invitee.created"]
        )
        with Inbox(inbox, create=False) as reader:
            [cancel] = [d.envelope for d in reader.read_after(0) if d.event == "invitee.canceled"]
        assert first["uri"] in named_uris(cancel)
        assert scheduled_event_uris(named_uris(cancel)) == [first["event"]]
    finally:
        receiver.stop()
