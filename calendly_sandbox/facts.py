"""Spec facts (derived by scripts/derive_sandbox_facts.py, committed as spec_facts.json)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

FACTS_PATH = Path(__file__).with_name("spec_facts.json")


# Added to the webhook subscription enums on 2026-10-23 (RELEASE_NOTES_2026.md); the spec lacks them.
RELEASE_NOTE_WEBHOOK_EVENTS = ("event_type.created", "event_type.updated", "event_type.deleted")

# Fields the spec types as plain strings although they hold an email or a date-time; Calendly
# refuses malformed values there as it does where the spec names the format.
UNMARKED_FORMATS = (
    ("POST /organizations/{uuid}/invitations", ("body", "properties", "email"), "email"),
    ("POST /invitees", ("body", "properties", "invitee", "properties", "email"), "email"),
    ("GET /user_busy_times", ("params", "start_time"), "date-time"),
    ("GET /user_busy_times", ("params", "end_time"), "date-time"),
)


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FACTS_PATH.read_text(encoding="utf-8"))
    create = data["operations"].get("POST /webhook_subscriptions")
    if create:
        create["body"]["properties"]["events"]["items"]["enum"].extend(RELEASE_NOTE_WEBHOOK_EVENTS)
    for op_key, path, fmt in UNMARKED_FORMATS:
        field = data["operations"][op_key]
        for name in path:
            field = field[name]
        field["format"] = fmt
    data["webhook_events"].extend(RELEASE_NOTE_WEBHOOK_EVENTS)
    return data


def operation(key: str) -> dict[str, Any]:
    """Facts of one operation, e.g. key='GET /scheduled_events'; empty facts if undocumented."""
    ops: dict[str, Any] = load()["operations"]
    return ops.get(key) or {
        "success": 200,
        "statuses": [],
        "params": {},
        "body": None,
        "errors": {},
    }


def webhook_events() -> list[str]:
    events: list[str] = load()["webhook_events"]
    return events
