"""Builders for the resources both the generator and the write handlers create."""

from __future__ import annotations

from typing import Any

from calendly_sandbox.store import Resource, Store
from calendly_sandbox.timefmt import fmt

EMPTY_TRACKING = {
    "utm_campaign": None,
    "utm_source": None,
    "utm_medium": None,
    "utm_content": None,
    "utm_term": None,
    "salesforce_uuid": None,
}
# Event-type location kinds -> the `type` of the scheduled event's location.
LOCATION_TYPES = {"zoom_conference": "zoom", "gotomeeting_conference": "gotomeeting"}
CONFERENCE_TYPES = {
    "google_conference",
    "zoom",
    "gotomeeting",
    "microsoft_teams_conference",
    "webex_conference",
}


def event_location(
    kind: str, detail: str | None, uuid: str, *, hard: bool = False, processing: bool = False
) -> dict[str, Any]:
    """A scheduled event's `location` for a booking of the given location kind.

    Hard realism: pushed Zoom meetings carry Zoom's `data` (numeric id, dial-in numbers,
    password), and a Google Meet still `processing` has no join_url yet.
    """
    loc_type = LOCATION_TYPES.get(kind, kind)
    if loc_type in CONFERENCE_TYPES:
        location: dict[str, Any] = {
            "type": loc_type,
            "status": "pushed",
            "join_url": f"https://meet.example.com/{uuid[:8]}",
        }
        if loc_type == "google_conference" and hard and processing:
            location.update(status="processing", join_url=None)
        if loc_type == "zoom" and hard:
            location["data"] = zoom_data(uuid)
        elif loc_type != "google_conference":
            location["data"] = None
        return location
    if loc_type in ("physical", "inbound_call"):
        return {"type": loc_type, "location": detail or "Main office, 1st floor"}
    if loc_type == "ask_invitee":
        return {"type": loc_type, "location": detail or "+1 415 555 0199"}
    return {"type": loc_type, "location": detail}  # outbound_call, custom (nullable)


def zoom_data(uuid: str) -> dict[str, Any]:
    """What Zoom pushes back for a meeting (the shape published captures show)."""
    meeting_id = int(uuid.replace("-", "")[:9], 16) % 10**11 + 10**10
    return {
        "id": meeting_id,
        "settings": {
            "global_dial_in_numbers": [
                {
                    "number": "+1 646 558 8656",
                    "country": "US",
                    "type": "toll",
                    "city": "New York",
                    "country_name": "US",
                },
                {
                    "number": "+33 1 7095 0103",
                    "country": "FR",
                    "type": "toll",
                    "city": "Paris",
                    "country_name": "France",
                },
            ]
        },
        "extra": {"intl_numbers_url": f"https://zoom.us/u/a{meeting_id}"},
        "password": f"{meeting_id % 1_000_000:06d}",
    }


def membership_user(user: Resource) -> Resource:
    """The user object embedded in a membership (a subset of User)."""
    keys = ("uri", "name", "slug", "email", "scheduling_url", "timezone", "avatar_url", "locale")
    embedded = {k: user[k] for k in keys if k in user}
    embedded["created_at"] = user["created_at"]
    embedded["updated_at"] = user["updated_at"]
    return embedded


def scheduled_event(
    store: Store,
    uuid: str,
    event_type: Resource,
    hosts: list[Resource],
    start: float,
    created: float,
    location: dict[str, Any],
    limit: int,
) -> Resource:
    start_s, end_s = fmt(start), fmt(start + float(event_type["duration"]) * 60)
    created_s = fmt(created)
    return {
        "uri": store.uri("scheduled_events", uuid),
        "name": event_type["name"],
        "meeting_notes_plain": None,
        "status": "active",
        "start_time": start_s,
        "end_time": end_s,
        "event_type": event_type["uri"],
        "location": location,
        "invitees_counter": {"total": 0, "active": 0, "limit": limit},
        "created_at": created_s,
        "updated_at": created_s,
        "event_memberships": [
            {
                "user": h["uri"],
                "user_email": h["email"],
                "user_name": h["name"],
                "buffered_start_time": start_s,
                "buffered_end_time": end_s,
            }
            for h in hosts
        ],
        "event_guests": [],
        "calendar_event": {"kind": "google", "external_id": uuid.replace("-", "")[:26]},
    }


def invitee(
    store: Store,
    uuid: str,
    event: Resource,
    *,
    name: str,
    first_name: str | None,
    last_name: str | None,
    email: str,
    timezone: str | None,
    created: float,
) -> Resource:
    created_s = fmt(created)
    event_uuid = event["uri"].rsplit("/", 1)[-1]
    return {
        "uri": store.uri("scheduled_events", event_uuid, "invitees", uuid),
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "name": name,
        "status": "active",
        "questions_and_answers": [],
        "timezone": timezone,
        "event": event["uri"],
        "created_at": created_s,
        "updated_at": created_s,
        "tracking": dict(EMPTY_TRACKING),
        "text_reminder_number": None,
        "rescheduled": False,
        "old_invitee": None,
        "new_invitee": None,
        "cancel_url": f"https://calendly.com/cancellations/{uuid}",
        "reschedule_url": f"https://calendly.com/reschedulings/{uuid}",
        "routing_form_submission": None,
        "payment": None,
        "no_show": None,
        "reconfirmation": None,
        "scheduling_method": None,
        "invitee_scheduled_by": None,
    }


def attach_invitee(event: Resource, invitee_resource: Resource) -> None:
    counter = event["invitees_counter"]
    counter["total"] += 1
    if invitee_resource["status"] == "active":
        counter["active"] += 1


def cancellation(canceled_by: str, reason: str | None, canceler_type: str, at: float) -> Resource:
    return {
        "canceled_by": canceled_by,
        "reason": reason,
        "canceler_type": canceler_type,
        "created_at": fmt(at),
    }


def invitation(
    store: Store, uuid: str, email: str, status: str, created: float, user_uri: str | None
) -> Resource:
    org_uuid = store.organization["uri"].rsplit("/", 1)[-1]
    created_s = fmt(created)
    resource: Resource = {
        "uri": store.uri("organizations", org_uuid, "invitations", uuid),
        "organization": store.organization["uri"],
        "email": email,
        "status": status,
        "created_at": created_s,
        "updated_at": created_s,
        "last_sent_at": created_s if status == "pending" else None,
    }
    if user_uri:
        resource["user"] = user_uri
    return resource


def webhook_subscription(
    store: Store,
    uuid: str,
    *,
    callback_url: str,
    events: list[str],
    scope: str,
    user: str | None,
    group: str | None,
    creator: str | None,
    created: float,
) -> Resource:
    created_s = fmt(created)
    return {
        "uri": store.uri("webhook_subscriptions", uuid),
        "callback_url": callback_url,
        "created_at": created_s,
        "updated_at": created_s,
        "retry_started_at": None,
        "state": "active",
        "events": events,
        "scope": scope,
        "organization": store.organization["uri"],
        "user": user,
        "group": group,
        "creator": creator,
    }
