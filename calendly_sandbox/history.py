"""Seeded scheduled events and their invitees: bookings, group events, cancellations,
reschedules and no-shows, consistent with each other (counters, updated_at, links).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calendly_sandbox import names
from calendly_sandbox.resources.events import cancellation, event_location, scheduled_event
from calendly_sandbox.resources.invitees import (
    attach_invitee,
    invitee_body,
)
from calendly_sandbox.store import Resource
from calendly_sandbox.timefmt import DAY, fmt, parse

if TYPE_CHECKING:
    from calendly_sandbox.generator import Generator

HOUR = 3_600.0
PAST_SHARE = 0.7
WINDOW_DAYS = 120


class EventHistory:
    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.store = gen.store
        self.now = gen.now
        self.hard = gen.hard
        # Hard realism: the first events booked all start at one past moment inside the
        # default lookback window (a page boundary of a start_time listing falls among them).
        self.shared_start = self.now - 10 * DAY - (self.now - 10 * DAY) % 900
        self.tied_left = 0

    def make_events(self, count: int) -> None:
        made = 0
        self.tied_left = self.gen.cluster_size(count)
        while made < count:
            made += self.one_event(reschedule=count - made >= 2 and self.rng.random() < 0.05)

    def start_time(self) -> float:
        rng = self.rng
        if self.tied_left > 0:
            self.tied_left -= 1
            return self.shared_start
        days = rng.uniform(0.05, WINDOW_DAYS)
        ts = self.now - days * DAY if rng.random() < PAST_SHARE else self.now + days * DAY
        return ts - ts % 900  # quarter-hour slots

    def one_event(self, *, reschedule: bool) -> int:
        rng = self.rng
        event_type = rng.choice(self.gen.event_types)
        group = event_type["kind"] == "group"
        if reschedule and group:
            reschedule = False
        start = self.start_time()
        event, invitees = self.book(event_type, start, size=rng.randint(2, 6) if group else 1)
        if reschedule:
            self.reschedule_from(event_type, event, invitees[0])
            return 2
        roll = rng.random()
        if roll < 0.1:
            self.cancel(event, invitees, at=self.cancel_time(event))
        elif group and roll < 0.3:
            self.cancel(event, invitees[-1:], at=self.cancel_time(event), whole_event=False)
        else:
            self.maybe_no_shows(event, invitees)
        return 1

    def cancel_time(self, event: Resource) -> float:
        created = _ts(event["created_at"])
        latest = min(self.now - 60, _ts(event["start_time"]))
        return created + self.rng.uniform(0, 1) * max(latest - created, 60)

    def book(
        self, event_type: Resource, start: float, size: int
    ) -> tuple[Resource, list[Resource]]:
        rng, store = self.rng, self.store
        uuid = self.gen.uuid()
        created = min(start - rng.uniform(1 * HOUR, 30 * DAY), self.now - rng.uniform(60, 3 * DAY))
        location_kind = (event_type["locations"] or [{"kind": "custom"}])[0]["kind"]
        hosts = self.gen.hosts_of[event_type["uri"]]
        host = [rng.choice(hosts)] if event_type["pooling_type"] else hosts
        event = scheduled_event(
            store,
            uuid,
            event_type,
            host,
            start,
            created,
            event_location(
                location_kind, None, uuid, hard=self.hard, processing=rng.random() < 0.3
            ),
            limit=10 if event_type["kind"] == "group" else 1,
        )
        if self.hard:  # documented on Get Event, absent from the spec
            event["booking_method"] = event_type["booking_method"]
        if rng.random() < 0.01:
            event["name"] = None  # nullable in the spec (e.g. types renamed to nothing)
        if rng.random() < 0.1:
            event["meeting_notes_plain"] = "Agenda: intro, démo, Q&A"
            event["meeting_notes_html"] = "<p>Agenda: intro, démo, Q&amp;A</p>"
        if self.hard and (event.get("meeting_notes_html") is None or rng.random() < 0.3):
            event["meeting_notes_html"] = None  # real responses carry null; the spec says string
        if rng.random() < 0.1:
            guest_at = event["created_at"]
            event["event_guests"] = [
                {"email": f"guest{n}@example.org", "created_at": guest_at, "updated_at": guest_at}
                for n in range(rng.randint(1, 3))
            ]
        store.insert("scheduled_events", uuid, event)
        invitees = []
        for n in range(size):
            invitees.append(self.add_invitee(event, event_type, created + n * rng.uniform(0, DAY)))
        return event, invitees

    def add_invitee(self, event: Resource, event_type: Resource, created: float) -> Resource:
        rng, store = self.rng, self.store
        created = min(created, self.now - 30)
        first, last, name, email = self.gen.person(rng.randint(0, 10**7))
        split_name = rng.random() < 0.5
        uuid = self.gen.uuid()
        inv = invitee_body(
            store,
            uuid,
            event,
            name=name,
            first_name=first if split_name else None,
            last_name=last if split_name else None,
            email=email,
            timezone=None if rng.random() < 0.05 else rng.choice(names.TIMEZONES),
            created=created,
        )
        if self.hard and rng.random() < 0.05:
            inv["name"] = None  # real invitees without a name; the spec says string
        inv["questions_and_answers"] = [
            {
                "question": q["name"],
                "answer": rng.choice(names.ANSWERS[q["type"]]),
                "position": q["position"],
            }
            for q in event_type["custom_questions"]
            if rng.random() < 0.9
        ]
        inv["tracking"] = self.gen.tracking()
        if rng.random() < 0.2:
            inv["text_reminder_number"] = f"+1 415 555 {rng.randint(0, 9999):04d}"
        if event_type.get("is_paid"):
            inv["payment"] = {
                "external_id": f"ch_{rng.getrandbits(64):016x}",
                "provider": rng.choice(("stripe", "paypal")),
                "amount": rng.choice(("25.00", "49.99", "150.00")),
                "currency": rng.choice(("USD", "EUR", "GBP", "CAD", "AUD")),
                "terms": None if rng.random() < 0.5 else "Non-refundable within 24 h",
                "successful": True,
            }
            if self.hard and rng.random() < 0.5:
                inv["payment"]["amount"] = float(inv["payment"]["amount"])  # a JSON number
        if rng.random() < 0.05:
            inv["reconfirmation"] = {
                "created_at": inv["created_at"],
                "confirmed_at": None if rng.random() < 0.5 else inv["created_at"],
            }
        inv["scheduling_method"] = rng.choice((None, None, None, "instant_book", "api"))
        if inv["scheduling_method"] == "api" and rng.random() < 0.5:
            inv["invitee_scheduled_by"] = rng.choice(self.gen.users)["uri"]
        if self.gen.submissions and rng.random() < 0.05:
            submission = self.gen.submissions.pop()
            submission["submitter"] = inv["uri"]
            submission["submitter_type"] = "Invitee"
            inv["routing_form_submission"] = submission["uri"]
        store.insert("invitees", uuid, inv)
        attach_invitee(event, inv)
        _bump(event, inv["created_at"])
        return inv

    def cancel(
        self, event: Resource, invitees: list[Resource], *, at: float, whole_event: bool = True
    ) -> None:
        rng = self.rng
        by_host = rng.random() < 0.4
        invitee_name = invitees[0]["name"] or invitees[0]["email"]
        canceler = event["event_memberships"][0]["user_name"] if by_host else invitee_name
        reason = rng.choice(names.CANCEL_REASONS)
        record = cancellation(canceler, reason, "host" if by_host else "invitee", at)
        at_s = record["created_at"]
        if whole_event:
            event["status"] = "canceled"
            event["cancellation"] = record
        for inv in invitees:
            inv["status"] = "canceled"
            inv["cancellation"] = dict(record)
            _bump(inv, at_s)
            event["invitees_counter"]["active"] -= 1
        _bump(event, at_s)

    def reschedule_from(self, event_type: Resource, new_event: Resource, new_inv: Resource) -> None:
        """An earlier booking the invitee moved to `new_event`: canceled, linked both ways."""
        rng = self.rng
        old_start = _ts(new_event["start_time"]) - rng.choice((1, 2, 3, 7)) * DAY
        old_event, (old_inv,) = self.book(event_type, old_start, size=1)
        for key in ("name", "email", "first_name", "last_name", "timezone"):
            old_inv[key] = new_inv[key]
        moved_at = _ts(new_event["created_at"])
        self.cancel(old_event, [old_inv], at=min(moved_at, self.now - 60))
        old_inv["cancellation"]["canceler_type"] = "invitee"
        old_inv["cancellation"]["canceled_by"] = old_inv["name"] or old_inv["email"]
        old_inv["cancellation"]["reason"] = None
        old_event["cancellation"] = dict(old_inv["cancellation"])
        old_inv["rescheduled"] = True
        old_inv["new_invitee"] = new_inv["uri"]
        new_inv["old_invitee"] = old_inv["uri"]

    def maybe_no_shows(self, event: Resource, invitees: list[Resource]) -> None:
        end = _ts(event["end_time"])
        if end >= self.now:
            return
        for inv in invitees:
            if self.rng.random() < 0.06:
                uuid = self.gen.uuid()
                at = fmt(min(end + self.rng.uniform(60, DAY), self.now - 30))
                no_show = {
                    "uri": self.store.uri("invitee_no_shows", uuid),
                    "invitee": inv["uri"],
                    "created_at": at,
                }
                self.store.insert("invitee_no_shows", uuid, no_show)
                inv["no_show"] = {"uri": no_show["uri"], "created_at": at}
                if not self.hard:  # hard realism: marking a no-show moves no updated_at
                    _bump(inv, at)  # the invitee changes; the event's updated_at does not


def _ts(text: str) -> float:
    return parse(text)


def _bump(resource: Resource, at: str) -> None:
    if at > resource["updated_at"]:
        resource["updated_at"] = at
