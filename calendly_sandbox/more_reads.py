"""Reads the spec has beyond the core: meeting recaps and transcripts, teams, a user's meeting
locations, an event type's available times and a user's busy times.

Choices where Calendly is unverified, hardest for a client first:

- meeting recaps need a paid plan (403 "Please upgrade to a paid Calendly account." on Free);
  a token sees only the recaps of meetings its user hosted; by default only `available` recaps
  are listed (`status=` lists the others); `processing` and `unavailable` recaps have no
  transcript (404);
- available times and busy times answer 400 for a range that starts in the past, ends before it
  starts, or spans more than 31 days (available times) or 7 days (busy times); neither pages;
- available times come from the event type's schedule (its owner's default schedule until one is
  set), in the schedule's timezone, one slot per `duration` minutes, minus the owner's meetings;
- a user's locations and busy times are readable by that user and by organization admins.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from calendly_sandbox.app import Ctx, page, resource
from calendly_sandbox.errors import FORBIDDEN, UPGRADE_PAID, ApiError, bad_request
from calendly_sandbox.event_type_writes import WEEKDAYS, schedule_of
from calendly_sandbox.generator import UUID_CLEAR, UUID_SET
from calendly_sandbox.paging import SortOrder
from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import fmt, parse

NOT_IN_ORG = "This user is not in your organization"
MAX_AVAILABLE_DAYS = 31
MAX_BUSY_DAYS = 7
RECAP_STATUSES = ("available", "processing", "unavailable")
TEAM_NAMES = ("Sales team", "Customer success", "Onboarding")
CONFERENCES = {"google_conference", "zoom_conference", "microsoft_teams_conference"}
START_ASC = SortOrder(("start_time",), (False,))


def _uuid(rng: random.Random) -> str:
    h = f"{(rng.getrandbits(128) & UUID_CLEAR) | UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# -- seeded data ---------------------------------------------------------------------------------
def seed_more(store: Store, seed: int, now: float) -> None:
    rng = random.Random(f"more-reads-{seed}")
    _seed_recaps(store, rng, now)
    _seed_teams(store, rng)
    _seed_locations(store, rng)


def _seed_recaps(store: Store, rng: random.Random, now: float) -> None:
    past = sorted(
        (e for e in store.scheduled_events.values() if e["status"] == "active"),
        key=lambda e: (e["start_time"], e["uri"]),
    )
    past = [e for e in past if parse(e["end_time"]) < now]
    mine = [e for e in past if store.current_user["uri"] in store.event_hosts[uuid_of(e["uri"])]]
    past = sorted({e["uri"]: e for e in past[-20:] + mine[-20:]}.values(), key=lambda e: e["uri"])
    hosted = {e["uri"]: n for n, e in enumerate(mine)}
    for index, event in enumerate(past):
        uuid = _uuid(rng)
        ended = parse(event["end_time"])
        nth = hosted.get(event["uri"], index)  # every status among the token user's recaps
        status = RECAP_STATUSES[0] if nth % 5 else RECAP_STATUSES[1 + (nth // 5) % 2]
        recap = recap_of(
            store,
            uuid,
            event,
            status=status,
            created=ended + 600,
            updated=min(now - 1, ended + 600 + rng.uniform(0, 3) * 86_400),
        )
        if index % 9 == 0:  # an external meeting has no event
            recap["event"] = None
            recap.pop("location", None)
        store.insert("meeting_recaps", uuid, recap)
        store.meeting_recap_hosts[uuid] = {m["user"] for m in event["event_memberships"]}
        if status == "available":
            store.transcripts[uuid] = transcript_of(recap, rng)


def recap_of(
    store: Store, uuid: str, event: Resource, *, status: str, created: float, updated: float
) -> Resource:
    """The Notetaker recap of a scheduled event: its hosts and invitees are the attendees."""
    invitees = [store.invitees[u] for u in store.invitees_by_event.get(uuid_of(event["uri"]), [])]
    return {
        "uri": store.uri("meeting_recaps", uuid),
        "app_url": f"https://calendly.com/app/notetaker/recaps/{uuid}",
        "event": event["uri"],
        "status": status,
        "name": event["name"],
        "start_time": event["start_time"],
        "end_time": event["end_time"],
        "created_at": fmt(created),
        "updated_at": fmt(updated),
        "attendees": [
            {"host": True, "user_email": m["user_email"], "user_name": m["user_name"]}
            for m in event["event_memberships"]
        ]
        + [
            {"host": False, "user_email": i["email"], "user_name": i["name"] or i["email"]}
            for i in invitees
        ],
        "transcript": store.uri("meeting_recaps", uuid, "transcript"),
        "location": dict(event["location"]),
    }


def transcript_of(recap: Resource, rng: random.Random) -> Resource:
    lines = [f"{a['user_name']}: {rng.choice(_SAID)}" for a in recap["attendees"]]
    return {"uri": recap["transcript"], "text": "\n".join(lines)}


_SAID = (
    "Thanks for joining, let's look at the renewal.",
    "We need the pilot live before the quarter ends.",
    "Can you send the pricing for fifty seats?",
    "The integration with our CRM is the blocker.",
)


def _seed_teams(store: Store, rng: random.Random) -> None:
    users = sorted(store.users.values(), key=lambda u: u["uri"])
    members = [u for u in users if store.role_of(u["uri"])]
    for index, name in enumerate(TEAM_NAMES):
        uuid = _uuid(rng)
        slug = name.lower().replace(" ", "-")
        store.insert(
            "teams",
            uuid,
            {
                "uri": store.uri("teams", uuid),
                "name": name,
                "organization": store.organization["uri"],
                "scheduling_url": f"https://calendly.com/team/{slug}",
            },
        )
        chosen = members[index::2] or members
        store.team_members[uuid] = {u["uri"] for u in chosen}


def _seed_locations(store: Store, rng: random.Random) -> None:
    kinds_of: dict[str, set[str]] = {}
    for event_type in store.event_types.values():
        for location in event_type["locations"] or []:
            kinds_of.setdefault(event_type["profile"]["owner"], set()).add(location["kind"])
    for user in store.users.values():
        kinds = sorted(kinds_of.get(user["uri"], set()) | {"ask_invitee"})
        store.user_locations[user["uri"]] = [
            {"kind": kind, "connected": kind not in CONFERENCES or rng.random() < 0.8}
            for kind in kinds
        ]


# -- meeting recaps ------------------------------------------------------------------------------
def _paid(ctx: Ctx) -> None:
    ctx.require_plan("standard", UPGRADE_PAID)


def readable_recap(ctx: Ctx, uuid: str) -> Resource:
    _paid(ctx)
    recap = ctx.lookup("meeting_recaps", uuid, "meeting recap")
    if ctx.me not in ctx.store.meeting_recap_hosts.get(uuid, set()):
        raise ApiError(404, reason=f"meeting recap {uuid} not found")
    return recap


def list_recaps(ctx: Ctx) -> Any:
    _paid(ctx)
    store, p = ctx.store, ctx.params
    table = store.meeting_recaps
    status = p.get("status") or "available"
    low = fmt(parse(p["start_time"])) if p.get("start_time") else None
    high = fmt(parse(p["end_time"])) if p.get("end_time") else None
    attendee = (p.get("attendee") or "").lower()

    def visible(uuid: str) -> bool:
        recap = table[uuid]
        return (
            ctx.me in store.meeting_recap_hosts.get(uuid, set())
            and recap["status"] == status
            and (not p.get("event") or recap["event"] == p["event"])
            and (low is None or (recap["start_time"] or "") >= low)
            and (high is None or (recap["start_time"] or "") < high)
            and (
                not attendee or any(a["user_email"].lower() == attendee for a in recap["attendees"])
            )
        )

    return page(ctx, "meeting_recaps", START_ASC, visible)


def get_recap(ctx: Ctx) -> Any:
    readable_recap(ctx, ctx.path["uuid"])
    return resource(served_recap(ctx.store, ctx.path["uuid"]))


def served_recap(store: Store, uuid: str) -> Resource:
    """A recap as GET serves it: with Notetaker's texts once its transcript exists, and the
    hosts' edits over them."""
    recap = store.meeting_recaps[uuid]
    transcript = store.transcripts.get(uuid)
    return {
        **recap,
        "summary_md": f"## {recap['name']}\n\nA meeting of {len(recap['attendees'])}."
        if transcript
        else None,
        "action_items_md": "- Send the proposal" if transcript else None,
        "discussion_md": transcript["text"] if transcript else None,
        "share_link": None,
        **store.recap_texts.get(uuid, {}),
    }


