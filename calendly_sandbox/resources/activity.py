"""What the organization did: the activity log and outgoing communications (Enterprise admins)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calendly_sandbox.app import (
    CREATED_ASC,
    Ctx,
    Predicate,
    all_of,
    in_window,
    new_uuid,
    page,
    time_window,
)
from calendly_sandbox.errors import FORBIDDEN_RESOURCE, UPGRADE_ENTERPRISE
from calendly_sandbox.paging import TokenCodec
from calendly_sandbox.store import Resource, uuid_of
from calendly_sandbox.timefmt import fmt

ACTIVITY_MAX_TOTAL = 10_000


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


# (method, path template, handler). The template is the spec's path: it keys the spec facts.
ROUTES: tuple[tuple[str, str, Callable[[Ctx], Any]], ...] = (
    ("GET", "/activity_log_entries", list_activity_log),
    ("GET", "/outgoing_communications", list_outgoing_communications),
)
