"""Availability: users' availability schedules, a user's busy times and an event type's available
times.

Choices where Calendly is unverified, hardest for a client first:

- available times and busy times answer 400 for a range that starts in the past, ends before it
  starts, or spans more than 31 days (available times) or 7 days (busy times); neither pages;
- available times come from the event type's schedule (its owner's default schedule until one is
  set), in the schedule's timezone, one slot per `duration` minutes, minus the owner's meetings;
- a user's busy times are readable by that user and by organization admins.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calendly_sandbox.app import Ctx, Routes, resource
from calendly_sandbox.errors import bad_request
from calendly_sandbox.resources.event_types import WEEKDAYS, schedule_of
from calendly_sandbox.resources.organization import NOT_IN_ORG, org_member
from calendly_sandbox.store import Resource, Store
from calendly_sandbox.timefmt import fmt, parse

MAX_AVAILABLE_DAYS = 31
MAX_BUSY_DAYS = 7


def list_availability(ctx: Ctx) -> Any:
    user = ctx.params["user"]
    org_member(ctx, user)
    schedules = [s for s in ctx.store.user_availability_schedules.values() if s["user"] == user]
    return {"collection": sorted(schedules, key=lambda s: (not s["default"], s["uri"]))}


def get_availability(ctx: Ctx) -> Any:
    return resource(
        ctx.lookup("user_availability_schedules", ctx.path["uuid"], "availability schedule")
    )


def _future_window(ctx: Ctx, max_days: int) -> tuple[float, float]:
    start, end = parse(ctx.params["start_time"]), parse(ctx.params["end_time"])
    if start < ctx.now():
        raise bad_request("start_time", "start_time must be in the future")
    if end <= start:
        raise bad_request("end_time", "end_time must be after start_time")
    if end - start > max_days * 86_400:
        raise bad_request("end_time", f"the date range can be no greater than {max_days} days")
    return start, end


def _busy(store: Store, user: str, start: float, end: float) -> list[Resource]:
    low, high = fmt(start - 86_400), fmt(end)
    return sorted(
        (
            e
            for e in store.scheduled_events.values()
            if e["status"] == "active"
            and low <= e["start_time"] < high
            and parse(e["end_time"]) > start
            and any(m["user"] == user for m in e["event_memberships"])
        ),
        key=lambda e: (e["start_time"], e["uri"]),
    )


def list_busy_times(ctx: Ctx) -> Any:
    user = ctx.params["user"]
    org_member(ctx, user)
    if user != ctx.me:
        ctx.require_admin(NOT_IN_ORG)
    start, end = _future_window(ctx, MAX_BUSY_DAYS)
    return {
        "collection": [
            {
                "type": "calendly",
                "start_time": event["start_time"],
                "end_time": event["end_time"],
                "buffered_start_time": event["start_time"],
                "buffered_end_time": event["end_time"],
                "event": {"uri": event["uri"]},
            }
            for event in _busy(ctx.store, user, start, end)
        ]
    }


def list_available_times(ctx: Ctx) -> Any:
    event_type = ctx.lookup_uri("event_types", ctx.params["event_type"], "event type", "event_type")
    start, end = _future_window(ctx, MAX_AVAILABLE_DAYS)
    if not event_type["active"] or event_type["deleted_at"]:
        return {"collection": []}
    rule = schedule_of(ctx, event_type)["availability_rule"]
    busy = [
        (parse(e["start_time"]), parse(e["end_time"]))
        for e in _busy(ctx.store, event_type["profile"]["owner"], start, end)
    ]
    step = max(15, int(event_type["duration"])) * 60
    length = int(event_type["duration"]) * 60
    slots = []
    for slot in _slots(rule, start, end, step, length):
        if not any(b0 < slot + length and slot < b1 for b0, b1 in busy):
            moment = fmt(slot)
            slots.append(
                {
                    "status": "available",
                    "invitees_remaining": 1,
                    "start_time": moment,
                    "scheduling_url": f"{event_type['scheduling_url']}/{moment[:16]}",
                }
            )
    return {"collection": slots}


def _slots(rule: Resource, start: float, end: float, step: int, length: int) -> Iterator[float]:
    try:
        zone: timezone | ZoneInfo = ZoneInfo(rule.get("timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.utc
    by_day = {r["wday"]: r["intervals"] for r in rule.get("rules", []) if r["type"] == "wday"}
    by_date = {r["date"]: r["intervals"] for r in rule.get("rules", []) if r["type"] == "date"}
    day = datetime.fromtimestamp(start, zone).date()
    last = datetime.fromtimestamp(end, zone).date()
    while day <= last:
        weekday = WEEKDAYS[(day.weekday() + 1) % 7]
        for interval in by_date.get(day.isoformat(), by_day.get(weekday, [])):
            opens, closes = _at(day, interval["from"], zone), _at(day, interval["to"], zone)
            moment = opens
            while moment + length <= closes:
                if start <= moment < end:
                    yield moment
                moment += step
        day += timedelta(days=1)


def _at(day: date, hhmm: str, zone: timezone | ZoneInfo) -> float:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone).timestamp()


ROUTES: Routes = (
    ("GET", "/user_availability_schedules", list_availability),
    ("GET", "/user_availability_schedules/{uuid}", get_availability),
    ("GET", "/user_busy_times", list_busy_times),
    ("GET", "/event_type_available_times", list_available_times),
)
