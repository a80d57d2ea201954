"""What the organization did: the activity log and outgoing communications (Enterprise admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calendly_sandbox.store import Resource
from calendly_sandbox.timefmt import DAY, fmt, parse

if TYPE_CHECKING:
    from calendly_sandbox.generator import Generator

from collections.abc import Callable

from calendly_sandbox.app import (
    CREATED_ASC,
    Ctx,
    Predicate,
    Routes,
    all_of,
    in_window,
    new_uuid,
    page,
    time_window,
)
from calendly_sandbox.errors import FORBIDDEN_RESOURCE, UPGRADE_ENTERPRISE
from calendly_sandbox.paging import TokenCodec
from calendly_sandbox.store import uuid_of

ACTIVITY_MAX_TOTAL = 10_000
ACTIVITY_ACTIONS = (
    ("User", "Login"),
    ("User", "Add"),
    ("EventType", "Create"),
    ("EventType", "Update"),
    ("Organization", "Update"),
    ("Invitation", "Send"),
    ("Routing", "Publish"),
    ("Workflow", "Enable"),
)


def enterprise_admin(ctx: Ctx) -> None:
    ctx.require_plan("enterprise", UPGRADE_ENTERPRISE)
    ctx.require_own_org(ctx.params["organization"])
    ctx.require_admin(FORBIDDEN_RESOURCE)


def filtered_total(ctx: Ctx, kind: str, predicate: Predicate | None) -> int:
    """Matches for the request's filters, cached per filter set until the kind changes."""
    table = ctx.store.kind(kind)
    key = TokenCodec.fingerprint(ctx.url_path, ctx.query)
    return ctx.store.count(
        kind, key, lambda: sum(1 for u in table if predicate is None or predicate(u))
    )


def log_activity(ctx: Ctx, namespace: str, action: str, details: dict[str, Any]) -> None:
    """Admin actions appear in the activity log, as they do in Calendly."""
    store = ctx.store
    actor = store.users[uuid_of(ctx.me)]
    uuid = new_uuid(ctx, namespace, action)
    store.insert(
        "activity_log_entries",
        uuid,
        {
            "occurred_at": fmt(ctx.now())[:23] + "Z",
            "actor": {
                "uri": actor["uri"],
                "type": "User",
                "organization": {
                    "uri": store.organization["uri"],
                    "role": store.role_of(actor["uri"]) or "user",
                },
                "display_name": actor["name"],
                "alternative_identifier": actor["email"],
            },
            "details": details,
            "fully_qualified_name": f"{namespace}.{action}",
            "uri": store.uri("activity_log_entries", uuid),
            "namespace": namespace,
            "action": action,
            "organization": store.organization["uri"],
        },
    )


def list_activity_log(ctx: Ctx) -> Any:
    enterprise_admin(ctx)
    table, p = ctx.store.activity_log_entries, ctx.params
    # Stored occurred_at has milliseconds; compare on the same precision.
    window = time_window(ctx, "min_occurred_at", "max_occurred_at", unit_us=1000)
    actors, namespaces, actions = (set(p.get(k) or ()) for k in ("actor", "namespace", "action"))
    terms = (p.get("search_term") or "").replace('"', " ").split()
    terms = [t.strip("+-()*|").lower() for t in terms if t.strip("+-()*|")]

    def matches(uuid: str) -> bool:
        entry = table[uuid]
        if actors and entry["actor"].get("uri") not in actors:
            return False
        if namespaces and entry["namespace"] not in namespaces:
            return False
        if actions and entry["action"] not in actions:
            return False
        if terms:
            text = " ".join(
                str(v) for v in (entry["fully_qualified_name"], entry["actor"], entry["details"])
            ).lower()
            return all(t in text for t in terms)
        return True

    predicate = all_of(
        matches if (actors or namespaces or actions or terms) else None,
        in_window(table, "occurred_at", window),
    )
    order = ctx.sort_order("occurred_at:desc")
    # The window can bound the walk only when the index is ordered by occurred_at first;
    # otherwise the predicate alone applies it.
    walk_window = window if order.fields[0] == "occurred_at" else (None, None)
    body = page(ctx, "activity_log_entries", order, predicate, window=walk_window)
    total = filtered_total(ctx, "activity_log_entries", predicate)
    body["last_event_time"] = max((e["occurred_at"] for e in body["collection"]), default=None)
    body["total_count"] = min(total, ACTIVITY_MAX_TOTAL)
    body["exceeds_max_total_count"] = total > ACTIVITY_MAX_TOTAL
    return body


