"""Meeting recaps and their transcripts: seeded, read, patched, deleted, and finished by
Notetaker (`sb.finish_recap(event_uri)`, announced as meeting_recap.created to the meeting's
hosts).

Choices where Calendly is unverified, hardest for a client first: recaps need a paid plan
(403 "Please upgrade to a paid Calendly account." on Free); a token sees only the recaps of
meetings its user hosted; by default only `available` recaps are listed (`status=` lists the
others); `processing` and `unavailable` recaps have no transcript (404). PATCH and DELETE
(the meeting's hosts) are announced as meeting_recap.updated / meeting_recap.deleted; PATCH
rejects unknown top-level keys, as the spec says, and leaves omitted fields as they were.
"""

from __future__ import annotations

import random
from typing import Any

from calendly_sandbox.app import START_ASC, Ctx, Reply, Routes, page, resource
from calendly_sandbox.errors import UPGRADE_PAID, ApiError, bad_request
from calendly_sandbox.store import Resource, Store, uuid_of
from calendly_sandbox.timefmt import fmt, parse
from calendly_sandbox.uuids import mint_uuid, random_uuid

RECAP_STATUSES = ("available", "processing", "unavailable")
EDITABLE = ("summary_md", "action_items_md", "discussion_md")


def seed_recaps(store: Store, rng: random.Random, now: float) -> None:
    past = sorted(
        (e for e in store.scheduled_events.values() if e["status"] == "active"),
        key=lambda e: (e["start_time"], e["uri"]),
    )
    past = [e for e in past if parse(e["end_time"]) < now]
    mine = [e for e in past if store.current_user["uri"] in store.event_hosts[uuid_of(e["uri"])]]
    past = sorted({e["uri"]: e for e in past[-20:] + mine[-20:]}.values(), key=lambda e: e["uri"])
    hosted = {e["uri"]: n for n, e in enumerate(mine)}
    for index, event in enumerate(past):
        uuid = random_uuid(rng)
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


def finish_recap(store: Store, event_uri: str, *, now: float) -> Resource:
    """Notetaker's recap of a meeting that has ended, available with its transcript."""
    event = store.scheduled_events.get(uuid_of(event_uri))
    if event is None or event["uri"] != event_uri:
        raise ValueError(f"no scheduled event {event_uri}")
    if event["status"] != "active" or parse(event["end_time"]) >= now:
        raise ValueError(f"{event_uri} is not a meeting that took place")
    if any(r["event"] == event_uri for r in store.meeting_recaps.values()):
        raise ValueError(f"{event_uri} already has a recap")
    uuid = mint_uuid(store, "meeting_recap", event_uri)
    recap = recap_of(store, uuid, event, status="available", created=now, updated=now)
    store.insert("meeting_recaps", uuid, recap)
    store.meeting_recap_hosts[uuid] = {m["user"] for m in event["event_memberships"]}
    store.transcripts[uuid] = transcript_of(recap, random.Random(uuid))
    announce_recap(store, "meeting_recap.created", uuid)
    return recap


ROUTES: Routes = (
    ("GET", "/meeting_recaps", list_recaps),
    ("GET", "/meeting_recaps/{uuid}", get_recap),
    ("PATCH", "/meeting_recaps/{uuid}", update_recap),
    ("DELETE", "/meeting_recaps/{uuid}", delete_recap),
    ("GET", "/meeting_recaps/{uuid}/transcript", get_transcript),
)