def get_transcript(ctx: Ctx) -> Any:
    readable_recap(ctx, ctx.path["uuid"])
    transcript = ctx.store.transcripts.get(ctx.path["uuid"])
    if transcript is None:
        raise ApiError(404, reason="this recap has no transcript (it is not available)")
    return resource(transcript)


# -- teams and locations -------------------------------------------------------------------------
def _member(ctx: Ctx, user_uri: str) -> None:
    ctx.lookup_uri("users", user_uri, "user", "user")
    if ctx.store.role_of(user_uri) is None:
        raise ApiError(403, NOT_IN_ORG)


def list_teams(ctx: Ctx) -> Any:
    user = ctx.params.get("user")
    if user:
        _member(ctx, user)
    members = ctx.store.team_members
    return page(
        ctx,
        "teams",
        SortOrder(("name",), (False,)),
        (lambda uuid: user in members.get(uuid, set())) if user else None,
    )


def get_team(ctx: Ctx) -> Any:
    return resource(ctx.lookup("teams", ctx.path["team_uuid"], "team"))


def list_locations(ctx: Ctx) -> Any:
    user = ctx.params["user"]
    _member(ctx, user)
    if user != ctx.me:
        ctx.require_admin(FORBIDDEN)
    return {"collection": [dict(loc) for loc in ctx.store.user_locations.get(user, [])]}


# -- forward-looking snapshots -------------------------------------------------------------------
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
    _member(ctx, user)
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


MORE_READ_ROUTES: tuple[tuple[str, str, Callable[[Ctx], Any]], ...] = (
    ("GET", "/meeting_recaps", list_recaps),
    ("GET", "/meeting_recaps/{uuid}", get_recap),
    ("GET", "/meeting_recaps/{uuid}/transcript", get_transcript),
    ("GET", "/teams", list_teams),
    ("GET", "/teams/{team_uuid}", get_team),
    ("GET", "/locations", list_locations),
    ("GET", "/user_busy_times", list_busy_times),
    ("GET", "/event_type_available_times", list_available_times),
)
