"""What invitees do on Calendly's own pages, which no API call does: cancel their booking, or
reschedule it. Tests and benchmarks call them (`sb.cancel_invitee(uri)`,
`sb.reschedule_invitee(uri, start)`); both are announced as webhooks, as Calendly does.

- Cancelling: the invitee is canceled by "invitee". A one-on-one event (or a group event whose
  last active invitee leaves) is canceled with it; a group event with invitees left keeps its
  status and its updated_at (unverified; the harder case: polling sees no change on the event).
- Rescheduling: a new event at the new time with a new invitee (`old_invitee` -> the old one),
  and the old invitee canceled with `rescheduled: true` and `new_invitee` -> the new one.
  Announced as invitee.canceled (old) then invitee.created (new).
"""

from __future__ import annotations

from calendly_sandbox import resources
from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import fmt
from calendly_sandbox.webhooks import event_hosts, invitee_payload
from calendly_sandbox.writes import mint_uuid


def cancel_invitee(store: Store, invitee_uri: str, *, reason: str | None, now: float) -> Resource:
    invitee = _active_invitee(store, invitee_uri)
    _cancel(store, invitee, reason, now)
    _announce(store, "invitee.canceled", invitee)
    return invitee


def reschedule_invitee(store: Store, invitee_uri: str, new_start: float, *, now: float) -> Resource:
    """The new invitee, booked at `new_start` on the same event type."""
    old = _active_invitee(store, invitee_uri)
    if new_start <= now:
        raise ValueError("a reschedule must move the booking to a future time")
    old_event = store.scheduled_events[uuid_of(old["event"])]
    event_type = store.find_by_uri("event_types", old_event["event_type"])
    if event_type is None:
        raise ValueError(f"the event type of {invitee_uri} no longer exists")
    hosts = [
        store.users[uuid_of(m["user"])]
        for m in old_event["event_memberships"]
        if uuid_of(m["user"]) in store.users
    ]
    event_uuid = mint_uuid(store, "reschedule-event", invitee_uri, new_start)
    event = resources.scheduled_event(
        store,
        event_uuid,
        event_type,
        hosts,
        new_start,
        now,
        dict(old_event["location"]),
        limit=old_event["invitees_counter"]["limit"],
    )
    store.insert("scheduled_events", event_uuid, event)
    invitee_uuid = mint_uuid(store, "reschedule-invitee", invitee_uri, new_start)
    new = resources.invitee(
        store,
        invitee_uuid,
        event,
        name=old.get("name") or old["email"],  # older records may lack keys or name (hard mode)
        first_name=old.get("first_name"),
        last_name=old.get("last_name"),
        email=old["email"],
        timezone=old.get("timezone"),
        created=now,
    )
    for kept in ("questions_and_answers", "tracking", "text_reminder_number"):
        if kept in old:
            new[kept] = old[kept]
    new["old_invitee"] = old["uri"]
    store.insert("invitees", invitee_uuid, new)
    resources.attach_invitee(event, new)
    _cancel(store, old, None, now)
    old["rescheduled"] = True
    old["new_invitee"] = new["uri"]
    _announce(store, "invitee.canceled", old)
    _announce(store, "invitee.created", new)
    return new


def _active_invitee(store: Store, uri: str) -> Resource:
    invitee = store.find_by_uri("invitees", uri)
    if invitee is None or invitee["uri"] != uri:
        raise ValueError(f"no invitee {uri}")
    if invitee["status"] != "active":
        raise ValueError(f"invitee {uri} is already {invitee['status']}")
    return invitee


def _cancel(store: Store, invitee: Resource, reason: str | None, now: float) -> None:
    record = resources.cancellation(invitee.get("name") or invitee["email"], reason, "invitee", now)
    invitee["status"] = "canceled"
    invitee["cancellation"] = record
    invitee["updated_at"] = record["created_at"]
    event = store.scheduled_events[uuid_of(invitee["event"])]
    counter = event["invitees_counter"]
    counter["active"] = max(0, counter["active"] - 1)
    if counter["active"] == 0:
        event["status"] = "canceled"
        event["cancellation"] = dict(record)
        event["updated_at"] = fmt(now)


def _announce(store: Store, event: str, invitee: Resource) -> None:
    store.announce(event, invitee_payload(store, invitee), event_hosts(store, invitee))
