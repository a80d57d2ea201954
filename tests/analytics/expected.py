"""What the marts must say, computed in Python straight from the sandbox's store.

An independent reading of the same facts: the SQL models never see this code.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Any

from calendly_sandbox import Sandbox


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def uuid_of(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def week_of(moment: dt.datetime) -> dt.date:
    day = moment.astimezone(dt.timezone.utc).date()
    return day - dt.timedelta(days=day.weekday())


def fate(invitee: Mapping[str, Any]) -> str:
    if invitee.get("rescheduled"):
        return "rescheduled"
    if invitee["status"] == "canceled":
        return "canceled"
    if invitee.get("no_show"):
        return "no_show"
    return "active"


class Expected:
    def __init__(self, sandbox: Sandbox) -> None:
        store = sandbox.store
        self.invitees: dict[str, dict[str, Any]] = {i["uri"]: i for i in store.invitees.values()}
        self.events: dict[str, dict[str, Any]] = {
            e["uri"]: e for e in store.scheduled_events.values()
        }
        self.event_types: dict[str, dict[str, Any]] = {
            t["uri"]: t for t in store.event_types.values()
        }
        self.submissions: dict[str, dict[str, Any]] = {
            s["uri"]: s for s in store.routing_form_submissions.values()
        }
        self.forms: dict[str, dict[str, Any]] = {f["uri"]: f for f in store.routing_forms.values()}

    def fates(self) -> Counter[str]:
        return Counter(fate(i) for i in self.invitees.values())

    def canceler_types(self) -> Counter[str]:
        return Counter(
            i["cancellation"]["canceler_type"]
            for i in self.invitees.values()
            if fate(i) == "canceled"
        )

    def event_type_name(self, invitee: Mapping[str, Any]) -> str:
        event_type = self.event_types.get(self.events[invitee["event"]]["event_type"])
        return event_type["name"] if event_type else "(unknown event type)"

    def start(self, invitee: Mapping[str, Any]) -> dt.datetime:
        return instant(self.events[invitee["event"]]["start_time"])

    def hosts(self, invitee: Mapping[str, Any]) -> list[str]:
        return sorted(m["user"] for m in self.events[invitee["event"]]["event_memberships"])

    def lead_time_hours(self, invitee: Mapping[str, Any]) -> float:
        return (self.start(invitee) - instant(invitee["created_at"])).total_seconds() / 3600

    def took_place(self, invitee: Mapping[str, Any], as_of: dt.datetime) -> bool:
        """Kept (active or no-show) and its meeting ended before as_of."""
        ended = instant(self.events[invitee["event"]]["end_time"]) < as_of
        return ended and fate(invitee) in ("active", "no_show")

    def weekly_by_event_type(self, as_of: dt.datetime) -> dict[tuple[dt.date, str], Counter[str]]:
        """Per week and event type: bookings, each fate, held (took place), held_no_show."""
        weeks: dict[tuple[dt.date, str], Counter[str]] = {}
        for invitee in self.invitees.values():
            key = (week_of(self.start(invitee)), self.events[invitee["event"]]["event_type"])
            weeks.setdefault(key, Counter())["bookings"] += 1
            weeks[key][fate(invitee)] += 1
            if self.took_place(invitee, as_of):
                weeks[key]["held"] += 1
                weeks[key]["held_no_show"] += fate(invitee) == "no_show"
        return weeks

    def weekly_bookings_by_host(self) -> Counter[tuple[dt.date, str]]:
        counts: Counter[tuple[dt.date, str]] = Counter()
        for invitee in self.invitees.values():
            for host in self.hosts(invitee):
                counts[(week_of(self.start(invitee)), host)] += 1
        return counts

    def booked_submissions(self) -> set[str]:
        """Submissions an invitee names, or whose submitter is an invitee."""
        named = {i.get("routing_form_submission") for i in self.invitees.values()}
        by_submitter = {
            s["uri"] for s in self.submissions.values() if s.get("submitter") in self.invitees
        }
        return (named | by_submitter) & set(self.submissions)

    def conversion_by_form(self) -> dict[str, tuple[int, int]]:
        booked = self.booked_submissions()
        result: dict[str, tuple[int, int]] = {}
        for form in self.forms:
            uris = [u for u, s in self.submissions.items() if s["routing_form"] == form]
            if uris:
                result[form] = (len(uris), sum(u in booked for u in uris))
        return result

    def alive_submissions(self) -> set[str]:
        """Submissions whose booking, followed through its reschedules, is active or a no-show."""
        alive = set()
        for invitee in self.invitees.values():
            current = invitee
            while current.get("new_invitee") in self.invitees:
                current = self.invitees[current["new_invitee"]]
            if fate(current) in ("active", "no_show"):
                alive.add(invitee.get("routing_form_submission"))
                alive |= {
                    u for u, s in self.submissions.items() if s.get("submitter") == invitee["uri"]
                }
        return alive & set(self.submissions)

    def converted_by_form(self) -> dict[str, int]:
        alive = self.alive_submissions()
        return Counter(self.submissions[u]["routing_form"] for u in alive)
