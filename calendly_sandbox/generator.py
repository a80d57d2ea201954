"""Seeded data for a realistic organization, generated relative to an anchor time.

Same seed and event count -> same uuids, names and times relative to the anchor. Every other
resource kind scales with the number of scheduled events (see `Scale`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from calendly_sandbox import names, realism
from calendly_sandbox.history import WINDOW_DAYS, EventHistory
from calendly_sandbox.resources import activity, routing, webhooks
from calendly_sandbox.resources.invitees import EMPTY_TRACKING
from calendly_sandbox.resources.organization import invitation_body, membership_user
from calendly_sandbox.store import Resource, Store
from calendly_sandbox.timefmt import DAY, fmt
from calendly_sandbox.uuids import random_uuid

PLAN_FIELDS = {  # --plan -> Organization.plan / Organization.stage
    "enterprise": ("enterprise", "paid"),
    "teams": ("teams", "paid"),
    "standard": ("standard", "paid"),
    "free": ("basic", "free"),
}
LEGACY_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
LEGACY_SHARE = 0.3  # users and event types created before UUIDs (hard realism)
OLD_RECORD_DAYS = 60  # hard realism: records older than this may lack later-added keys
LOCATION_KINDS = (
    "zoom_conference",
    "google_conference",
    "physical",
    "outbound_call",
    "inbound_call",
    "microsoft_teams_conference",
    "custom",
    "ask_invitee",
    "webex_conference",
    "gotomeeting_conference",
)


@dataclass(frozen=True)
class Scale:
    events: int
    users: int
    invitations: int
    groups: int
    routing_forms: int
    submissions: int
    activity: int
    webhooks: int
    communications: int

    @classmethod
    def for_events(cls, events: int) -> Scale:
        users = max(4, min(300, round(math.sqrt(max(events, 1)))))
        return cls(
            events=events,
            users=users,
            invitations=users // 3 + 3,
            groups=max(2, users // 8),
            routing_forms=max(2, users // 10),
            submissions=max(5, events // 10),
            activity=max(20, events // 2),
            webhooks=max(3, users // 10),
            communications=max(10, events // 4),
        )


class Generator:
    def __init__(self, store: Store, seed: int, now: float, plan: str) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.now = now
        self.plan = plan
        self.hard = store.hard
        self.users: list[Resource] = []
        self.event_types: list[Resource] = []
        self.hosts_of: dict[str, list[Resource]] = {}
        self.admins: list[Resource] = []
        self.submissions: list[Resource] = []

    # -- helpers -----------------------------------------------------------------------------
    def uuid(self) -> str:
        return random_uuid(self.rng)

    def legacy_id(self) -> str:
        """A 16-character uppercase id, as older Calendly users and event types carry."""
        return "".join(self.rng.choice(LEGACY_ID_CHARS) for _ in range(16))

    def id_for_older_kind(self) -> str:
        """Users and event types: a legacy id for a share of them under hard realism."""
        if self.hard and self.rng.random() < LEGACY_SHARE:
            return self.legacy_id()
        return self.uuid()

    @staticmethod
    def is_legacy(uri: str) -> bool:
        last = uri.rsplit("/", 1)[-1]
        return len(last) == 16 and last.isupper()

    def cluster_size(self, count: int) -> int:
        """Hard realism: this many rows share one sort value, so a page boundary can fall
        among them (more than a page once the data is large)."""
        return max(2, min(150, count // 8)) if self.hard else 0

    def past(self, max_days: float, min_days: float = 0.0) -> float:
        return self.now - self.rng.uniform(min_days, max_days) * DAY

    def recent(self) -> float:
        """A moment inside the window the seeded meetings span."""
        return self.past(WINDOW_DAYS)

    def person(self, index: int) -> tuple[str, str, str, str]:
        rng = self.rng
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        slug = names.slugify(f"{first} {last}", "person") + f"-{index}"
        email = f"{slug}@{rng.choice(names.COMPANIES)}.example.com"
        return first, last, f"{first} {last}", email

    # -- the organization --------------------------------------------------------------------
    def run(self, events: int) -> None:
        scale = Scale.for_events(events)
        self.organization()
        self.make_users(scale.users)
        self.make_invitations(scale.invitations)
        self.make_groups(scale.groups)
        self.make_event_types()
        self.make_availability()
        routing.seed_routing_forms(self, scale.routing_forms, scale.submissions)
        EventHistory(self).make_events(scale.events)
        webhooks.seed_webhooks(self, scale.webhooks)
        activity.seed_activity_log(self, scale.activity)
        activity.seed_communications(self, scale.communications)
        if self.hard:
            self.age_old_records()

    def organization(self) -> None:
        uuid = self.uuid()
        plan, stage = PLAN_FIELDS[self.plan]
        created = fmt(self.past(900, 800))
        org = {
            "uri": self.store.uri("organizations", uuid),
            "kind": "multiple",
            "name": "Sandbox Ünited Inc.",
            "plan": plan,
            "stage": stage,
            "created_at": created,
            "updated_at": fmt(self.past(30, 1)),
        }
        self.store.organization = org
        self.store.insert("organizations", uuid, org)

    def make_users(self, count: int) -> None:
        rng, store = self.rng, self.store
        for i in range(count):
            uuid = self.id_for_older_kind()
            _first, _last, name, email = self.person(i)
            slug = email.split("@", 1)[0]
            created = self.past(800, 200)
            user = {
                "uri": store.uri("users", uuid),
                "name": name,
                "slug": slug,
                "email": email,
                "scheduling_url": f"https://calendly.com/{slug}",
                "timezone": rng.choice(names.TIMEZONES),
                "time_notation": rng.choice(("12h", "24h")),
                "avatar_url": None
                if rng.random() < 0.4
                else f"https://avatars.example.com/{uuid}.png",
                "created_at": fmt(created),
                "updated_at": fmt(created + rng.uniform(0, 150) * DAY),
                "current_organization": store.organization["uri"],
                "resource_type": "User",
                "locale": rng.choice(("en", "en", "fr", "es", "de", "pt")),
            }
            if self.hard and len(uuid) == 16:
                del user["locale"]  # accounts older than the locale field
            store.insert("users", uuid, user)
            self.users.append(user)
            # Index 1 is always a plain member: Sandbox.member_token belongs to them.
            role = "owner" if i == 0 else ("admin" if i > 1 and rng.random() < 0.15 else "user")
            if role != "user":
                self.admins.append(user)
            m_uuid = self.uuid()
            store.insert(
                "organization_memberships",
                m_uuid,
                {
                    "uri": store.uri("organization_memberships", m_uuid),
                    "role": role,
                    "user": membership_user(user),
                    "organization": store.organization["uri"],
                    "updated_at": user["updated_at"],
                    "created_at": user["created_at"],
                },
            )
        store.current_user = self.users[0]

    def make_invitations(self, count: int) -> None:
        for i in range(count):
            status = ("pending", "pending", "accepted", "declined")[i % 4]
            _f, _l, _n, email = self.person(1000 + i)
            user_uri = self.rng.choice(self.users)["uri"] if status == "accepted" else None
            uuid = self.uuid()
            inv = invitation_body(self.store, uuid, email, status, self.past(200, 1), user_uri)
            if status != "pending":
                inv["updated_at"] = fmt(self.past(1, 0.01))
            self.store.insert("organization_invitations", uuid, inv)

    def make_groups(self, count: int) -> None:
        rng, store = self.rng, self.store
        memberships = list(store.organization_memberships.values())
        pending = [i for i in store.organization_invitations.values() if i["status"] == "pending"]
        for g in range(count):
            uuid = self.uuid()
            created = self.past(400, 100)
            group = {
                "uri": store.uri("groups", uuid),
                "name": f"{names.GROUP_NAMES[g % len(names.GROUP_NAMES)]} {g // 6 + 1}",
                "organization": store.organization["uri"],
                "created_at": fmt(created),
                "updated_at": fmt(created + rng.uniform(0, 90) * DAY),
                "member_count": 0,
            }
            store.insert("groups", uuid, group)
            chosen: list[tuple[Resource, str]] = [
                (m, "OrganizationMembership") for m in memberships if rng.random() < 0.3
            ]
            if pending and g == 0:
                chosen.append((pending[0], "OrganizationInvitation"))
            for owner, owner_type in chosen:
                r_uuid = self.uuid()
                rel_created = fmt(created + rng.uniform(0, 60) * DAY)
                store.insert(
                    "group_relationships",
                    r_uuid,
                    {
                        "uri": store.uri("group_relationships", r_uuid),
                        "role": "admin" if rng.random() < 0.2 else "member",
                        "owner": {**owner, "type": owner_type},
                        "organization": store.organization["uri"],
                        "group": group["uri"],
                        "created_at": rel_created,
                        "updated_at": rel_created,
                    },
                )
            group["member_count"] = len(chosen)

    def make_event_types(self) -> None:
        rng, store = self.rng, self.store
        position = 0
        for user in self.users:
            for _ in range(rng.randint(1, 3)):
                self.event_type(user, [user], kind="solo", position=position)
                position += 1
        hosts = self.users[: max(2, len(self.users) // 4)]
        for i in range(max(1, len(self.users) // 4)):
            owner = hosts[i % len(hosts)]
            self.event_type(owner, [owner], kind="group", position=position)
            team = rng.sample(self.users, k=min(3, len(self.users)))
            self.event_type(owner, team, kind="solo", position=position + 1, pooling="round_robin")
            position += 2
        # One deleted (inactive) type: listed with deleted_at set, the case hardest for a client.
        doomed = self.event_types[-1]
        doomed["active"] = False
        doomed["deleted_at"] = fmt(self.past(20, 2))
        doomed["updated_at"] = doomed["deleted_at"]
        self.event_types.pop()
        store.changed("event_types")

    def event_type(
        self,
        owner: Resource,
        hosts: list[Resource],
        *,
        kind: str,
        position: int,
        pooling: str | None = None,
    ) -> Resource:
        rng, store = self.rng, self.store
        uuid = self.id_for_older_kind()
        name = rng.choice(names.EVENT_TYPE_NAMES)
        slug = names.slugify(name, "meeting") + f"-{position}"
        duration = rng.choice((15, 30, 30, 45, 60, 90))
        created = self.past(500, 60)
        loc_kind = rng.choice(LOCATION_KINDS)
        questions = self.custom_questions()
        described = rng.random() < 0.6
        event_type: Resource = {
            "active": rng.random() < 0.92,
            "admin_managed": pooling is not None,
            "booking_method": "poll" if rng.random() < 0.03 else "instant",
            "color": f"#{rng.getrandbits(24):06x}",
            "created_at": fmt(created),
            "custom_questions": questions,
            "deleted_at": None,
            "description_html": f"<p>{name}: agenda &amp; notes</p>" if described else None,
            "description_plain": f"{name}: agenda & notes" if described else None,
            "duration": duration,
            "duration_options": None if rng.random() < 0.7 else sorted({duration, 15, 60}),
            "internal_note": None if rng.random() < 0.8 else "Bring the Q3 numbers",
            "is_paid": rng.random() < 0.15,
            "kind": kind,
            "locale": rng.choice(("en", "en", "fr", "es", "de", "nl", "pt", "it", "uk")),
            "locations": None
            if loc_kind == "custom"
            else [{"kind": loc_kind, "location": "Main office", "additional_info": ""}]
            if loc_kind == "physical"
            else [{"kind": loc_kind}],
            "name": name,
            "pooling_type": pooling,
            "position": position,
            "profile": {
                "type": "Team" if pooling else "User",
                "name": owner["name"] if not pooling else "Sales team",
                "owner": owner["uri"],
            },
            "scheduling_url": f"https://calendly.com/{owner['slug']}/{slug}",
            "secret": rng.random() < 0.1,
            "slug": slug,
            "type": "StandardEventType",
            "updated_at": fmt(created + rng.uniform(0, 50) * DAY),
            "uri": store.uri("event_types", uuid),
        }
        if self.hard and len(uuid) == 16 and not event_type["is_paid"]:
            del event_type["is_paid"]  # types older than paid events
        store.insert("event_types", uuid, event_type)
        if event_type["active"]:
            self.event_types.append(event_type)
        self.add_hosts(event_type, hosts)
        return event_type

    def custom_questions(self) -> list[Resource]:
        rng = self.rng
        return [
            {
                "name": q,
                "type": qtype,
                "position": i,
                "enabled": True,
                "required": i == 0,
                "answer_choices": list(names.ANSWERS[qtype]) if "select" in qtype else [],
                "include_other": qtype == "multi_select",
            }
            for i, (q, qtype) in enumerate(rng.sample(names.QUESTIONS, k=rng.randint(0, 3)))
        ]

    def add_hosts(self, event_type: Resource, hosts: list[Resource]) -> None:
        store = self.store
        self.hosts_of[event_type["uri"]] = hosts
        for host in hosts:
            m_uuid = self.uuid()
            store.insert(
                "event_type_memberships",
                m_uuid,
                {
                    "uri": store.uri("event_type_memberships", m_uuid),
                    "event_type": event_type,
                    "member": host,
                    "created_at": event_type["created_at"],
                    "updated_at": event_type["created_at"],
                },
            )

    def make_availability(self) -> None:
        rng, store = self.rng, self.store
        weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday")
        for user in self.users:
            for n in range(rng.randint(1, 2)):
                uuid = self.uuid()
                start_hour = rng.choice((8, 9, 10))
                rules: list[Resource] = [
                    {
                        "type": "wday",
                        "wday": day,
                        "intervals": [{"from": f"{start_hour:02d}:00", "to": "17:00"}],
                    }
                    for day in weekdays
                ]
                rules.append({"type": "wday", "wday": "sunday", "intervals": []})
                rules.append({"type": "date", "date": "2026-12-24", "intervals": []})
                store.insert(
                    "user_availability_schedules",
                    uuid,
                    {
                        "uri": store.uri("user_availability_schedules", uuid),
                        "default": n == 0,
                        "name": "Working hours" if n == 0 else "Horario de verano",
                        "user": user["uri"],
                        "timezone": user["timezone"],
                        "rules": rules,
                    },
                )

    def tracking(self) -> Resource:
        rng = self.rng
        if rng.random() < 0.65:
            return dict(EMPTY_TRACKING)
        return {
            "utm_campaign": rng.choice(names.UTM_CAMPAIGNS),
            "utm_source": rng.choice(names.UTM_SOURCES),
            "utm_medium": rng.choice(names.UTM_MEDIUMS),
            "utm_content": None if rng.random() < 0.5 else "hero-cta",
            "utm_term": None if rng.random() < 0.7 else "scheduling software",
            "salesforce_uuid": None if rng.random() < 0.8 else f"00Q{rng.getrandbits(48):012x}",
        }

    # -- the rest ------------------------------------------------------------------------------

    def age_old_records(self) -> None:
        """Hard realism: half the records older than OLD_RECORD_DAYS lack the keys Calendly
        added later (when those would be null) and their event's calendar_event."""
        cutoff = fmt(self.now - OLD_RECORD_DAYS * DAY)
        for event in self.store.scheduled_events.values():
            if event["created_at"] < cutoff and self.rng.random() < 0.5:
                event.pop("calendar_event", None)
        for invitee in self.store.invitees.values():
            if invitee["created_at"] < cutoff and self.rng.random() < 0.5:
                for key in realism.LATER_INVITEE_KEYS:
                    if invitee.get(key) is None:
                        invitee.pop(key, None)


def generate(store: Store, *, seed: int, events: int, now: float, plan: str) -> None:
    Generator(store, seed, now, plan).run(events)