def list_outgoing_communications(ctx: Ctx) -> Any:
    enterprise_admin(ctx)
    table = ctx.store.outgoing_communications
    window = time_window(ctx, "min_created_at", "max_created_at")
    predicate = in_window(table, "created_at", window)
    body = page(ctx, "outgoing_communications", CREATED_ASC, predicate, window=window)
    body["total_count"] = filtered_total(ctx, "outgoing_communications", predicate)
    return body


def drop_communications(ctx: Ctx, doomed: Callable[[Resource], bool]) -> None:
    store = ctx.store
    for uuid, comm in list(store.outgoing_communications.items()):
        if doomed(comm):
            store.delete("outgoing_communications", uuid)


# -- seeded data ----------------------------------------------------------------------------------
def seed_activity_log(gen: Generator, count: int) -> None:
    rng, store = gen.rng, gen.store
    org_uri = store.organization["uri"]
    shared = fmt(gen.past(10, 5))[:23] + "Z"
    tied = gen.cluster_size(count)
    for n in range(count):
        uuid = gen.uuid()
        actor = rng.choice(gen.users)
        namespace, action = rng.choice(ACTIVITY_ACTIONS)
        occurred = fmt(gen.recent())[:23] + "Z"  # the API shows milliseconds here
        if n < tied:
            occurred = shared
        entry: Resource = {
            "occurred_at": occurred,
            "actor": {
                "uri": actor["uri"],
                "type": "User",
                "organization": {"uri": org_uri, "role": store.role_of(actor["uri"]) or "user"},
                "display_name": actor["name"],
                "alternative_identifier": actor["email"],
            },
            "details": {"ip_address": f"203.0.113.{rng.randint(1, 254)}", "via": "web"},
            "fully_qualified_name": f"{namespace}.{action}",
            "uri": store.uri("activity_log_entries", uuid),
            "namespace": namespace,
            "action": action,
            "organization": org_uri,
        }
        if rng.random() < 0.05:
            entry["actor"] = {"type": "System", "display_name": "Calendly"}
        store.insert("activity_log_entries", uuid, entry)


def seed_communications(gen: Generator, count: int) -> None:
    rng, store = gen.rng, gen.store
    events = list(store.scheduled_events.values())
    shared = gen.now - 4 * DAY
    tied = gen.cluster_size(count)
    early = [e for e in events if parse(e["created_at"]) < shared - 600] or events
    for n in range(count):
        uuid = gen.uuid()
        event = rng.choice(events if n >= tied else early)
        host = event["event_memberships"][0]
        sent = min(parse(event["created_at"]) + rng.uniform(1, 600), gen.now - 10)
        if n < tied:
            sent = shared
        sms = rng.random() < 0.3
        inv_uuid = store.invitees_by_event[event["uri"].rsplit("/", 1)[-1]][0]
        to = store.invitees[inv_uuid]["email"]
        comm: dict[str, Any] = {
            "type": "sms" if sms else "email",
            "to": "+14155550123" if sms else to,
            "from": "+14155550100" if sms else "notifications@calendly.com",
            "subject": None if sms else f"Confirmed: {event['name']}",
            "body": f"Your meeting {event['name']} is confirmed. À bientôt!",
            "sender_uri": None if rng.random() < 0.3 else host["user"],
            "sender_email": None if rng.random() < 0.3 else host["user_email"],
            "event_type_uri": event["event_type"],
            "event_uri": event["uri"],
            "sent_at": fmt(sent),
            "created_at": fmt(sent - 1),
            "scheduling_url": "https://calendly.com/" + host["user_email"].split("@")[0],
        }
        store.insert("outgoing_communications", uuid, comm)


ROUTES: Routes = (
    ("GET", "/activity_log_entries", list_activity_log),
    ("GET", "/outgoing_communications", list_outgoing_communications),
)
