"""A known set of changes made through the sandbox's public write API, and the rows they touch.

Booked meetings (a new event and invitee each), host cancellations of future events (the event
and its active invitees change), no-shows on recent past meetings (the invitee changes; the
event does not) and edits to meetings older than the lookback window (made in the store, as
Calendly's own UI would: the event's notes and updated_at change). Choices are deterministic:
sorted by uuid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bench.sandbox import RunningSandbox
from bench.times import UTC, api_time, parse_time

BOOKING_OFFSET = timedelta(days=200)  # beyond the generated data's window: no slot clash


@dataclass
class ChangeSet:
    booked: int = 0
    canceled: int = 0
    no_shows: int = 0
    old_edited: int = 0
    events: set[str] = field(default_factory=set)  # event URIs whose row changed
    invitees: set[str] = field(default_factory=set)  # invitee URIs whose row changed

    def describe(self) -> str:
        return (
            f"{self.booked} meetings booked (POST /invitees), {self.canceled} future events "
            f"canceled (POST /scheduled_events/{{uuid}}/cancellation), {self.no_shows} no-shows "
            f"marked on recent past meetings (POST /invitee_no_shows), {self.old_edited} "
            f"meetings older than the lookback window edited (notes; updated_at moves)"
        )


def apply_changes(sandbox: RunningSandbox, count: int, no_show_within_days: int) -> ChangeSet:
    store = sandbox.store
    now = datetime.now(UTC)
    changes = ChangeSet()
    with store.lock:  # choose first, write after: the server takes the same lock per request
        event_types = sorted(
            (t for t in store.event_types.values() if t["active"] and not t["deleted_at"]),
            key=lambda t: t["uri"],
        )
        future = sorted(
            (
                e
                for e in store.scheduled_events.values()
                if e["status"] == "active" and parse_time(e["start_time"]) > now + timedelta(days=1)
            ),
            key=lambda e: e["uri"],
        )[:count]
        recent_cutoff = now - timedelta(days=no_show_within_days)
        no_show_candidates = sorted(
            (
                i
                for i in store.invitees.values()
                if i["status"] == "active"
                and i.get("no_show") is None
                and recent_cutoff < parse_time(_event_of(store, i)["start_time"]) < now
            ),
            key=lambda i: i["uri"],
        )[:count]
        to_cancel = [(e["uri"], _active_invitees(store, e)) for e in future]
        old = sorted(
            (
                e
                for e in store.scheduled_events.values()
                if parse_time(e["start_time"]) < recent_cutoff - timedelta(days=1)
            ),
            key=lambda e: e["uri"],
        )[:count]
        for event in old:
            event["meeting_notes_plain"] = "Edited after the meeting"
            event["updated_at"] = api_time(now)
            changes.events.add(event["uri"])
            changes.old_edited += 1
    first_slot = (now + BOOKING_OFFSET).replace(minute=0, second=0, microsecond=0)
    for n in range(count):
        event_type = event_types[n % len(event_types)]
        start = first_slot + timedelta(minutes=15 * n)
        body = {
            "event_type": event_type["uri"],
            "start_time": api_time(start),
            "invitee": {
                "email": f"bench-booking-{n}@example.com",
                "name": f"Bench Booking {n}",
                "timezone": "UTC",
            },
        }
        invitee = sandbox.call("POST", "/invitees", json=body)["resource"]
        changes.invitees.add(invitee["uri"])
        changes.events.add(invitee["event"])
        changes.booked += 1
    for event_uri, invitees in to_cancel:
        uuid = event_uri.rsplit("/", 1)[-1]
        sandbox.call("POST", f"/scheduled_events/{uuid}/cancellation", json={"reason": "bench"})
        changes.events.add(event_uri)
        changes.invitees.update(invitees)
        changes.canceled += 1
    for invitee in no_show_candidates:
        sandbox.call("POST", "/invitee_no_shows", json={"invitee": invitee["uri"]})
        changes.invitees.add(invitee["uri"])
        changes.no_shows += 1
    return changes


def _event_of(store: Any, invitee: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = store.scheduled_events[invitee["event"].rsplit("/", 1)[-1]]
    return event


def _active_invitees(store: Any, event: dict[str, Any]) -> list[str]:
    by_event = store.invitees_by_event.get(event["uri"].rsplit("/", 1)[-1], [])
    return [store.invitees[u]["uri"] for u in by_event if store.invitees[u]["status"] == "active"]
