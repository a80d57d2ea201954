"""Input field types and record checks of the action table: those several actions share, and
nested ones that would crowd its rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from target_calendly.event_types import WEEKDAYS
from target_calendly.lookups import Values
from target_calendly.validation import (
    Schema,
    array,
    boolean,
    date,
    date_time,
    integer,
    moment,
    obj,
    one_of,
    text,
)

WEBHOOK_EVENTS = (
    "invitee.created",
    "invitee.canceled",
    "invitee_no_show.created",
    "invitee_no_show.deleted",
    "event_type.created",
    "event_type.updated",
    "event_type.deleted",
    "meeting_recap.created",
    "meeting_recap.updated",
    "meeting_recap.deleted",
    "routing_form_submission.created",
    "contact.created",
    "contact.updated",
    "contact.deleted",
)
LOCATION_KINDS = (
    "physical",
    "ask_invitee",
    "custom",
    "outbound_call",
    "inbound_call",
    "google_conference",
    "gotomeeting_conference",
    "microsoft_teams_conference",
    "webex_conference",
    "zoom_conference",
)


def location(*extra: str, max_length: int | None = None) -> Schema:
    """A meeting location: its kind and where, plus the `extra` fields the endpoint takes."""
    fields: dict[str, Schema] = {
        "kind": one_of(*LOCATION_KINDS),
        "location": text(max_length),
        "additional_info": text(max_length),
        "phone_number": text(),
        "position": integer(),
    }
    taken = ("kind", "location", *extra)
    return obj({name: fields[name] for name in taken}, required=["kind"])


DURATION = integer(1, 720)
_INTERVAL = obj({"from": text(), "to": text()}, ["from", "to"])
_RULE_FIELDS = {"type": one_of("wday", "date"), "wday": one_of(*WEEKDAYS), "date": date()}
AVAILABILITY_RULE = obj(
    {
        "timezone": text(),
        "rules": array(obj({**_RULE_FIELDS, "intervals": array(_INTERVAL)}, required=["type"])),
    },
    required=["timezone", "rules"],
)
# A whole weekly schedule: a day with no intervals is a day off.
SCHEDULE_RULE = obj(
    {**_RULE_FIELDS, "intervals": {"type": "array", "items": _INTERVAL}},
    required=["type", "intervals"],
)
EVENT_TYPE_SETTINGS = {
    "duration": DURATION,
    "duration_options": array(DURATION, unique=True),
    "description": text(),
    "color": text(),
    "locale": one_of("de", "en", "es", "fr", "it", "nl", "pt", "uk"),
    "active": boolean(),
    "locations": array(location("additional_info", "phone_number")),
}


def one_of_shapes(*shapes: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "oneOf": list(shapes)}


# When a one-off event type can be booked: a date range, the next days, or given spots.
ONE_OFF_DATE_SETTING = one_of_shapes(
    obj(
        {
            "type": one_of("date_range"),
            "start_date": date(),
            "end_date": date(),
        },
        ["type", "start_date", "end_date"],
    ),
    obj(
        {
            "type": one_of("days_in_future"),
            "days": integer(0, 365),
            "only_weekdays": boolean(),
        },
        ["type", "days", "only_weekdays"],
    ),
    obj(
        {
            "type": one_of("spots"),
            "spots": array(
                obj(
                    {"start_time": date_time(), "end_time": date_time()},
                    ["start_time", "end_time"],
                )
            ),
        },
        ["type", "spots"],
    ),
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def past_window_of_24_months(values: Values) -> str | None:
    start, end = moment(values["start_time"]), moment(values["end_time"])
    if end <= start:
        return "field 'end_time' must be after 'start_time'"
    if end > _now():
        return "field 'end_time' must be in the past (Calendly deletes past event data only)"
    try:
        limit = start.replace(year=start.year + 2)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + 2, day=28)
    if end > limit:
        return "fields 'start_time' to 'end_time' must span at most 24 months"
    return None


def in_the_future(values: Values) -> str | None:
    if moment(values["start_time"]) <= _now():
        return "field 'start_time' must be in the future"
    return None
