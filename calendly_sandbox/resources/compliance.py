"""Data-compliance deletion of invitee and event data (Enterprise; organization owners and admins)."""

from __future__ import annotations

from typing import Any

from calendly_sandbox.app import Ctx, Reply, Routes, new_uuid
from calendly_sandbox.errors import UPGRADE_ENTERPRISE, bad_request
from calendly_sandbox.resources.activity import drop_communications, log_activity
from calendly_sandbox.store import uuid_of
from calendly_sandbox.timefmt import fmt, parse

MAX_DELETION_WINDOW_DAYS = 731  # "24 months"


def compliance_admin(ctx: Ctx) -> None:
    ctx.require_plan("enterprise", UPGRADE_ENTERPRISE)
    ctx.require_admin()


def record_request(ctx: Ctx, kind: str, detail: dict[str, Any]) -> None:
    log_activity(ctx, "DataCompliance", f"Delete{kind.title()}", detail)
    uuid = new_uuid(ctx, kind, len(ctx.store.data_compliance_requests))
    ctx.store.insert(
        "data_compliance_requests",
        uuid,
        {"kind": kind, "requested_by": ctx.me, "created_at": fmt(ctx.now()), **detail},
    )


def delete_invitee_data(ctx: Ctx) -> Reply:
    compliance_admin(ctx)
    emails = {e.lower() for e in ctx.body["emails"]}
    if not emails:
        raise bad_request("emails", "emails must not be empty")
    store = ctx.store
    doomed = [u for u, inv in store.invitees.items() if inv["email"].lower() in emails]
    remove_invitees(ctx, doomed)
    drop_communications(ctx, lambda comm: comm["to"].lower() in emails)
    record_request(ctx, "invitees", {"emails": sorted(emails), "invitees_removed": len(doomed)})
    return Reply(202, {})


def remove_invitees(ctx: Ctx, uuids: list[str]) -> None:
    """Erase invitees and what points at them; one pass over the other kinds."""
    store = ctx.store
    removed: set[str] = set()
    for inv_uuid in uuids:
        invitee = store.delete("invitees", inv_uuid)
        if invitee is None:
            continue
        removed.add(invitee["uri"])
        if invitee.get("no_show"):
            store.delete("invitee_no_shows", uuid_of(invitee["no_show"]["uri"]))
        event = store.find_by_uri("scheduled_events", invitee["event"])
        if event is not None:
            counter = event["invitees_counter"]
            counter["total"] = max(0, counter["total"] - 1)
            if invitee["status"] == "active":
                counter["active"] = max(0, counter["active"] - 1)
    for submission in store.routing_form_submissions.values():
        if submission["submitter"] in removed:
            submission["submitter"] = None
            submission["submitter_type"] = None


def delete_event_data(ctx: Ctx) -> Reply:
    compliance_admin(ctx)
    start, end = parse(ctx.body["start_time"]), parse(ctx.body["end_time"])
    if end <= start:
        raise bad_request("end_time", "end_time must be after start_time")
    if end > ctx.now():
        raise bad_request("end_time", "the range must be in the past")
    if end - start > MAX_DELETION_WINDOW_DAYS * 86_400:
        raise bad_request("end_time", "the range must not exceed 24 months")
    low, high = fmt(start), fmt(end)
    store = ctx.store
    doomed = [u for u, e in store.scheduled_events.items() if low <= e["start_time"] < high]
    remove_invitees(ctx, [i for u in doomed for i in store.invitees_by_event.get(u, [])])
    doomed_uris = {store.scheduled_events[u]["uri"] for u in doomed}
    for uuid in doomed:
        store.delete("scheduled_events", uuid)
    drop_communications(ctx, lambda comm: comm["event_uri"] in doomed_uris)
    record_request(
        ctx, "events", {"start_time": low, "end_time": high, "events_removed": len(doomed)}
    )
    return Reply(202, {})


ROUTES: Routes = (
    ("POST", "/data_compliance/deletion/invitees", delete_invitee_data),
    ("POST", "/data_compliance/deletion/events", delete_event_data),
)
