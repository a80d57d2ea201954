"""WebhookHints reads whatever a signed delivery holds: the receiver stores any JSON object, so
an odd shape must be passed over, not crash the run."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tap_calendly.webhooks import WebhookHints

CONTACT = "https://api.calendly.com/contacts/C1"


def delivery(event: str, payload: Any) -> SimpleNamespace:
    return SimpleNamespace(event=event, envelope={"event": event, "payload": payload})


def test_a_deleted_contact_is_read_and_odd_shapes_are_passed_over() -> None:
    hints = WebhookHints(
        [
            delivery("contact.deleted", {"contact": {"uri": CONTACT, "deleted_at": "2026-12-01"}}),
            delivery("contact.deleted", {"contact": "not an object"}),
            delivery("contact.deleted", {"contact": {"uri": 42}}),
            delivery("contact.deleted", "not an object"),
            delivery(
                "contact.created", {"contact": {"uri": "https://api.calendly.com/contacts/C2"}}
            ),
        ]
    )

    assert hints.deleted_contacts == {CONTACT: "2026-12-01"}
    assert hints.deliveries == 5
