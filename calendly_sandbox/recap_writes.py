"""PATCH and DELETE /meeting_recaps/{uuid} (paid plans; the meeting's hosts), announced as
meeting_recap.updated / meeting_recap.deleted (happenings.py announces meeting_recap.created).
Unknown top-level keys are rejected, as the spec says; omitted fields are left as they were."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calendly_sandbox.app import Ctx, Reply
from calendly_sandbox.errors import bad_request
from calendly_sandbox.more_reads import get_recap, readable_recap, served_recap
from calendly_sandbox.store import Resource, Store
from calendly_sandbox.timefmt import fmt

EDITABLE = ("summary_md", "action_items_md", "discussion_md")


def _event_of(recap: Resource) -> dict[str, Any]:
    return {
        "uri": recap["event"],
        "name": recap["name"],
        "start_time": recap["start_time"],
        "end_time": recap["end_time"],
        "location": recap.get("location"),
        "attendees": recap["attendees"],
    }


def update_recap(ctx: Ctx) -> Any:
    uuid = ctx.path["uuid"]
    recap = readable_recap(ctx, uuid)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    unknown = sorted(set(body) - set(EDITABLE))
    if unknown:
        raise bad_request(unknown[0], f"unknown property {unknown[0]!r}")
    ctx.store.recap_texts.setdefault(uuid, {}).update(body)
    recap["updated_at"] = fmt(ctx.now())
    ctx.store.changed("meeting_recaps")
    answer = get_recap(ctx)
    announce_recap(ctx.store, "meeting_recap.updated", uuid)
    return answer


def announce_recap(store: Store, event: str, uuid: str) -> None:
    """meeting_recap.created / .updated, to the meeting's hosts (user-scope subscriptions)."""
    full = served_recap(store, uuid)
    payload = {
        "event": _event_of(full),
        "recap": {
            k: full[k]
            for k in ("uri", *EDITABLE, "transcript", "created_at", "updated_at")
            if full.get(k) is not None
        },
    }
    store.announce(event, payload, store.meeting_recap_hosts.get(uuid, set()))


def delete_recap(ctx: Ctx) -> Reply:
    uuid = ctx.path["uuid"]
    recap = readable_recap(ctx, uuid)
    hosts = ctx.store.meeting_recap_hosts.pop(uuid, set())
    ctx.store.delete("meeting_recaps", uuid)
    ctx.store.transcripts.pop(uuid, None)
    ctx.store.recap_texts.pop(uuid, None)
    payload: dict[str, Any] = {"recap": {"uri": recap["uri"], "deleted_at": fmt(ctx.now())}}
    if recap["event"]:
        payload["event"] = {"uri": recap["event"]}
    ctx.store.announce("meeting_recap.deleted", payload, hosts)
    return Reply(204)


RECAP_WRITE_ROUTES: tuple[tuple[str, str, Callable[[Ctx], Any]], ...] = (
    ("PATCH", "/meeting_recaps/{uuid}", update_recap),
    ("DELETE", "/meeting_recaps/{uuid}", delete_recap),
)
