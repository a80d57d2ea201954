"""Event type writes: create (keyed on owner + name), update (solo only, only what differs),
one-off event types, and an event type's availability (a whole weekly schedule, never part)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from calendly_http import uuid_of
from target_calendly.lookups import LookupFailedError, Skip, Values, WriteContext

Planned = tuple[str, str, "dict[str, Any] | None"]

EVENT_TYPE_FIELDS = ("name", "duration", "duration_options", "color", "locale", "active")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
LOCATION_KEYS = ("kind", "location", "additional_info", "phone_number")


def _me(ctx: WriteContext) -> str:
    return str(ctx.client.me["uri"])


def _settings_body(values: Values) -> dict[str, Any]:
    body = {name: values[name] for name in EVENT_TYPE_FIELDS if name in values}
    if "description" in values:
        body["description"] = values["description"]
    if "locations" in values:
        body["locations"] = [_location(loc) for loc in values["locations"]]
    return body


def _location(location: Mapping[str, Any]) -> dict[str, Any]:
    return {k: location[k] for k in LOCATION_KEYS if location.get(k) not in (None, "")}


# -- create_event_type ---------------------------------------------------------------------------


def owner_uri(values: Values, ctx: WriteContext) -> str:
    return ctx.uri("users", values["owner"]) if "owner" in values else _me(ctx)


def create_event_type_body(values: Values, ctx: WriteContext) -> dict[str, Any]:
    return {"owner": owner_uri(values, ctx), **_settings_body(values)}


def same_named_event_type(values: Values, ctx: WriteContext) -> Any:
    """The owner's event type of this name (not deleted): what a create already made."""
    owner = owner_uri(values, ctx)
    return next(
        (
            event_type
            for event_type in ctx.client.paginate("/event_types", {"user": owner, "count": 100})
            if event_type.get("name") == values["name"] and not event_type.get("deleted_at")
        ),
        None,
    )


def check_event_type_exists(values: Values, ctx: WriteContext) -> Mapping[str, str] | Skip:
    existing = same_named_event_type(values, ctx)
    if existing is None:
        return {}
    return Skip("the owner already has an event type with this name", existing)


# -- update_event_type ---------------------------------------------------------------------------


def _solo_event_type(values: Values, ctx: WriteContext) -> dict[str, Any]:
    event_type: dict[str, Any] = ctx.get(f"/event_types/{uuid_of(values['event_type'])}")[
        "resource"
    ]
    if event_type.get("kind") != "solo" or event_type.get("pooling_type"):
        raise LookupFailedError(
            f"event type {event_type['uri']} is a {event_type.get('kind')} "
            f"{event_type.get('pooling_type') or ''} event type; Calendly updates one-on-one "
            "(solo) event types only"
        )
    return event_type


def _event_type_changes(values: Values, current: Mapping[str, Any]) -> dict[str, Any]:
    wanted = _settings_body(values)
    changes = {}
    for name, value in wanted.items():
        if name == "description":
            have: Any = current.get("description_plain")
        elif name == "locations":
            have = [_location(loc) for loc in current.get("locations") or []]
        else:
            have = current.get(name)
        if have != value:
            changes[name] = value
    return changes


def plan_event_type_update(values: Values, ctx: WriteContext) -> Planned | Skip:
    current = _solo_event_type(values, ctx)
    changes = _event_type_changes(values, current)
    if not changes:
        return Skip("the event type already has these values", current)
    return "PATCH", f"/event_types/{uuid_of(current['uri'])}", changes


def updated_event_type(values: Values, ctx: WriteContext) -> Any:
    current = _solo_event_type(values, ctx)
    return None if _event_type_changes(values, current) else current


# -- create_one_off_event_type ---------------------------------------------------------------


def one_off_body(values: Values, ctx: WriteContext) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": values["name"],
        "host": ctx.uri("users", values["host"]) if "host" in values else _me(ctx),
        "duration": values["duration"],
        "date_setting": values["date_setting"],
    }
    if "co_hosts" in values:
        body["co_hosts"] = [ctx.uri("users", host) for host in values["co_hosts"]]
    for name in ("timezone", "location"):
        if name in values:
            body[name] = values[name]
    return body


# -- update_event_type_availability ----------------------------------------------------------


def whole_schedule(values: Values) -> str | None:
    """PATCH replaces every rule: a schedule that leaves a weekday out would silently drop it."""
    rules = values["rules"]
    days = [rule.get("wday") for rule in rules if rule.get("type") == "wday"]
    missing = [day for day in WEEKDAYS if day not in days]
    if missing:
        return (
            f"field 'rules' is a partial schedule: no rule for {', '.join(missing)}. Calendly "
            "replaces every rule of the event type's schedule, so give all seven weekdays "
            "(empty intervals for a day off) plus any date overrides"
        )
    repeated = sorted({day for day in days if days.count(day) > 1})
    if repeated:
        return f"field 'rules' gives {', '.join(map(str, repeated))} more than once"
    dates = [rule.get("date") for rule in rules if rule.get("type") == "date"]
    if None in dates or len(set(dates)) != len(dates):
        return "field 'rules': every date rule names its own date, once"
    for index, rule in enumerate(rules):
        intervals = sorted((i["from"], i["to"]) for i in rule.get("intervals") or [])
        for start, end in intervals:
            if not (_hhmm(start) and _hhmm(end)) or start >= end:
                return f"field 'rules.{index}.intervals' must run from HH:MM to a later HH:MM"
        if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(intervals)):
            return f"field 'rules.{index}.intervals' overlap"
    return None


def _hhmm(text: str) -> bool:
    return len(text) == 5 and text[2] == ":" and text[:2].isdigit() and text[3:].isdigit()


def _normal_rules(rules: list[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            rule.get("type"),
            rule.get("wday") or rule.get("date"),
            tuple(sorted((i["from"], i["to"]) for i in rule.get("intervals") or [])),
        )
        for rule in rules
    )


def _availability_path(values: Values, ctx: WriteContext) -> str:
    query = urlencode({"event_type": ctx.uri("event_types", values["event_type"])})
    return f"/event_type_availability_schedules?{query}"


def _current_schedule(values: Values, ctx: WriteContext) -> dict[str, Any] | None:
    event_type = ctx.uri("event_types", values["event_type"])
    body = ctx.get("/event_type_availability_schedules", event_type=event_type)
    return next(iter(body.get("collection") or []), None)


def _schedule_matches(values: Values, schedule: Mapping[str, Any] | None) -> bool:
    rule = (schedule or {}).get("availability_rule") or {}
    return rule.get("timezone") == values["timezone"] and _normal_rules(
        rule.get("rules") or []
    ) == _normal_rules(values["rules"])


def plan_availability(values: Values, ctx: WriteContext) -> Planned | Skip:
    schedule = _current_schedule(values, ctx)
    if _schedule_matches(values, schedule):
        return Skip("the event type already has this schedule", schedule)
    body = {
        "availability_setting": "host",
        "availability_rule": {
            "timezone": values["timezone"],
            "rules": [
                {k: rule[k] for k in ("type", "wday", "date", "intervals") if k in rule}
                for rule in values["rules"]
            ],
        },
    }
    return "PATCH", _availability_path(values, ctx), body


def availability_in_place(values: Values, ctx: WriteContext) -> Any:
    schedule = _current_schedule(values, ctx)
    return schedule if _schedule_matches(values, schedule) else None
